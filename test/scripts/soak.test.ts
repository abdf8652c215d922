/**
 * The soak script at a tiny scale: it runs the children, samples, and writes a
 * Markdown table and an SVG plot with a row and two panels per run; the tensor
 * counts stay flat (its exit code says so).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

test('npm run soak at a tiny scale writes its table and plot, tensors flat', () => {
  const dir = mkdtempSync(join(tmpdir(), 'soak-'));
  try {
    const runs = ['fit-cpu', 'sparse-wasm', 'lifecycles-2^20-cpu', 'fit-features-wasm'];
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'scripts/soak.ts', '--scale', '0.0005', '--runs', runs.join(','),
      '--md', join(dir, 'soak.md'), '--svg', join(dir, 'soak.svg')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const md = readFileSync(join(dir, 'soak.md'), 'utf8');
    const svg = readFileSync(join(dir, 'soak.svg'), 'utf8');
    for (const name of runs) {
      const row = md.split('\n').find((l) => l.startsWith(`| ${name} (`));
      assert.ok(row !== undefined, `a row for ${name}`);
      // fit: 50 steps sampled every 5; lifecycles: 2, every one.
      assert.match(row, name.startsWith('lifecycles') ? /\| 2 \| 1 \|/ : /\| 50 \| 5 \|/);
      assert.ok(svg.includes(`${name}: memory (MB)`) && svg.includes(`${name}: live tensors`), `panels for ${name}`);
    }
    assert.equal((svg.match(/<polyline /g) ?? []).length, 2 + 1 + 3 + 1 + 2 + 1 + 3 + 1, 'RSS, heap (and wasm heap) and tensor lines');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
