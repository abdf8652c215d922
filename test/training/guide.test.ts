/**
 * The worked examples of docs/keras3-features.md run as written (against the
 * build, as users import the package) and print what the guide says they do:
 * each `// → text` comment is a line the example must print, in that order.
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

/** The lines a block promises to print. */
function expectedLines(code: string): string[] {
  return code.split('\n').flatMap((l) => {
    const m = /\/\/ → (.*)$/.exec(l);
    return m ? [m[1].trim()] : [];
  });
}

function acceptsNonFinite(): boolean {
  try {
    new RMSprop({ nonFinite: 'skip' } as never).dispose();
    return true;
  } catch {
    return false;
  }
}

test('the guide has its four worked examples, three of them with output to check', () => {
  assert.equal(blocks.length, 4);
  assert.equal(blocks.filter((b) => expectedLines(b).length > 0).length, 3);
});

blocks.forEach((code, i) => {
  const needsNonFinite = code.includes('nonFinite');
  test(`example ${i + 1} runs and prints what the guide says`, { skip: needsNonFinite && !acceptsNonFinite() ? 'needs the nonFinite option' : false }, async () => {
    const file = join(dir, `example-${i + 1}.mts`);
    writeFileSync(file, code);
    const r = await runTs(file);
    assert.equal(r.code, 0, `exit ${r.code}:\n${r.stderr}${r.stdout}`);
    const printed = r.stdout.split('\n').map((l) => l.trim());
    let at = 0;
    for (const line of expectedLines(code)) {
      const found = printed.indexOf(line, at);
      assert.ok(found >= 0, `expected "${line}" to be printed; printed:\n${r.stdout}`);
      at = found + 1;
    }
  });
});
