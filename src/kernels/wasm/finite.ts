/**
 * The non-finite check on the `wasm` backend: the SIMD module reads each
 * gradient where it lies on tfjs-wasm's heap (one pass, nothing copied), through
 * the clipping table of the kernel's workspace.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { CLIP_ENTRY_WORDS, simdKernels, simdUnavailableReason, type SimdKernels } from '../simd/module.js';
import { TILE_ENTRIES, walkTiles } from '../simd/tiles.js';
import type { FiniteCheck } from '../types.js';
import { wasmBackend, wasmMemory, wasmOffset, type WasmBackendInternals } from './heap.js';
import { workspaceFor } from './simd.js';

export const wasmFiniteCheck: FiniteCheck = {
  name: 'wasm-simd',
  accepts(grad) {
    const b = wasmBackend();
    return b !== null && wasmMemory(b) !== null && simdUnavailableReason() === null && wasmOffset(b, grad) !== null;
  },
  firstNonFinite(grads: readonly tf.Tensor[]) {
    const b = wasmBackend() as WasmBackendInternals;
    const ws = workspaceFor(b);
    // Views after the allocation above: it may have grown the heap.
    const kernels = simdKernels(wasmMemory(b) as WebAssembly.Memory) as SimdKernels;
    const { buffer } = kernels.memory;
    const words = new Uint32Array(buffer);
    const sums = new Float64Array(buffer, ws.sums, TILE_ENTRIES);
    const owner: number[] = [];
    let found = -1;
    walkTiles(grads.length, (k) => grads[k].size, Infinity, TILE_ENTRIES, (k, off, len, _at, entry) => {
      const c = (ws.clipTable >>> 2) + entry * CLIP_ENTRY_WORDS;
      words[c] = (wasmOffset(b, grads[k]) as number) + off * 4;
      words[c + 2] = len;
      owner[entry] = k;
    }, (count) => {
      if (found !== -1) return;
      kernels.nonFinite(ws.clipTable, count, ws.sums);
      for (let i = 0; i < count; i++) if (sums[i] !== 0) { found = owner[i]; return; }
    });
    return found;
  },
};
