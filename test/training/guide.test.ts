/**
 * The worked examples of docs/keras3-features.md run as written (against the
 * build, as users import the package) and print what the guide says they do.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { RMSprop } from '../../src/index.js';
import { runTs } from '../examples/run.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const guide = readFileSync(join(root, 'docs', 'keras3-features.md'), 'utf8');
const blocks = [...guide.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
// Inside the package (out/ is ignored by git), so `import 'rmsprop'` resolves to this build.
const dir = join(root, 'out', `guide-${process.pid}`);
mkdirSync(dir, { recursive: true });
after(() => rmSync(dir, { recursive: true, force: true }));

/** What each example prints, in the guide's order. */
const EXPECTED: ReadonlyArray<RegExp | null> = [
  /^the kernel is its average: true$/m,
  /^128 batches, 16 updates$/m,
  /^applied 100, skipped 0$/m,
  null,
];

function acceptsNonFinite(): boolean {
  try {
    new RMSprop({ nonFinite: 'skip' } as never).dispose();
    return true;
  } catch {
    return false;
  }
}

test('the guide has its four worked examples', () => assert.equal(blocks.length, EXPECTED.length));

blocks.forEach((code, i) => {
  const needsNonFinite = code.includes('nonFinite');
  test(`example ${i + 1} runs and prints what the guide says`, { skip: needsNonFinite && !acceptsNonFinite() ? 'needs the nonFinite option' : false }, async () => {
    const file = join(dir, `example-${i + 1}.mts`);
    writeFileSync(file, code);
    const r = await runTs(file);
    assert.equal(r.code, 0, `exit ${r.code}:\n${r.stderr}${r.stdout}`);
    const expected = EXPECTED[i];
    if (expected !== null) assert.match(r.stdout, expected);
  });
});
