/**
 * `npm run docs`: TypeDoc builds the API reference from the doc comments of both
 * entry points (rmsprop and rmsprop/layers).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

test('npm run docs builds an API reference with the public classes', () => {
  const out = mkdtempSync(join(tmpdir(), 'rmsprop-docs-'));
  try {
    // typedoc's package exports hide bin/; find it from the package root.
    const root = join(createRequire(import.meta.url).resolve('typedoc/package.json'), '..');
    const typedoc = join(root, 'bin', 'typedoc');
    const r = spawnSync(process.execPath, [typedoc, '--out', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.ok(existsSync(join(out, 'index.html')));
    const pages = readdirSync(out, { recursive: true }).map(String).join('\n');
    for (const name of ['RMSprop', 'IndexedSlices', 'SparseEmbedding', 'ExponentialDecay', 'embeddingLookup', 'useRMSpropForOptimizerStrings']) {
      assert.match(pages, new RegExp(name), `a page for ${name}`);
    }
    const rmsprop = readdirSync(out, { recursive: true }).map(String).find((p) => /RMSprop\.html$/.test(p));
    assert.ok(rmsprop);
    assert.match(readFileSync(join(out, rmsprop), 'utf8'), /applyGradients/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
