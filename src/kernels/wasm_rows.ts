/**
 * Sparse rows on the `wasm` backend with the SIMD kernels: each row is one entry
 * `[w, g, ms, mom, mg, n]` of a kernel table, so every row of a step goes
 * through one call, in place on the heap. A row takes either the dense rule
 * restricted to it (TF 2.4's plain path in every sparse mode, and
 * 'dense-equivalent' on the momentum path once the row is caught up) or TF's
 * sparse momentum kernel (wasm-src/sparse.ts). The gradient rows (already
 * deduplicated) are copied to a heap scratch first: they come from a
 * JavaScript array.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { SlotSet } from '../optimizer/slots.js';
import type { RowKernel } from './types.js';
import { ENTRY_BYTES, simdKernels, writeEntry, type SimdKernels } from './wasm/simd_module.js';
import { wasmBackend, wasmMemory, wasmWritableOffset, type WasmBackendInternals } from './wasm_backend.js';

interface Workspace { ptr: number; bytes: number }

const workspaces = new WeakMap<WasmBackendInternals, Workspace>();

/** `bytes` of heap, 16-byte aligned, kept per backend and grown by doubling. */
function workspace(b: WasmBackendInternals, bytes: number): number {
  let w = workspaces.get(b);
  if (w === undefined || w.bytes < bytes) {
    if (w !== undefined) b.wasm._free(w.ptr);
    const size = Math.max(bytes, 2 * (w?.bytes ?? 0), 64 * 1024);
    w = { ptr: b.wasm._malloc(size + 16) >>> 0, bytes: size };
    workspaces.set(b, w);
  }
  return (w.ptr + 15) & ~15;
}

/**
 * The row kernel for `variable` and its `slots`, with room for `count` rows and
 * `valueCount` gradient values, or null when any of them is not a float32
 * buffer of its own on the wasm heap, or SIMD is unavailable. May grow the
 * heap: call it before making heap views.
 */
export function wasmRowKernel(variable: tf.Variable, slots: SlotSet, count: number, valueCount: number): RowKernel | null {
  const b = wasmBackend();
  const memory = b === null ? null : wasmMemory(b);
  if (b === null || memory === null || simdKernels(memory) === null) return null;
  const { rms, momentum, mg } = slots;
  for (const t of [variable, rms, momentum, mg]) if (t !== undefined && wasmWritableOffset(b, t) === null) return null;
  const base = workspace(b, count * ENTRY_BYTES + valueCount * 4);
  const gBase = base + count * ENTRY_BYTES;
  const offset = (t: tf.Variable | undefined): number => (t === undefined ? 0 : wasmWritableOffset(b, t) as number);
  return {
    name: 'wasm-simd-rows',
    run(rule, rows, slice, values, rowSize, form, s) {
      if (rows.length > count || values.length > valueCount) throw new Error('RMSprop: row kernel sized for fewer rows');
      const kernels = simdKernels(memory) as SimdKernels;
      new Float32Array(memory.buffer, gBase, values.length).set(values);
      const w = offset(variable);
      const ms = offset(rms);
      const mom = form.path === 'momentum' ? offset(momentum) : 0;
      const a = form.centered ? offset(mg) : 0;
      const words = new Uint32Array(memory.buffer);
      const rowBytes = rowSize * 4;
      for (let p = 0; p < rows.length; p++) {
        writeEntry(words, base, p, w, ms, mom, a, rows[p] * rowBytes, gBase + slice[p] * rowBytes, rowSize);
      }
      kernels.rows(rule, form, s, base, rows.length);
    },
  };
}
