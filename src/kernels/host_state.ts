/**
 * Host access to an optimizer-owned float32 tensor on the backends that keep it
 * in host memory (`cpu`: its Float32Array; `wasm`: a view of the heap), so a
 * pass that is not part of a dense kernel run (the EMA of a table a sparse step
 * updated, rows of a gradient accumulator, writing the averages into the
 * weights) works in place at the cost of what it touches. Null elsewhere, and
 * when the tensor's buffer is shared: the caller then uses tensor ops.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { cpuOwnedValues } from './cpu/storage.js';
import { markWritten, wasmBackend, wasmMemory, wasmWritableOffset } from './wasm/heap.js';

export interface HostArray {
  readonly values: Float32Array;
  /** Call after writing `values` (tells tfjs-wasm's caches; nothing on cpu). */
  written(): void;
}

const NOTHING = (): void => {};

/**
 * A writable host view of `t`, or null. A wasm view is valid until the heap
 * grows: use it before creating any tensor.
 */
export function hostArray(t: tf.Tensor): HostArray | null {
  const values = cpuOwnedValues(t);
  if (values !== null) return { values, written: NOTHING };
  const b = wasmBackend();
  if (b === null) return null;
  const memory = wasmMemory(b);
  const offset = wasmWritableOffset(b, t);
  if (memory === null || offset === null) return null;
  return { values: new Float32Array(memory.buffer, offset, t.size), written: () => markWritten(b, t) };
}
