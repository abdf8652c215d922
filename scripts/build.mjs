// Builds the package: ESM (dist/esm), CommonJS (dist/cjs) and type declarations
// (dist/types) from src/, with the TypeScript compiler installed by `npm ci`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');

function run(args) {
  execFileSync(process.execPath, [tsc, ...args], { cwd: root, stdio: 'inherit' });
}

rmSync(join(root, 'dist'), { recursive: true, force: true });
run(['-p', 'tsconfig.json', '--outDir', 'dist/esm', '--declaration', 'false']);
run(['-p', 'tsconfig.json', '--outDir', 'dist/cjs', '--module', 'CommonJS', '--moduleResolution', 'node10', '--declaration', 'false']);
run(['-p', 'tsconfig.json', '--outDir', 'dist/types', '--emitDeclarationOnly', '--declaration', '--sourceMap', 'false']);
for (const [dir, type] of [['esm', 'module'], ['cjs', 'commonjs']]) {
  mkdirSync(join(root, 'dist', dir), { recursive: true });
  writeFileSync(join(root, 'dist', dir, 'package.json'), JSON.stringify({ type }) + '\n');
}
console.log('built dist/esm, dist/cjs, dist/types');
