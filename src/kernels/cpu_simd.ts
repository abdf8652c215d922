/**
 * The `cpu` backend implementation with the SIMD module. WebAssembly can only
 * reach its own memory, so the variable and its optimizer state live there: the
 * values (`backend.data.get(dataId).values`) of the variable and of each slot
 * tensor are replaced by Float32Array views into a private `WebAssembly.Memory`,
 * and stay normal cpu tensors for every other use (ops, getSlot, getWeights,
 * save). Only the gradient crosses over, in tiles: a tile's worth is copied
 * into a small scratch area and one call updates every table entry of the tile.
 * The scratch stays in the core's cache, so main memory sees the gradient read
 * once, as in a single fused pass; variables smaller than a tile share one.
 *
 * Memory comes in chunks that never grow (growing would detach every view of
 * that memory): a chunk is made for the variables that first reach this kernel
 * in the same step, sized for the variables, their slots, the scratch and the
 * step table. A chunk is freed by the garbage collector once no view and no
 * placement refers to it; `release` gives a variable a plain array again when
 * its optimizer is disposed, so a disposed optimizer pins no memory. A region is
 * reused when its tensor gets a new buffer (`assign`, `setWeights`) as long as
 * no live tensor still shows the region. Binding copies the current values in,
 * so an array the caller handed to `tf.tensor` is never written.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { SlotName, SlotSet } from '../optimizer/slots.js';
import type { StepScalars, UpdateForm } from '../rules/types.js';
import {
  cpuBackend, createdCpuBackend, cpuValues, cpuWritableValues, holdsView, markOwned, type CpuBackendInternals,
} from './cpu_backend.js';
import { foldClip, hasClipping, type ClipOptions, type FoldedClip } from '../clipping/scalar.js';
import { clipGradients } from '../clipping/tensor.js';
import { cpuKernel } from './cpu.js';
import { clipFactors, TILE_ELEMENTS, TILE_ENTRIES, walkTiles, type ClipFactors } from './tiles.js';
import type { DenseKernel, DenseUpdate, RowKernel } from './types.js';
import { helperStep, helperThreadPossible, RING } from './helper_thread.js';
import {
  CLIP_ENTRY_BYTES, CLIP_ENTRY_WORDS, clipCall, ENTRY_BYTES, simdKernels, simdUnavailableReason, stepCalls, writeEntry, type SimdKernels,
} from './wasm/simd_module.js';

const PAGE = 65536;
/** Largest chunk: a 1.5 GiB private memory is a safe size for every current engine. */
const MAX_CHUNK_BYTES = 1536 * 1024 * 1024;

/** A tile's working area: byte offsets of its step table and clipping table, and its gradient scratch. */
interface RingSlot {
  readonly table: number;
  readonly clipTable: number;
  readonly gOffset: number;
  readonly gScratch: Float32Array;
}

interface Chunk {
  readonly kernels: SimdKernels;
  readonly words: Uint32Array;
  readonly floats: Float32Array;
  readonly doubles: Float64Array;
  /** Entries each table holds. */
  readonly entries: number;
  /** Byte offset of the float64 sums of the clipping tables. */
  readonly sums: number;
  /** Elements of each gradient scratch: TILE_ELEMENTS, or less for a small group. */
  readonly tile: number;
  /** One working area, or RING in a shared memory, where a helper thread updates tiles as they are copied. */
  readonly ring: readonly RingSlot[];
}

/** A slot's home in a chunk, and the dataId whose values are currently that view. */
interface SlotRegion {
  readonly offset: number;
  readonly view: Float32Array;
  owner: object | null;
}

/** Where one (optimizer, variable) pair lives: keyed by its rms slot, which is unique to both. */
interface Placement {
  readonly chunk: Chunk;
  readonly n: number;
  /** The variable's own region. */
  readonly w: SlotRegion;
  readonly slots: { readonly [K in SlotName]?: SlotRegion };
}

const placements = new WeakMap<tf.Variable, Placement>();

const align16 = (bytes: number): number => (bytes + 15) & ~15;
const align4 = (elements: number): number => (elements + 3) & ~3;

/** What placing needs of an update: the variable and its slots (a sparse step has no dense gradient). */
type Bindable = Pick<DenseUpdate, 'variable' | 'slots'>;

function slotsOf(u: Bindable): Array<[SlotName, tf.Variable]> {
  const out: Array<[SlotName, tf.Variable]> = [['rms', u.slots.rms]];
  if (u.slots.momentum) out.push(['momentum', u.slots.momentum]);
  if (u.slots.mg) out.push(['mg', u.slots.mg]);
  return out;
}

function footprint(u: Bindable): number {
  return (1 + slotsOf(u).length) * align16(u.variable.size * 4);
}

/** Bytes of a ring slot: its two tables of `entries` entries and a scratch of `tile` elements (a multiple of 4). */
const slotBytes = (entries: number, tile: number): number =>
  align16(entries * ENTRY_BYTES) + align16(entries * CLIP_ENTRY_BYTES) + tile * 4;

/** The most bytes a chunk's tables, sums and scratch take. */
const OVERHEAD = RING * slotBytes(TILE_ENTRIES, TILE_ELEMENTS) + TILE_ENTRIES * 8;

/**
 * Steps of at least this many elements in a chunk run with the helper thread;
 * a group this large gets a shared memory. Below it the arrays mostly sit in the
 * caches and one thread keeps up (measured, one variable: 262,144 elements 0.29 ms
 * with the helper against 0.16 ms without, 1e6 even, 4e6 10% and 1e7 40% faster).
 */
export const THREAD_MIN_ELEMENTS = 1 << 20;

/** A shared memory (for a helper thread) where one is possible and asked for, else a private one. */
function chunkMemory(bytes: number, shared: boolean): { memory: WebAssembly.Memory; shared: boolean } {
  const pages = Math.max(1, Math.ceil(bytes / PAGE));
  if (shared) {
    try {
      return { memory: new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true }), shared };
    } catch {
      // An engine without shared memory of this size: the step runs on one thread.
    }
  }
  return { memory: new WebAssembly.Memory({ initial: pages }), shared: false };
}

/**
 * Makes the tensor's values the region's view, copying its current values in,
 * when no other live tensor shows the region. False when the region is taken.
 */
function bind(b: CpuBackendInternals, region: SlotRegion, t: tf.Variable): boolean {
  const id = t.dataId as object;
  const d = b.data.get(id);
  if (d.values === region.view) return true;
  if (region.owner !== null && region.owner !== id && holdsView(b, region.owner, region.view)) return false;
  region.view.set(d.values as Float32Array);
  d.values = region.view;
  region.owner = id;
  return true;
}

/** Builds chunks for updates that have no usable placement, then binds their slots. */
function place(b: CpuBackendInternals, fresh: readonly Bindable[]): void {
  let start = 0;
  while (start < fresh.length) {
    let end = start;
    let bytes = 0;
    while (end < fresh.length && (end === start || bytes + footprint(fresh[end]) + OVERHEAD <= MAX_CHUNK_BYTES)) {
      bytes += footprint(fresh[end]);
      end++;
    }
    const group = fresh.slice(start, end);
    // Full-size tables: a sparse step fills them with rows even for one variable.
    const entries = TILE_ENTRIES;
    const elements = group.reduce((sum, u) => sum + align4(u.variable.size), 0);
    const tile = Math.min(TILE_ELEMENTS, elements);
    const wantShared = elements >= THREAD_MIN_ELEMENTS && helperThreadPossible();
    const slots = wantShared ? RING : 1;
    const { memory, shared } = chunkMemory(entries * 8 + slots * slotBytes(entries, tile) + bytes, wantShared);
    const kernels = simdKernels(memory) as SimdKernels;
    let at = 0;
    const sums = at;
    at += entries * 8;
    const { buffer } = memory;
    const ring: RingSlot[] = [];
    for (let k = 0; k < (shared ? RING : 1); k++) {
      const table = at;
      const clipTable = table + align16(entries * ENTRY_BYTES);
      const gOffset = clipTable + align16(entries * CLIP_ENTRY_BYTES);
      ring.push({ table, clipTable, gOffset, gScratch: new Float32Array(buffer, gOffset, tile) });
      at = gOffset + tile * 4;
    }
    const region = (n: number): { offset: number; view: Float32Array } => {
      const r = { offset: at, view: new Float32Array(memory.buffer, at, n) };
      at += align16(n * 4);
      return r;
    };
    const owned = (n: number): SlotRegion => {
      const r = { ...region(n), owner: null };
      markOwned(r.view);
      return r;
    };
    const chunk: Chunk = {
      kernels, words: new Uint32Array(buffer), floats: new Float32Array(buffer), doubles: new Float64Array(buffer),
      entries, sums, tile, ring,
    };
    for (const u of group) {
      const n = u.variable.size;
      const w = owned(n);
      bind(b, w, u.variable);
      const slots: { [K in SlotName]?: SlotRegion } = {};
      for (const [name, slot] of slotsOf(u)) {
        slots[name] = owned(n);
        bind(b, slots[name] as SlotRegion, slot);
      }
      placements.set(u.slots.rms, { chunk, n, w, slots });
    }
    start = end;
  }
}

/** The placement of `u` with every slot bound to it, or null if it needs a new one. */
function boundPlacement(b: CpuBackendInternals, u: Bindable): Placement | null {
  const p = placements.get(u.slots.rms);
  if (p === undefined || p.n !== u.variable.size || !bind(b, p.w, u.variable)) return null;
  for (const [name, slot] of slotsOf(u)) {
    const r = p.slots[name];
    if (r === undefined || !bind(b, r, slot)) return null;
  }
  return p;
}

interface Placed {
  readonly u: DenseUpdate;
  readonly p: Placement;
  /** The update's index in the step, for its clipping factors. */
  readonly k: number;
}

/**
 * Copies each tile's gradients into a slot's scratch and writes their clipping
 * entries (in place). `acquire` gives the slot for each new tile: the first, or
 * the next free one of the ring when a helper thread runs the tiles.
 */
function walkGradients(
  chunk: Chunk, batch: readonly Placed[], factors: ClipFactors | null,
  segment: (e: Placed, off: number, len: number, at: number, entry: number, slot: RingSlot) => void,
  flush: (segments: number, slot: RingSlot) => void,
  acquire: () => RingSlot = () => chunk.ring[0],
): void {
  const { words, floats } = chunk;
  let g: Float32Array = chunk.ring[0].gScratch;
  let slot = chunk.ring[0];
  walkTiles(batch.length, (i) => batch[i].p.n, chunk.tile, chunk.entries, (i, off, len, at, entry) => {
    if (entry === 0) slot = acquire();
    const e = batch[i];
    if (off === 0) g = cpuValues(e.u.grad) as Float32Array;
    // The only allocation of a step: a view per partial tile, one per 32,768 gradient elements.
    slot.gScratch.set(len === e.p.n ? g : g.subarray(off, off + len), at);
    if (factors !== null) {
      const c = (slot.clipTable >>> 2) + entry * CLIP_ENTRY_WORDS;
      words[c] = words[c + 1] = slot.gOffset + at * 4;
      words[c + 2] = len;
      floats[c + 3] = factors.cn[e.k];
      floats[c + 4] = factors.dn[e.k];
    }
    segment(e, off, len, at, entry, slot);
  }, (segments) => flush(segments, slot));
}

/** Σx² of each gradient of the step, x clipped by `c`'s bounds and the given cn/dn. */
function sumSquares(chunks: readonly Chunk[], batch: readonly Placed[], c: FoldedClip, f: ClipFactors): Float64Array {
  const out = new Float64Array(f.cn.length);
  for (const chunk of chunks) {
    const of = batch.filter((e) => e.p.chunk === chunk);
    const owner: number[] = [];
    walkGradients(chunk, of, f, (e, _off, _len, _at, entry) => { owner[entry] = e.k; }, (segments, slot) => {
      chunk.kernels.sumSquares(slot.clipTable, segments, c.lo, c.hi, chunk.sums);
      for (let i = 0; i < segments; i++) out[owner[i]] += chunk.doubles[(chunk.sums >>> 3) + i];
    });
  }
  return out;
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
 * Updates every entry of `batch` (all placed in `chunk`) tile by tile: the
 * gradient tile is copied in, clipped in place when clipping is folded in, and
 * one call updates the tile's variables, whose slots and values are already
 * here. True when the helper thread took part.
 */
function runChunk(
  chunk: Chunk, batch: readonly Placed[], form: UpdateForm, s: StepScalars, clip: FoldedClip | null, factors: ClipFactors | null,
): boolean {
  const { words, kernels } = chunk;
  const steps = stepCalls(form, s);
  const calls = clip !== null && factors !== null ? [clipCall(clip.lo, clip.hi, factors.scale), ...steps] : steps;
  const entry = ({ p }: Placed, off: number, len: number, at: number, k: number, slot: RingSlot): void => {
    const { rms, momentum, mg } = p.slots;
    writeEntry(
      words, slot.table, k, p.w.offset, (rms as SlotRegion).offset, momentum?.offset ?? 0, mg?.offset ?? 0,
      off * 4, slot.gOffset + at * 4, len,
    );
  };
  const helped = wantsHelper(chunk, batch) ? helperStep(kernels.memory, kernels, calls) : null;
  if (helped === null) {
    walkGradients(chunk, batch, factors, entry, (segments, slot) => kernels.call(calls, slot.table, slot.clipTable, segments));
    return false;
  }
  try {
    walkGradients(
      chunk, batch, factors, entry,
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
function runAll(batch: readonly Placed[], form: UpdateForm, s: StepScalars, clip: ClipOptions | undefined): boolean {
  const chunks: Chunk[] = [];
  for (const { p } of batch) if (!chunks.includes(p.chunk)) chunks.push(p.chunk);
  const folded = clip !== undefined && hasClipping(clip) ? foldClip(clip) : null;
  const factors = folded === null ? null
    : clipFactors(folded, batch.length, (cn, dn) => sumSquares(chunks, batch, folded, { cn, dn, scale: 1 }));
  let helped = false;
  for (const chunk of chunks) {
    helped = runChunk(chunk, chunks.length === 1 ? batch : batch.filter((e) => e.p.chunk === chunk), form, s, folded, factors) || helped;
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
    if (footprint(u) + OVERHEAD > MAX_CHUNK_BYTES) return 'the variable is too large for a private wasm memory';
    return null;
  },
  foldsClipping: true,
  run(updates, form, s, clip) {
    const b = cpuBackend() as CpuBackendInternals;
    let ready: Array<{ u: DenseUpdate; p: Placement | null }> = updates.map((u) => ({ u, p: boundPlacement(b, u) }));
    const fresh = ready.filter((e) => e.p === null).map((e) => e.u);
    if (fresh.length > 0) {
      try {
        place(b, fresh);
      } catch {
        // The engine refused a memory this large: the whole step takes the
        // reference loops in place, which need none, after clipping as tensor ops
        // when it was to be folded in. (Binding only moves values, so variables
        // placed before the refusal are consistent wherever they live.)
        const grads = clip !== undefined && hasClipping(clip) ? clipGradients(updates.map((u) => u.grad), clip) : null;
        cpuKernel.run(grads === null ? updates : updates.map((u, i) => ({ variable: u.variable, grad: grads[i], slots: u.slots })), form, s);
        return { kernel: cpuKernel.name, reason: 'cpu-simd: the engine refused a private wasm memory' };
      }
      ready = ready.map(({ u, p }) => ({ u, p: p ?? boundPlacement(b, u) }));
    }
    // A variable listed twice is updated twice, in order, as the op chain does:
    // entries run in table order and each has its own gradient tile.
    if (runAll(ready.map(({ u, p }, k) => ({ u, p: p as Placement, k })), form, s, clip)) return { kernel: 'cpu-simd-threaded' };
  },
  release(variable, slots) {
    const p = placements.get(slots.rms);
    if (p === undefined) return;
    placements.delete(slots.rms);
    // The variable outlives its optimizer: a plain copy, so the chunk can go.
    const b = createdCpuBackend();
    const id = variable.dataId as object;
    if (b !== null && holdsView(b, id, p.w.view)) {
      const copy = p.w.view.slice();
      markOwned(copy);
      b.data.get(id).values = copy;
    }
  },
};

/**
 * The rows of a sparse step through the same chunk: the table and its slots are
 * placed like a dense variable's (views into the chunk, bound on first use), the
 * rows' gradients are copied into the scratch as many rows as it holds at a time,
 * and one call updates them. Null when SIMD, the backend internals or a buffer of
 * its own are missing, the table is too large for a chunk, or a row for the
 * scratch. Placing may replace the tensors' arrays: create it before taking them.
 */
export function cpuRowKernel(variable: tf.Variable, slots: SlotSet): RowKernel | null {
  const b = cpuBackend();
  const u: Bindable = { variable, slots };
  if (simdUnavailableReason() !== null || b === null || variable.dtype !== 'float32') return null;
  if (cpuWritableValues(variable) === null || slotsOf(u).some(([, t]) => cpuWritableValues(t) === null)) return null;
  if (footprint(u) + OVERHEAD > MAX_CHUNK_BYTES) return null;
  let p = boundPlacement(b, u);
  if (p === null) {
    try {
      place(b, [u]);
    } catch {
      // An engine that refuses a memory this large: the reference loops need none.
      return null;
    }
    p = boundPlacement(b, u) as Placement;
  }
  const rowSize = variable.size / variable.shape[0];
  const { chunk } = p;
  if (rowSize > chunk.tile) return null;
  const placement = p;
  return {
    name: 'cpu-simd-rows',
    run(rule, rows, slice, values, n, form, s) {
      const { words, kernels } = chunk;
      const { gScratch, gOffset, table } = chunk.ring[0];
      const perCall = Math.min(chunk.entries, Math.floor(chunk.tile / n));
      const rowBytes = n * 4;
      const { w, slots: regions } = placement;
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
        kernels.rows(rule, form, s, table, count);
      }
    },
  };
}
