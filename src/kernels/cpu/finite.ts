/**
 * The non-finite check on the `cpu` backend. The gradient is an ordinary array
 * that WebAssembly cannot read, so it crosses into a small private memory a tile
 * at a time and the SIMD module checks the tile there, while it is in the
 * core's L1 cache. The copy is most of the cost. (Handing tiles to the cpu
 * kernel's helper thread measured slower: the lines the copy just wrote have to
 * cross from one core's cache to the other's.)
 */
import type * as tf from '@tensorflow/tfjs-core';
import { CLIP_ENTRY_BYTES, CLIP_ENTRY_WORDS, simdKernels, simdUnavailableReason, type SimdKernels } from '../simd/module.js';
import { TILE_ELEMENTS, TILE_ENTRIES, walkTiles } from '../simd/tiles.js';
import type { FiniteCheck } from '../types.js';
import { cpuBackend, cpuValues } from './storage.js';

/**
 * Elements per tile: the update's 128 KiB tiles (within a core's L2). Sampled
 * in turn with optimizer steps between checks, as a step with `'skip'` runs it,
 * a check of 1e6 elements (or 200 × 5,000) took 12 to 18% less time than with
 * 16 KiB tiles, which win only when the gradient is already in cache: the copy
 * out of main memory streams better in long runs.
 */
const TILE = TILE_ELEMENTS;
const TABLE = 0;
const SCRATCH = TILE_ENTRIES * CLIP_ENTRY_BYTES;

let memory: { kernels: SimdKernels; words: Uint32Array; scratch: Float32Array; owner: Int32Array } | null = null;

/** The check's memory: a table and one tile of scratch, made once. */
function workspace(): NonNullable<typeof memory> {
  if (memory === null) {
    const m = new WebAssembly.Memory({ initial: Math.ceil((SCRATCH + TILE * 4) / 65536) });
    memory = {
      kernels: simdKernels(m) as SimdKernels, words: new Uint32Array(m.buffer),
      scratch: new Float32Array(m.buffer, SCRATCH, TILE), owner: new Int32Array(TILE_ENTRIES),
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
    const { kernels, words, scratch, owner } = workspace();
    let found = -1;
    let g: Float32Array = scratch;
    walkTiles(grads.length, (k) => grads[k].size, TILE, TILE_ENTRIES, (k, off, len, at, entry) => {
      if (found !== -1) return;
      if (off === 0) g = cpuValues(grads[k]) as Float32Array;
      scratch.set(len === g.length ? g : g.subarray(off, off + len), at);
      const c = (TABLE >>> 2) + entry * CLIP_ENTRY_WORDS;
      words[c] = SCRATCH + at * 4;
      words[c + 2] = len;
      owner[entry] = k;
    }, (count) => {
      if (found !== -1) return;
      kernels.nonFinite(TABLE, count);
      // Tiles go in gradient order, so the first flag is the first gradient's.
      for (let i = 0; i < count; i++) if (words[(TABLE >>> 2) + i * CLIP_ENTRY_WORDS + 5] !== 0) { found = owner[i]; return; }
    });
    return found;
  },
};
