/**
 * TF.js for the tests: the full @tensorflow/tfjs bundle (which registers the
 * gradients and tfjs-layers) plus the wasm backend, and helpers to run a suite
 * on each backend in Node.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export { tf };

export const BACKENDS = ['cpu', 'wasm'] as const;
export type BackendName = (typeof BACKENDS)[number];

// tfjs prints a hint to install tfjs-node on first use; it cannot be installed here.
const originalWarn = console.warn;
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].includes('tfjs-node')) return;
  originalWarn(...args);
};

export async function useBackend(name: BackendName): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok || tf.getBackend() !== name) throw new Error(`could not start the ${name} backend`);
  await tf.ready();
}

/** |actual − expected| ≤ atol + rtol·|expected|, elementwise, with a message naming the first miss. */
export function assertClose(
  actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number, what: string,
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  }
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const ok = Number.isNaN(e) ? Number.isNaN(a) : Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (!ok) {
      throw new Error(`${what}[${i}]: got ${a}, expected ${e} (|diff| ${Math.abs(a - e)} > ${atol} + ${rtol}·|expected|)`);
    }
  }
}

/** Bitwise equality of two float32 arrays (NaN equal to NaN, +0 distinct from -0). */
export function assertBitEqual(actual: Float32Array, expected: Float32Array, what: string): void {
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  if (a.length !== e.length) throw new Error(`${what}: length ${a.length}, expected ${e.length}`);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== e[i]) throw new Error(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]} (bits differ)`);
  }
}

/** What `model.save(..., { includeOptimizer: true })` writes, kept in memory. */
export async function saveWithOptimizer(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }), { includeOptimizer: true });
  if (artifacts === undefined) throw new Error('model.save wrote nothing');
  return artifacts;
}

/**
 * Runs the garbage collector (tests run with --expose-gc) and lets finalizers
 * run: what the optimizer handed out and the caller dropped is freed then.
 */
export async function collectGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc (scripts/test.mjs does)');
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}
