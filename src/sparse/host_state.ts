/**
 * Host arrays for a sparse step: the live buffers of the variable and its slots
 * where the backend allows writing in place (cpu: the tensor's Float32Array;
 * wasm: a view of the heap), else a copy that is written back with `assign`
 * (other backends, or a buffer shared with another tensor). The in-place route
 * costs what the indexed rows cost; the copy route costs the table.
 */
import * as tf from '@tensorflow/tfjs-core';
import { cpuOwnedValues } from '../kernels/cpu_backend.js';
import {
  markWritten, wasmBackend, wasmMemory, wasmWritableOffset, type WasmBackendInternals,
} from '../kernels/wasm_backend.js';

export interface HostState {
  readonly arrays: Float32Array[];
  /**
   * Writes copies back, and tells the wasm backend that live buffers were
   * written (see `markWritten`). Call inside a tidy, after the last write.
   */
  commit(): void;
  /** Whether every array is a live buffer (the cost-of-touched-rows route). */
  readonly inPlace: boolean;
}

/**
 * Do not allocate tensors between this call and the last use of `arrays`: a wasm
 * heap allocation may grow the memory and detach the views.
 */
export function hostState(tensors: readonly tf.Variable[]): HostState {
  const wasm = wasmBackend();
  const memory = wasm ? wasmMemory(wasm) : null;
  const copies: Array<{ t: tf.Variable; a: Float32Array }> = [];
  const onHeap: tf.Variable[] = [];
  const arrays = tensors.map((t) => {
    // cpuOwnedValues: on cpu an array the caller passed to tf.tensor can still be theirs.
    const live = cpuOwnedValues(t);
    if (live !== null) return live;
    if (wasm !== null && memory !== null) {
      const offset = wasmWritableOffset(wasm, t);
      if (offset !== null) {
        onHeap.push(t);
        return new Float32Array(memory.buffer, offset, t.size);
      }
    }
    const a = new Float32Array(t.dataSync() as Float32Array);
    copies.push({ t, a });
    return a;
  });
  return {
    arrays,
    inPlace: copies.length === 0,
    commit() {
      for (const t of onHeap) markWritten(wasm as WasmBackendInternals, t);
      for (const { t, a } of copies) t.assign(tf.tensor(a, t.shape, 'float32'));
    },
  };
}

/** The host values of a float32 tensor (a copy unless the cpu backend holds it). */
export function hostValues(t: tf.Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}
