/**
 * Memory returns after optimizer lifecycles on the cpu kernel's helper-thread
 * path (variables of 2^22 elements, each lifecycle a 48 MiB shared memory): the
 * resident set size stays flat, measured in a process of its own after
 * collecting garbage. Before the helper let go of its memories, it grew by
 * about 50 MB per lifecycle.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { helperThreadPossible } from '../../src/kernels/cpu/helper_thread.js';

test('RSS is flat over repeated helper-thread lifecycles', { skip: !helperThreadPossible() && 'no helper thread here (one core?)' }, () => {
  const script = fileURLToPath(new URL('./helper_lifecycles_fixture.ts', import.meta.url));
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', script], {
    encoding: 'utf8', timeout: 180_000, env: { ...process.env, LIFECYCLES: '10' },
  });
  const runs = out.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { kernel: string; rss: number; tensors: number });
  assert.equal(runs.length, 10);
  assert.ok(runs.some((r) => r.kernel === 'cpu-simd-threaded'), `the helper took part: ${runs.map((r) => r.kernel).join(', ')}`);
  assert.ok(runs.every((r) => r.tensors === 0));
  // A leak adds one lifecycle's memory (~50 MB) per lifecycle: over 200 MB between
  // the early and the late lifecycles, and ~150 MB across the last four. A helper
  // that ends takes a moment to give its memory back, and on a busy machine one
  // lifecycle's memory may still be held when the process samples (seen once: a
  // single step of 52 MB, flat afterwards), so the bounds leave room for that.
  const mb = runs.map((r) => (r.rss / 1e6).toFixed(0)).join(', ');
  const low = (from: number, to: number): number => Math.min(...runs.slice(from, to).map((r) => r.rss));
  const growth = low(6, 10) - low(1, 4);
  assert.ok(growth < 100e6, `RSS grew by ${(growth / 1e6).toFixed(0)} MB: ${mb} MB`);
  const late = runs[9].rss - low(6, 9);
  assert.ok(late < 40e6, `RSS still grows at the end, by ${(late / 1e6).toFixed(0)} MB over the last four lifecycles: ${mb} MB`);
});
