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
  // A helper that ends takes a moment to give its memory back, so single samples
  // jump now and then: the lowest of the late lifecycles against the lowest of
  // the early ones (allocators warmed up), which a leak would raise by ~50 MB each.
  const low = (from: number, to: number): number => Math.min(...runs.slice(from, to).map((r) => r.rss));
  const growth = low(6, 10) - low(1, 4);
  assert.ok(growth < 40e6, `RSS grew by ${(growth / 1e6).toFixed(0)} MB: ${runs.map((r) => (r.rss / 1e6).toFixed(0)).join(', ')} MB`);
});
