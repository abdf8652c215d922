/**
 * The fuzz tests (test/fuzz/) at a length of your choosing: every property runs
 * `--runs` cases from `--seed` (a new seed each time when none is given). A
 * failure prints fast-check's seed and path and the shrunk counterexample; the
 * lines it prints at the end replay it.
 *
 *   npm run fuzz -- [--runs 2000] [--seed 12345] [--only parity]
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
const files = readdirSync('test/fuzz').filter((f) => f.endsWith('.test.ts') && (only === undefined || f.includes(only))).map((f) => `test/fuzz/${f}`);
if (files.length === 0) {
  console.error(`no test/fuzz/*.test.ts matches --only ${only}`);
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
