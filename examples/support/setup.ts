/**
 * What every example needs before its first tensor: the full TF.js bundle (its
 * gradients and tfjs-layers), the backend named by `--backend` (cpu unless told
 * otherwise; wasm also works), and a main that prints errors without a stack trace.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export { tf };

const BACKENDS = ['cpu', 'wasm'];

export async function setUpBackend(argv: readonly string[] = process.argv.slice(2)): Promise<string> {
  // TF.js suggests tfjs-node on first use in Node; the examples run without it.
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('tfjs-node')) return;
    warn(...args);
  };
  const i = argv.indexOf('--backend');
  const name = i >= 0 ? argv[i + 1] : 'cpu';
  if (!BACKENDS.includes(name)) throw new Error(`--backend must be ${BACKENDS.join(' or ')}, got ${String(name)}`);
  if (!(await tf.setBackend(name))) throw new Error(`could not start the ${name} backend`);
  await tf.ready();
  return name;
}

/** Runs an example; a failed check or error prints one line and exits 1. */
export function runExample(main: () => Promise<void>): void {
  main().catch((e: unknown) => {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}

/** Throws when a result the example promises does not hold. */
export function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`check failed: ${what}`);
}
