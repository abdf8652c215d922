/**
 * The non-finite check on the `cpu` backend: each gradient crosses into a small
 * private memory a tile at a time (as the cpu kernel's update copies it) and the
 * SIMD module reads the tile there, while it is in the cache.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { CLIP_ENTRY_BYTES, CLIP_ENTRY_WORDS, simdKernels, simdUnavailableReason, type SimdKernels } from '../simd/module.js';
import { TILE_ELEMENTS, TILE_ENTRIES, walkTiles } from '../simd/tiles.js';
import type { FiniteCheck } from '../types.js';
import { cpuBackend, cpuValues } from './storage.js';

const TABLE = 0;
const SUMS = TILE_ENTRIES * CLIP_ENTRY_BYTES;
const SCRATCH = SUMS + TILE_ENTRIES * 8;

let memory: { kernels: SimdKernels; words: Uint32Array; sums: Float64Array; scratch: Float32Array } | null = null;

/** The check's memory: a table, its sums and one tile of scratch, made once. */
function workspace(): NonNullable<typeof memory> {
  if (memory === null) {
    const m = new WebAssembly.Memory({ initial: Math.ceil((SCRATCH + TILE_ELEMENTS * 4) / 65536) });
    memory = {
      kernels: simdKernels(m) as SimdKernels, words: new Uint32Array(m.buffer),
      sums: new Float64Array(m.buffer, SUMS, TILE_ENTRIES), scratch: new Float32Array(m.buffer, SCRATCH, TILE_ELEMENTS),
    };
  }
  return memory;
}

export const cpuFiniteCheck: FiniteCheck = {
  name: 'cpu-simd',
  accepts(grad) {
    return simdUnavailableReason() === null && cpuBackend() !== null && cpuValues(grad) !== null;
  },
  firstNonFinite(grads: readonly tf.Tensor[]) {
    const { kernels, words, sums, scratch } = workspace();
    const owner: number[] = [];
    let found = -1;
    let g: Float32Array = scratch;
    walkTiles(grads.length, (k) => grads[k].size, TILE_ELEMENTS, TILE_ENTRIES, (k, off, len, at, entry) => {
      if (found !== -1) return;
      if (off === 0) g = cpuValues(grads[k]) as Float32Array;
      scratch.set(len === g.length ? g : g.subarray(off, off + len), at);
      const c = (TABLE >>> 2) + entry * CLIP_ENTRY_WORDS;
      words[c] = SCRATCH + at * 4;
      words[c + 2] = len;
      owner[entry] = k;
    }, (count) => {
      if (found !== -1) return;
      kernels.nonFinite(TABLE, count, SUMS);
      for (let i = 0; i < count; i++) if (sums[i] !== 0) { found = owner[i]; return; }
    });
    return found;
  },
};
