/**
 * `npm run docs`: TypeDoc builds one site from the doc comments of both entry
 * points (rmsprop and rmsprop/layers), the README as its front page, and the
 * guides in docs/, without a single warning; the links between them resolve
 * in the built site, anchors included.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { test } from 'node:test';

test('npm run docs builds the API reference and the guides as one site, with no warnings', () => {
  const out = mkdtempSync(join(tmpdir(), 'rmsprop-docs-'));
  try {
    // typedoc's package exports hide bin/; find it from the package root.
    const root = join(createRequire(import.meta.url).resolve('typedoc/package.json'), '..');
    const typedoc = join(root, 'bin', 'typedoc');
    const r = spawnSync(process.execPath, [typedoc, '--out', out], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    const log = r.stdout + r.stderr;
    assert.equal(r.status, 0, log);
    // Also when someone turns treatWarningsAsErrors off: a warning fails this test.
    assert.doesNotMatch(log, /warning/i, log);
    assert.ok(existsSync(join(out, 'index.html')));

    const pages = readdirSync(out, { recursive: true }).map(String);
    for (const name of ['RMSprop', 'IndexedSlices', 'SparseEmbedding', 'ExponentialDecay', 'embeddingLookup', 'useRMSpropForOptimizerStrings']) {
      assert.ok(pages.some((p) => p.includes(name)), `a page for ${name}`);
    }
    const rmsprop = pages.find((p) => /RMSprop\.html$/.test(p));
    assert.ok(rmsprop);
    assert.match(readFileSync(join(out, rmsprop), 'utf8'), /applyGradients/);

    // The front page is the README, and every guide in docs/ is a page of the site.
    assert.match(readFileSync(join(out, 'index.html'), 'utf8'), /Quick start: Node/);
    const guides = readdirSync('docs').filter((f) => f.endsWith('.md'));
    assert.ok(guides.length >= 6, `guides: ${guides.join(', ')}`);
    for (const g of guides) assert.ok(pages.includes(join('documents', g.replace(/\.md$/, '.html'))), `a page for docs/${g}`);

    // Links from the front page and the guides resolve in the built site.
    const broken: string[] = [];
    let anchors = 0;
    for (const page of ['index.html', ...pages.filter((p) => p.startsWith('documents/') && p.endsWith('.html'))]) {
      const html = readFileSync(join(out, page), 'utf8');
      for (const [, href] of html.matchAll(/(?:href|src)="([^"]+)"/g)) {
        if (/^[a-z][a-z0-9+.-]*:|^#|^$/i.test(href)) continue;
        const [path, anchor] = href.split('#', 2);
        const target = normalize(join(dirname(join(out, page)), path));
        if (!existsSync(target)) { broken.push(`${page}: ${href}`); continue; }
        if (anchor === undefined) continue;
        anchors++;
        if (!readFileSync(target, 'utf8').includes(`id="${anchor}"`)) broken.push(`${page}: ${href} (no such anchor)`);
      }
    }
    assert.deepEqual(broken, []);
    assert.ok(anchors >= 5, `${anchors} links with an anchor checked`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
