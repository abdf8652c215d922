/**
 * The non-finite check on the `wasm` backend: the SIMD module reads each
 * gradient where it lies on tfjs-wasm's heap (one pass, nothing copied), through
 * the clipping table of the kernel's workspace.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { CLIP_ENTRY_WORDS, simdKernels, simdUnavailableReason, type SimdKernels } from '../simd/module.js';
import { TILE_ENTRIES } from '../simd/tiles.js';
import type { FiniteCheck } from '../types.js';
import { wasmBackend, wasmMemory, wasmOffset, type WasmBackendInternals } from './heap.js';
import { workspaceFor } from './simd.js';

/** Which gradient each entry of the table reads, reused across steps. */
const owner = new Int32Array(TILE_ENTRIES);

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
    const words = new Uint32Array(kernels.memory.buffer);
    const base = ws.clipTable >>> 2;
    let count = 0;
    // The flags of a full table: the first entry flagged, in gradient order.
    const flagged = (): number => {
      kernels.nonFinite(ws.clipTable, count);
      for (let i = 0; i < count; i++) if (words[base + i * CLIP_ENTRY_WORDS + 5] !== 0) return owner[i];
      count = 0;
      return -1;
    };
    for (let k = 0; k < grads.length; k++) {
      const n = grads[k].size;
      if (n === 0) continue;
      const c = base + count * CLIP_ENTRY_WORDS;
      words[c] = wasmOffset(b, grads[k]) as number;
      words[c + 2] = n;
      owner[count++] = k;
      if (count === TILE_ENTRIES) {
        const found = flagged();
        if (found !== -1) return found;
      }
    }
    return count === 0 ? -1 : flagged();
  },
};
