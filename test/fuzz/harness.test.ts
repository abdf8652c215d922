/**
 * The fuzz harness's memory watch can fail: a byte written into the padding or
 * into another tensor's region of the cpu kernel memory, or into a canary on
 * the wasm heap, is reported; a step that writes only what it should is not.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RMSprop } from '../../src/index.js';
import { createdCpuBackend } from '../../src/kernels/cpu/storage.js';
import { wasmBackend, wasmMemory } from '../../src/kernels/wasm/heap.js';
import { tf, useBackend } from '../support/tf.js';
import { CpuWatch, HeapCanaries, rawSlots } from './harness.js';

describe('fuzz harness: the memory watch', () => {
  test('cpu: a write into padding or into a region the step must not write is caught', async () => {
    await useBackend('cpu');
    const a = tf.tidy(() => tf.variable(tf.linspace(1, 5, 5)));
    const b = tf.tidy(() => tf.variable(tf.linspace(1, 3, 3)));
    const opt = new RMSprop({ momentum: 0.9 });
    try {
      tf.tidy(() => opt.applyGradients([[tf.ones([5]), a], [tf.ones([3]), b]]));
      assert.equal(opt.lastStepKernels()[0].kernel, 'cpu-simd');
      const tensors = [a, b].flatMap((v) => [v, rawSlots(opt, v)!.rms, rawSlots(opt, v)!.momentum!]);
      const view = createdCpuBackend()!.data.get(a.dataId as object).values as Float32Array;
      const bytes = new Uint8Array(view.buffer);
      const written = new Set<tf.Tensor>(tensors.slice(0, 3));

      let watch = new CpuWatch(tensors);
      tf.tidy(() => opt.applyGradients([[tf.ones([5]), a]]));
      watch.verify(written, 'a step of a');

      watch = new CpuWatch(tensors);
      const pad = view.byteOffset + view.byteLength + 1; // 5 floats are padded to 8
      bytes[pad] ^= 1;
      assert.throws(() => watch.verify(written, 'padding'), /padding: the cpu kernel memory changed at byte \d+ \(outside every region: padding\)/);
      bytes[pad] ^= 1;

      watch = new CpuWatch(tensors);
      const other = createdCpuBackend()!.data.get(b.dataId as object).values as Float32Array;
      other[1] += 1;
      assert.throws(() => watch.verify(written, 'b'), /b: the cpu kernel memory changed at byte \d+ \(in the region of a tensor the step must not write\)/);
    } finally {
      opt.dispose();
      tf.dispose([a, b]);
    }
  });

  test('wasm: a write into a canary block is caught', async () => {
    await useBackend('wasm');
    const canaries = new HeapCanaries();
    canaries.add(16);
    canaries.add(40);
    canaries.check('untouched');
    try {
      const heap = new Uint8Array(wasmMemory(wasmBackend()!)!.buffer);
      const block = (canaries as unknown as { blocks: Array<{ ptr: number }> }).blocks[1].ptr;
      heap[block + 39] ^= 0x10;
      assert.throws(() => canaries.check('written'), /written: a canary on the wasm heap changed at \d+\+39/);
    } finally {
      canaries.free();
    }
  });
});
