/**
 * The `wasm` backend without WebAssembly SIMD in the engine: the reference loops
 * (src/rules) run in place on views of tfjs-wasm's heap, dense steps and sparse
 * rows alike. No tensor is created and nothing is copied.
 */
import { aroundStep, denseStep } from '../../rules/dense.js';
import { prepareRows, rowsStep } from '../../rules/rows.js';
import { rowPasses } from '../../rules/table.js';
import type { DenseKernel, RowKernel } from '../types.js';
import {
  heapReason, heapState, markAllWritten, markWritten, rowsHeapReason, wasmBackend, wasmMemory, wasmOffset,
  type WasmBackendInternals,
} from './heap.js';

export const wasmHeapJsKernel: DenseKernel = {
  name: 'wasm-heap-js',
  unsupportedReason: heapReason,
  foldsAround: true,
  run(updates, form, s, _clip, around) {
    const b = wasmBackend() as WasmBackendInternals;
    const memory = wasmMemory(b) as WebAssembly.Memory;
    for (const u of updates) {
      const g = new Float32Array(memory.buffer, wasmOffset(b, u.grad) as number, u.grad.size);
      if (around === undefined) denseStep(form, s, g, heapState(b, memory, u));
      else aroundStep(form, s, around, g, heapState(b, memory, u));
      markWritten(b, u.variable);
      if (u.slots.handedOut !== false) {
        const { rms, momentum, mg, ema, accumulator } = u.slots;
        for (const t of [rms, momentum, mg, ema, accumulator]) if (t !== undefined) markWritten(b, t);
      }
    }
  },
};

export const wasmHeapRows: RowKernel = {
  name: 'wasm-heap-js-rows',
  reference: true,
  unsupportedReason: rowsHeapReason,
  run(target, job) {
    const b = wasmBackend() as WasmBackendInternals;
    const st = heapState(b, wasmMemory(b) as WebAssembly.Memory, target);
    if (job.values === null) prepareRows(st, job.rows, job.rowSize, job.catchUp);
    else rowsStep(st, job.rows, job.slice, job.values, job.rowSize, rowPasses(job.form, job.s, job.rule), job.form.centered, job.s, job.catchUp);
    markAllWritten(b, target);
  },
};
