/**
 * The fuzz tests (test/fuzz/, and test/browser/gpu_fuzz.test.ts) at a length of
 * your choosing: every property runs `--runs` cases from `--seed` (a new seed
 * each time when none is given). A failure prints fast-check's seed and path and
 * the shrunk counterexample; the lines it prints at the end replay it.
 *
 *   npm run fuzz -- [--runs 2000] [--seed 12345] [--only parity]
 *
 * `--only gpu` runs the GPU kernels' fuzz alone (Node's WebGPU and Chromium's).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const runs = Number(arg('runs') ?? 2000);
const seed = Number(arg('seed') ?? Math.floor(Math.random() * 2 ** 31));
const only = arg('only');
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed)) {
  console.error('usage: npm run fuzz -- [--runs N] [--seed S] [--only NAME]');
  process.exit(2);
}
// The GPU kernels' fuzz in Chromium lives with the browser tests (it drives a page).
const all = [...readdirSync('test/fuzz').filter((f) => f.endsWith('.test.ts')).map((f) => `test/fuzz/${f}`), 'test/browser/gpu_fuzz.test.ts'];
const files = all.filter((f) => only === undefined || f.split('/').pop()?.includes(only));
if (files.length === 0) {
  console.error(`no fuzz test file matches --only ${only}`);
  process.exit(2);
}
console.log(`fuzz: ${runs} cases per property, seed ${seed}, ${files.join(' ')}`);
const started = Date.now();
const r = spawnSync(process.execPath, ['scripts/test.mjs', ...files], {
  stdio: 'inherit', env: { ...process.env, FUZZ_RUNS: String(runs), FUZZ_SEED: String(seed) },
});
console.log(`fuzz: seed ${seed}, ${runs} cases per property, ${((Date.now() - started) / 1000).toFixed(0)} s, ${r.status === 0 ? 'passed' : 'FAILED'}`);
if (r.status !== 0) {
  console.log('replay a failure: FUZZ_SEED=<seed> FUZZ_PATH=<path> node scripts/test.mjs <file> --test-name-pattern=<test>, seed and path as fast-check printed them');
}
process.exit(r.status ?? 1);
