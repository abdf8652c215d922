/**
 * The README stays an entry: at most 20 KB, with install, the three commands,
 * both quick starts, options, API and the guides; README and guides speak to
 * users, never of the sessions or issues the project was built in.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { headingAnchors, prose, userDocs } from './markdown.js';

test('README: at most 20 KB, with the sections a newcomer needs', () => {
  const size = statSync('README.md').size;
  assert.ok(size <= 20 * 1024, `README.md is ${size} bytes`);
  const anchors = headingAnchors(readFileSync('README.md', 'utf8'));
  for (const section of ['install', 'three-commands', 'quick-start-node', 'quick-start-browser', 'options', 'api', 'guides']) {
    assert.ok(anchors.has(section), `a section #${section}`);
  }
});

test('README and guides do not talk about sessions or issues', () => {
  const found: string[] = [];
  for (const file of userDocs()) {
    prose(readFileSync(file, 'utf8')).split('\n').forEach((line, i) => {
      // Upstream bug references are links (tfjs#4290); our own tracker's are not for users.
      const text = line.replace(/\[[^\]]*\]\(https?:[^)]*\)/g, '');
      if (/\bsessions?\b|\bissues?\b/i.test(text)) found.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(found, []);
});
