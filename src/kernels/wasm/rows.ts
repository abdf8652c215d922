/**
 * Sparse rows on the `wasm` backend with the SIMD modules: each row is one
 * entry `[w, g, ms, mom, mg, n]` of a kernel table, so every row of a step goes
 * through one call per pass, in place on the heap, with the same exports as a
 * dense step (or TF's sparse momentum kernel, wasm-src/sparse.ts). Rows catch up
 * in place first. The gradient rows (already deduplicated) are copied to a heap
 * scratch: they come from a JavaScript array.
 */
import { prepareRows } from '../../rules/rows.js';
import { rowPasses } from '../../rules/table.js';
import { ENTRY_BYTES, passCalls, simdKernels, simdUnavailableReason, writeEntry, type SimdKernels } from '../simd/module.js';
import type { RowKernel } from '../types.js';
import {
  heapState, markAllWritten, rowsHeapReason, wasmBackend, wasmMemory, wasmWritableOffset, type WasmBackendInternals,
} from './heap.js';

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

export const wasmSimdRows: RowKernel = {
  name: 'wasm-simd-rows',
  unsupportedReason(target, job) {
    if (job.values === null) return 'a catch-up only: nothing for the SIMD kernels';
    return simdUnavailableReason() ?? rowsHeapReason(target);
  },
  run(target, job) {
    const b = wasmBackend() as WasmBackendInternals;
    const memory = wasmMemory(b) as WebAssembly.Memory;
    const kernels = simdKernels(memory) as SimdKernels;
    const { rows, slice, rowSize, form, s } = job;
    const values = job.values as Float32Array;
    // Allocate first: growing the heap detaches every view made before.
    const base = workspace(b, rows.length * ENTRY_BYTES + values.length * 4);
    const gBase = base + rows.length * ENTRY_BYTES;
    prepareRows(heapState(b, memory, target), rows, rowSize, job.catchUp);
    new Float32Array(memory.buffer, gBase, values.length).set(values);
    const { variable, slots } = target;
    const offset = (t: typeof variable | undefined): number => (t === undefined ? 0 : wasmWritableOffset(b, t) as number);
    const w = offset(variable);
    const ms = offset(slots.rms);
    const mom = form.path === 'momentum' ? offset(slots.momentum) : 0;
    const mg = form.centered ? offset(slots.mg) : 0;
    const words = new Uint32Array(memory.buffer);
    const rowBytes = rowSize * 4;
    for (let p = 0; p < rows.length; p++) {
      writeEntry(words, base, p, w, ms, mom, mg, rows[p] * rowBytes, gBase + slice[p] * rowBytes, rowSize);
    }
    kernels.call(passCalls(rowPasses(form, s, job.rule), form.centered, s), base, 0, rows.length);
    markAllWritten(b, target);
  },
};
