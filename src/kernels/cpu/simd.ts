/**
 * The `cpu` backend's kernels with the SIMD modules. The variable and its slots
 * live in the kernel's memory (memory.ts); only the gradient crosses over, in
 * tiles: a tile's worth is copied into a small scratch area and one call updates
 * every table entry of the tile. The scratch stays in the core's cache, so main
 * memory sees the gradient read once, as in a single fused pass; variables
 * smaller than a tile share one. A gradient that the non-finite check already
 * copied into the chunk (staging.ts) is read where it lies. Large steps take a
 * helper thread (helper_thread.ts). Sparse rows go through the same memory
 * (`cpuSimdRows`).
 */
import { foldClip, hasClipping, type ClipOptions, type FoldedClip } from '../../clipping/scalar.js';
import { clipGradients } from '../../clipping/tensor.js';
import { prepareRows } from '../../rules/rows.js';
import { rowPasses } from '../../rules/table.js';
import type { Around } from '../../rules/training.js';
import type { StepScalars, UpdateForm } from '../../rules/types.js';
import { aroundCalls, clipCall, CLIP_ENTRY_WORDS, passCalls, stepCalls, simdUnavailableReason, writeEntry, type KernelCall } from '../simd/module.js';
import { clipFactors, TILE_ELEMENTS, walkTiles, type ClipFactors } from '../simd/tiles.js';
import type { DenseKernel, DenseUpdate, RowJob, RowKernel, RowTarget } from '../types.js';
import { helperStep } from './helper_thread.js';
import { cpuInplaceRows, cpuKernel } from './inplace.js';
import {
  boundPlacement, fitsInChunk, place, releasePlacement, slotsOf, THREAD_MIN_ELEMENTS,
  type Chunk, type Placement, type RingSlot, type SlotRegion,
} from './memory.js';
import { nextWalk, stagedAt, takeStaged, type Stage } from './staging.js';
import { cpuBackend, cpuValues, cpuWritableValues, type CpuBackendInternals } from './storage.js';

interface Placed {
  readonly u: DenseUpdate;
  readonly p: Placement;
  /** The update's index in the step, for its clipping factors. */
  readonly k: number;
}

/**
 * Copies each tile's gradients into a slot's scratch, unless the non-finite
 * check left a copy of the gradient in the chunk (`staged` gives its byte
 * offset, or −1), and writes their clipping entries (in place). `segment` gets
 * the byte offset of the segment's gradient. `whole`: every gradient is staged,
 * so none is cut into tiles. `acquire` gives the slot for each new tile: the
 * first, or the next free one of the ring when a helper thread runs the tiles.
 */
function walkGradients(
  chunk: Chunk, batch: readonly Placed[], factors: ClipFactors | null, staged: (e: Placed) => number, whole: boolean,
  segment: (e: Placed, off: number, len: number, g: number, entry: number, slot: RingSlot) => void,
  flush: (segments: number, slot: RingSlot) => void,
  acquire: () => RingSlot = () => chunk.ring[0],
): void {
  const { words, floats } = chunk;
  let values: Float32Array = chunk.ring[0].gScratch;
  let stage = -1;
  let slot = chunk.ring[0];
  walkTiles(batch.length, (i) => batch[i].p.n, whole ? Number.MAX_SAFE_INTEGER : chunk.tile, chunk.entries, (i, off, len, at, entry) => {
    if (entry === 0) slot = acquire();
    const e = batch[i];
    if (off === 0) {
      stage = staged(e);
      if (stage === -1) values = cpuValues(e.u.grad) as Float32Array;
    }
    let g = stage + off * 4;
    if (stage === -1) {
      // The only allocation of a step: a view per partial tile, one per 32,768 gradient elements.
      slot.gScratch.set(len === e.p.n ? values : values.subarray(off, off + len), at);
      g = slot.gOffset + at * 4;
    }
    if (factors !== null) {
      const c = (slot.clipTable >>> 2) + entry * CLIP_ENTRY_WORDS;
      words[c] = words[c + 1] = g;
      words[c + 2] = len;
      floats[c + 3] = factors.cn[e.k];
      floats[c + 4] = factors.dn[e.k];
    }
    segment(e, off, len, g, entry, slot);
  }, (segments) => flush(segments, slot));
}

/** Σx² of each gradient of the step, x clipped by `c`'s bounds and the given cn/dn. */
function sumSquares(chunks: readonly Chunk[], batch: readonly Placed[], c: FoldedClip, f: ClipFactors): Float64Array {
  const out = new Float64Array(f.cn.length);
  for (const chunk of chunks) {
    const of = batch.filter((e) => e.p.chunk === chunk);
    const owner: number[] = [];
    // The staged copies stay marked: the update reads them after the norms.
    const peek = (e: Placed): number => stagedAt(e.p.stage, e.u.grad);
    walkGradients(chunk, of, f, peek, of.every((e) => peek(e) !== -1), (e, _off, _len, _g, entry) => { owner[entry] = e.k; }, (segments, slot) => {
      chunk.kernels.sumSquares(slot.clipTable, segments, c.lo, c.hi, chunk.sums);
      for (let i = 0; i < segments; i++) out[owner[i]] += chunk.doubles[(chunk.sums >>> 3) + i];
    });
  }
  return out;
}

/**
 * Whether every update of `batch` will read a staged gradient: each has one,
 * and no variable is listed twice (its second update copies the gradient in).
 * Then the update streams through whole variables: with one variable of 1e6 on
 * a 2-core AMD EPYC, steps took 5 to 7% less time than through 128 KiB tiles.
 */
function allStaged(batch: readonly Placed[]): boolean {
  const walk = nextWalk();
  for (const e of batch) {
    const stage = e.p.stage;
    if (stagedAt(stage, e.u.grad) === -1 || (stage as Stage).walk === walk) return false;
    (stage as Stage).walk = walk;
  }
  return true;
}

/**
 * Whether a step of `batch` in `chunk` runs with the helper thread: a shared
 * chunk, enough elements to pay for the hand-over, and no variable listed twice
 * (its two updates must run in order, and tiles may run in any).
 */
function wantsHelper(chunk: Chunk, batch: readonly Placed[]): boolean {
  if (chunk.ring.length === 1) return false;
  let elements = 0;
  for (const e of batch) elements += e.p.n;
  return elements >= THREAD_MIN_ELEMENTS && new Set(batch.map((e) => e.p)).size === batch.length;
}

/**
 * The calls of a step on each tile: with Keras 3's passes (`around`), the
 * accumulation's combined gradient first, then clipping when folded in, then the
 * rule's passes (or the accumulation) and the EMA.
 */
function tileCalls(form: UpdateForm, s: StepScalars, clip: FoldedClip | null, factors: ClipFactors | null, around: Around | undefined): KernelCall[] {
  const { before, after } = around === undefined ? { before: [], after: stepCalls(form, s) } : aroundCalls(form, s, around);
  const clipping = clip !== null && factors !== null ? [clipCall(clip.lo, clip.hi, factors.scale)] : [];
  return before.length === 0 && clipping.length === 0 ? after : [...before, ...clipping, ...after];
}

/**
 * Updates every entry of `batch` (all placed in `chunk`) tile by tile: the
 * gradient tile is copied in, clipped in place when clipping is folded in, and
 * one call updates the tile's variables, whose slots and values are already
 * here. True when the helper thread took part.
 */
function runChunk(chunk: Chunk, batch: readonly Placed[], calls: readonly KernelCall[], factors: ClipFactors | null): boolean {
  const { words, kernels } = chunk;
  const entry = ({ p }: Placed, off: number, len: number, g: number, k: number, slot: RingSlot): void => {
    const { rms, momentum, mg, ema, accumulator } = p.slots;
    writeEntry(
      words, slot.table, k, p.w.offset, (rms as SlotRegion).offset, momentum?.offset ?? 0, mg?.offset ?? 0,
      off * 4, g, len, ema?.offset ?? 0, accumulator?.offset ?? 0,
    );
  };
  // Taken once: a variable listed twice with the same gradient copies it for its
  // second update, as clipping and unscaling work on the copy in place.
  const staged = (e: Placed): number => takeStaged(e.p.stage, e.u.grad);
  const helped = wantsHelper(chunk, batch) ? helperStep(kernels.memory, kernels, calls) : null;
  if (helped === null) {
    walkGradients(chunk, batch, factors, staged, allStaged(batch), entry, (segments, slot) => kernels.call(calls, slot.table, slot.clipTable, segments));
    return false;
  }
  try {
    walkGradients(
      chunk, batch, factors, staged, false, entry,
      (segments, slot) => helped.publish(slot.table, slot.clipTable, segments),
      () => chunk.ring[helped.nextSlot()],
    );
  } finally {
    helped.finish();
  }
  return true;
}

/**
 * One pass per chunk (usually one in all); entries of a chunk keep their order.
 * With clipping, the norms it needs are measured first, over every chunk. True
 * when the helper thread took part.
 */
function runAll(batch: readonly Placed[], form: UpdateForm, s: StepScalars, clip: ClipOptions | undefined, around: Around | undefined): boolean {
  const chunks: Chunk[] = [];
  for (const { p } of batch) if (!chunks.includes(p.chunk)) chunks.push(p.chunk);
  const folded = clip !== undefined && hasClipping(clip) ? foldClip(clip) : null;
  const factors = folded === null ? null
    : clipFactors(folded, batch.length, (cn, dn) => sumSquares(chunks, batch, folded, { cn, dn, scale: 1 }));
  const calls = tileCalls(form, s, folded, factors, around);
  let helped = false;
  for (const chunk of chunks) {
    helped = runChunk(chunk, chunks.length === 1 ? batch : batch.filter((e) => e.p.chunk === chunk), calls, factors) || helped;
  }
  return helped;
}

export const cpuSimdKernel: DenseKernel = {
  name: 'cpu-simd',
  unsupportedReason(u) {
    const simd = simdUnavailableReason();
    if (simd !== null) return simd;
    if (cpuBackend() === null) return 'the cpu backend internals are not reachable';
    if (u.variable.dtype !== 'float32') return `dtype ${u.variable.dtype}`;
    if (cpuValues(u.grad) === null) return 'the gradient is not a float32 tensor held by the cpu backend';
    if (u.grad.size !== u.variable.size) return 'the gradient and the variable differ in size';
    if (cpuWritableValues(u.variable) === null) return 'the variable shares its buffer with another tensor';
    if (slotsOf(u).some(([, slot]) => cpuWritableValues(slot) === null)) return 'a slot shares its buffer with another tensor';
    if (!fitsInChunk(u)) return 'the variable is too large for a private wasm memory';
    return null;
  },
  foldsClipping: true,
  foldsAround: true,
  run(updates, form, s, clip, around) {
    const b = cpuBackend() as CpuBackendInternals;
    let ready: Array<{ u: DenseUpdate; p: Placement | null }> = updates.map((u) => ({ u, p: boundPlacement(b, u) }));
    const fresh = ready.filter((e) => e.p === null).map((e) => e.u);
    if (fresh.length > 0) {
      try {
        place(b, fresh, true);
      } catch {
        // The engine refused a memory this large: the whole step takes the
        // reference loops in place, which need none, after clipping as tensor ops
        // when it was to be folded in. (Binding only moves values, so variables
        // placed before the refusal are consistent wherever they live.)
        const grads = clip !== undefined && hasClipping(clip) ? clipGradients(updates.map((u) => u.grad), clip) : null;
        cpuKernel.run(grads === null ? updates : updates.map((u, i) => ({ variable: u.variable, grad: grads[i], slots: u.slots })), form, s, undefined, around);
        return { kernel: cpuKernel.name, reason: 'cpu-simd: the engine refused a private wasm memory' };
      }
      ready = ready.map(({ u, p }) => ({ u, p: p ?? boundPlacement(b, u) }));
    }
    // A variable listed twice is updated twice, in order, as the op chain does:
    // entries run in table order and each has its own gradient tile.
    if (runAll(ready.map(({ u, p }, k) => ({ u, p: p as Placement, k })), form, s, clip, around)) return { kernel: 'cpu-simd-threaded' };
  },
  release: releasePlacement,
};

/** Why the rows of `target` cannot go through the cpu kernel's memory, or null. */
function rowsReason(target: RowTarget, job: RowJob): string | null {
  const simd = simdUnavailableReason();
  if (simd !== null) return simd;
  if (cpuBackend() === null) return 'the cpu backend internals are not reachable';
  if (job.values === null) return 'a catch-up only: nothing for the SIMD kernels';
  if (target.variable.dtype !== 'float32') return `dtype ${target.variable.dtype}`;
  if (cpuWritableValues(target.variable) === null) return 'the table shares its buffer with another tensor';
  if (slotsOf(target).some(([, t]) => cpuWritableValues(t) === null)) return 'a slot shares its buffer with another tensor';
  if (!fitsInChunk(target)) return 'the table is too large for a private wasm memory';
  // A chunk's scratch holds at least TILE_ELEMENTS, or all of its variables when they are fewer.
  if (job.rowSize > TILE_ELEMENTS) return `rows of ${job.rowSize} elements do not fit the scratch (${TILE_ELEMENTS})`;
  return null;
}

/**
 * The rows of a sparse step through the same memory: the table and its slots
 * are placed like a dense variable's (views into a chunk, bound on first use),
 * rows catch up in place, the rows' gradients are copied into the scratch as
 * many rows as it holds at a time, and one call updates them.
 */
export const cpuSimdRows: RowKernel = {
  name: 'cpu-simd-rows',
  unsupportedReason: rowsReason,
  run(target, job) {
    const b = cpuBackend() as CpuBackendInternals;
    let p = boundPlacement(b, target);
    if (p === null) {
      try {
        place(b, [target], false);
      } catch {
        // An engine that refuses a memory this large: the reference loops need none.
        cpuInplaceRows.run(target, job);
        return { kernel: cpuInplaceRows.name, reason: 'cpu-simd-rows: the engine refused a private wasm memory' };
      }
      p = boundPlacement(b, target) as Placement;
    }
    const { chunk, w, slots: regions } = p;
    const { rows, slice, rowSize: n, form, s } = job;
    const values = job.values as Float32Array;
    // The views are the tensors' values now: catch up in place, touching the rows ahead.
    prepareRows({
      w: w.view, ms: (regions.rms as SlotRegion).view, mom: regions.momentum?.view, mg: regions.mg?.view,
    }, rows, n, job.catchUp);
    const { words, kernels } = chunk;
    const { gScratch, gOffset, table } = chunk.ring[0];
    const calls = passCalls(rowPasses(form, s, job.rule), form.centered, s);
    const perCall = Math.min(chunk.entries, Math.floor(chunk.tile / n));
    const rowBytes = n * 4;
    const ms = (regions.rms as SlotRegion).offset;
    const mom = form.path === 'momentum' && regions.momentum ? regions.momentum.offset : 0;
    const mg = form.centered && regions.mg ? regions.mg.offset : 0;
    for (let first = 0; first < rows.length; first += perCall) {
      const count = Math.min(perCall, rows.length - first);
      for (let q = 0; q < count; q++) {
        // A row is a few hundred bytes: a loop, where a subarray per row would be garbage.
        const src = slice[first + q] * n;
        const at = q * n;
        for (let j = 0; j < n; j++) gScratch[at + j] = values[src + j];
        writeEntry(words, table, q, w.offset, ms, mom, mg, rows[first + q] * rowBytes, gOffset + at * 4, n);
      }
      kernels.call(calls, table, 0, count);
    }
  },
};
