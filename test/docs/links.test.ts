/**
 * Every relative link and image in README.md and docs/ resolves, anchors
 * included (GitHub's heading anchors), and every `docs/...` file that code,
 * comments or help texts name exists.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, test } from 'node:test';
import { headingAnchors, links, slug, userDocs } from './markdown.js';

describe('links in README and docs', () => {
  test('the slugs are GitHub\'s', () => {
    assert.equal(slug('Porting from PyTorch / Keras 3 / TF.js'), 'porting-from-pytorch--keras-3--tfjs');
    assert.equal(slug('The main job: `npm start`'), 'the-main-job-npm-start');
    assert.equal(slug('Sparse gradients'), 'sparse-gradients');
    assert.deepEqual([...headingAnchors('# A\n## A\n```\n# not a heading\n```\n### B.c')], ['a', 'a-1', 'bc']);
  });

  for (const file of userDocs()) {
    test(`${file}: every relative link and anchor resolves`, () => {
      const text = readFileSync(file, 'utf8');
      const broken: string[] = [];
      for (const { target, line } of links(text)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, data:
        const [path, anchor] = target.split('#', 2) as [string, string | undefined];
        const resolved = path === '' ? file : normalize(join(dirname(file), decodeURIComponent(path)));
        if (!existsSync(resolved)) {
          broken.push(`${file}:${line}: ${target} (no file ${resolved})`);
          continue;
        }
        if (anchor !== undefined) {
          if (!resolved.endsWith('.md')) {
            broken.push(`${file}:${line}: ${target} (an anchor into a file that is not Markdown)`);
          } else if (!headingAnchors(readFileSync(resolved, 'utf8')).has(anchor)) {
            broken.push(`${file}:${line}: ${target} (no heading #${anchor} in ${resolved})`);
          }
        }
      }
      assert.deepEqual(broken, []);
    });
  }

  test('every repository file named in code spans (`src/...`, `scripts/...`, ...) exists', () => {
    // Guides name source files to read next; a file moved or renamed must take its mentions along.
    const missing: string[] = [];
    for (const file of userDocs()) {
      readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        for (const [, path] of line.matchAll(/`((?:src|wasm-src|app|web|scripts|examples|test)\/[\w./-]+)`/g)) {
          // A generated file exists after `npm run build`; its folder must exist in any case.
          const expected = path.includes('.generated.') ? dirname(path) : path;
          if (!existsSync(expected)) missing.push(`${file}:${i + 1}: ${path}`);
        }
      });
    }
    assert.deepEqual(missing, []);
  });

  test('README and docs link to something (the parser finds links)', () => {
    const found = links(readFileSync('README.md', 'utf8'));
    assert.ok(found.some((l) => l.target.startsWith('docs/')), 'README links into docs/');
  });
});

describe('docs/ paths named in code', () => {
  const SOURCES = ['app', 'src', 'web', 'examples', 'scripts', 'test', 'wasm-src'];
  const files = SOURCES.filter(existsSync).flatMap((dir) => readdirSync(dir, { recursive: true }).map((f) => join(dir, String(f))))
    .filter((f) => /\.(ts|mts|cts|js|mjs|cjs|json|html)$/.test(f) && statSync(f).isFile())
    .concat(['package.json', 'typedoc.json']);

  test('every docs/... file mentioned in code, comments and help texts exists', () => {
    const missing: string[] = [];
    let mentions = 0;
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/(?<![\w/.-])docs\/[\w./-]*\w/g)) {
        // A path in a test's own fixtures or in a glob is not a reference to a guide.
        if (m[0].includes('*')) continue;
        mentions++;
        if (!existsSync(m[0])) missing.push(`${relative('.', f)}: ${m[0]}`);
      }
    }
    assert.ok(mentions > 0, 'the scan finds the mentions (app/cli.ts names docs/main-job.md)');
    assert.deepEqual(missing, []);
  });
});
