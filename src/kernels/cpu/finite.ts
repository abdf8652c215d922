/**
 * The non-finite check on the `cpu` backend. The gradient is an ordinary array
 * that WebAssembly cannot read, so it crosses into wasm memory a tile at a time
 * and the SIMD module checks each tile there, while it is in the core's cache.
 * The copy is most of the cost, so where the variable's chunk has a stage for it
 * (staging.ts) the copy goes there and the update reads it; otherwise (a
 * variable's first step, or one the helper thread updates) into a small private
 * memory, and the update copies the gradient again. (Handing tiles to the cpu
 * kernel's helper thread measured slower: the lines the copy just wrote have to
 * cross from one core's cache to the other's.)
 */
import type * as tf from '@tensorflow/tfjs-core';
import { CLIP_ENTRY_BYTES, CLIP_ENTRY_WORDS, simdKernels, simdUnavailableReason, type SimdKernels } from '../simd/module.js';
import { TILE_ELEMENTS, TILE_ENTRIES, walkTiles } from '../simd/tiles.js';
import type { FiniteCheck } from '../types.js';
import { placementByRms, type Chunk, type Placement } from './memory.js';
import { clearStages, markStaged, type Stage } from './staging.js';
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

/** Which gradient each entry of a table reads. */
const owner = new Int32Array(TILE_ENTRIES);

let memory: { kernels: SimdKernels; words: Uint32Array; scratch: Float32Array } | null = null;

/** The check's memory: a table and one tile of scratch, made once. */
function workspace(): NonNullable<typeof memory> {
  if (memory === null) {
    const m = new WebAssembly.Memory({ initial: Math.ceil((SCRATCH + TILE * 4) / 65536) });
    memory = { kernels: simdKernels(m) as SimdKernels, words: new Uint32Array(m.buffer), scratch: new Float32Array(m.buffer, SCRATCH, TILE) };
  }
  return memory;
}

/**
 * Runs the check over `count` entries of the clipping table at byte `table`;
 * the gradient (by `owner`) of the first entry flagged, or −1. Entries go in
 * gradient order, so the first flag is the first gradient's.
 */
function firstFlagged(kernels: SimdKernels, words: Uint32Array, table: number, count: number): number {
  kernels.nonFinite(table, count);
  for (let i = 0; i < count; i++) if (words[(table >>> 2) + i * CLIP_ENTRY_WORDS + 5] !== 0) return owner[i];
  return -1;
}

/**
 * Checks the gradients `at` lists (indices into `grads`, in order) whose
 * variables have a stage: each is copied into its stage a tile at a time, and
 * every tile is checked right after its copy, in its chunk, through the
 * chunk's clipping table (no step is running). The first index found, or −1.
 */
function checkStaged(grads: readonly tf.Tensor[], at: readonly number[], stages: readonly Placement[]): number {
  let chunk: Chunk | null = null;
  let count = 0;
  let elements = 0;
  const flagged = (): number => {
    if (count === 0) return -1;
    const c = chunk as Chunk;
    const found = firstFlagged(c.kernels, c.words, c.ring[0].clipTable, count);
    count = elements = 0;
    return found;
  };
  for (let j = 0; j < at.length; j++) {
    const k = at[j];
    const p = stages[j];
    if (p.chunk !== chunk) {
      const found = flagged();
      if (found !== -1) return found;
      chunk = p.chunk;
    }
    const stage = p.stage as Stage;
    const g = cpuValues(grads[k]) as Float32Array;
    const n = g.length;
    const base = chunk.ring[0].clipTable >>> 2;
    for (let off = 0; off < n; off += TILE) {
      const len = Math.min(TILE, n - off);
      stage.view.set(len === n ? g : g.subarray(off, off + len), off);
      const c = base + count * CLIP_ENTRY_WORDS;
      chunk.words[c] = stage.offset + off * 4;
      chunk.words[c + 2] = len;
      owner[count++] = k;
      elements += len;
      if (elements >= TILE || count === chunk.entries) {
        const found = flagged();
        if (found !== -1) return found;
      }
    }
    markStaged(stage, grads[k]);
  }
  return flagged();
}

/** Checks the gradients `at` lists in the check's own memory, a tile of them at a time. The first index found, or −1. */
function checkCopies(grads: readonly tf.Tensor[], at: readonly number[]): number {
  const { kernels, words, scratch } = workspace();
  let found = -1;
  let g: Float32Array = scratch;
  walkTiles(at.length, (j) => grads[at[j]].size, TILE, TILE_ENTRIES, (j, off, len, pos, entry) => {
    if (found !== -1) return;
    if (off === 0) g = cpuValues(grads[at[j]]) as Float32Array;
    scratch.set(len === g.length ? g : g.subarray(off, off + len), pos);
    const c = (TABLE >>> 2) + entry * CLIP_ENTRY_WORDS;
    words[c] = SCRATCH + pos * 4;
    words[c + 2] = len;
    owner[entry] = at[j];
  }, (count) => {
    if (found === -1) found = firstFlagged(kernels, words, TABLE, count);
  });
  return found;
}

export const cpuFiniteCheck: FiniteCheck = {
  name: 'cpu-simd',
  accepts(grad) {
    return simdUnavailableReason() === null && cpuBackend() !== null && cpuValues(grad) !== null;
  },
  firstNonFinite(grads, targets) {
    clearStages();
    // A gradient whose variable has a stage of its size is copied there, once
    // for the check and the update; the others into the check's scratch.
    const staged: number[] = [];
    const stages: Placement[] = [];
    const copied: number[] = [];
    grads.forEach((g, k) => {
      const p = placementByRms((targets[k]?.slots as { rms?: unknown } | undefined)?.rms);
      if (p !== undefined && p.stage !== null && p.n === g.size) {
        staged.push(k);
        stages.push(p);
      } else {
        copied.push(k);
      }
    });
    const a = staged.length === 0 ? -1 : checkStaged(grads, staged, stages);
    const b = copied.length === 0 ? -1 : checkCopies(grads, copied);
    const found = a === -1 ? b : b === -1 ? a : Math.min(a, b);
    // A step that will not run leaves no copy marked for a later one.
    if (found !== -1) clearStages();
    return found;
  },
};
