/**
 * What `npm pack` puts in the tarball is what a user needs: the three builds
 * (ESM, CommonJS, type declarations), the sources their source maps point to,
 * the README and package.json; nothing from the repository's tooling, and no
 * type declaration that spells out the embedded WebAssembly as a string type.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';

interface Packed {
  readonly files: ReadonlyArray<{ readonly path: string; readonly size: number }>;
  readonly size: number;
}

test('npm pack: the builds, sources, README and package.json, and nothing else', { skip: !existsSync('dist/cjs/index.js') && 'dist/ not built (npm run build)' }, () => {
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  })) as Packed[];
  const paths = packed.files.map((f) => f.path);
  for (const needed of ['package.json', 'README.md', 'dist/esm/index.js', 'dist/cjs/index.js', 'dist/types/index.d.ts',
    'dist/esm/layers/index.js', 'dist/cjs/layers/index.js', 'dist/types/layers/index.d.ts', 'dist/esm/package.json', 'dist/cjs/package.json']) {
    assert.ok(paths.includes(needed), `the tarball holds ${needed}`);
  }
  const tops = [...new Set(paths.map((p) => p.split('/')[0]))].sort();
  assert.deepEqual(tops, ['README.md', 'dist', 'package.json', 'src']);
  // The generated kernel bytes are in the .js builds already; their source is only base64.
  assert.deepEqual(paths.filter((p) => p.startsWith('src/') && p.includes('.generated.')), []);
  const declarations = packed.files.filter((f) => f.path.endsWith('.d.ts'));
  const largest = declarations.reduce((a, b) => (b.size > a.size ? b : a));
  // The largest real declaration (the RMSprop class) is about 6 KB; a literal type of the
  // embedded modules' base64 was 22 KB.
  assert.ok(largest.size < 10_000, `${largest.path} is ${largest.size} bytes`);
});
