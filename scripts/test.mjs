// Runs Node's test runner over every test/**/*.test.ts (Node 20's runner has no
// glob support), with tsx for TypeScript. Extra arguments are passed through,
// e.g. `npm test -- --test-name-pattern=clip`; file arguments narrow the run.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? find(p) : p.endsWith('.test.ts') ? [p] : [];
  });
}

const args = process.argv.slice(2);
const files = args.filter((a) => a.endsWith('.ts'));
const flags = args.filter((a) => !a.endsWith('.ts'));
const targets = files.length ? files : find('test').map((p) => relative('.', p)).sort();
const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--test', '--test-concurrency=2', ...flags, ...targets], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
