/**
 * Where the cpu kernel keeps what it updates. WebAssembly can only reach its
 * own memory, so a variable and its optimizer state live there: the values
 * (`backend.data.get(dataId).values`) of the variable and of each slot tensor
 * are replaced by Float32Array views into a private `WebAssembly.Memory`, and
 * stay normal cpu tensors for every other use (ops, getSlot, getWeights, save).
 *
 * Memory comes in chunks that never grow (growing would detach every view of
 * that memory): a chunk is made for the variables that first reach the kernel
 * in the same step, sized for the variables, their slots, the gradient scratch
 * and the step tables. A chunk is freed by the garbage collector once no view
 * and no placement refers to it; `releasePlacement` gives a variable a plain
 * array again when its optimizer is disposed, so a disposed optimizer pins no
 * memory. A region is reused when its tensor gets a new buffer (`assign`,
 * `setWeights`) as long as no live tensor still shows the region. Binding copies
 * the current values in, so an array the caller handed to `tf.tensor` is never
 * written.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { simdKernels, CLIP_ENTRY_BYTES, ENTRY_BYTES, type SimdKernels } from '../simd/module.js';
import { TILE_ELEMENTS, TILE_ENTRIES } from '../simd/tiles.js';
import type { SlotSet, StateName } from '../types.js';
import { helperThreadPossible, RING } from './helper_thread.js';
import type { Stage } from './staging.js';
import { createdCpuBackend, holdsView, markOwned, type CpuBackendInternals } from './storage.js';

const PAGE = 65536;
/** Largest chunk: a 1.5 GiB private memory is a safe size for every current engine. */
export const MAX_CHUNK_BYTES = 1536 * 1024 * 1024;

/** A tile's working area: byte offsets of its step table and clipping table, and its gradient scratch. */
export interface RingSlot {
  readonly table: number;
  readonly clipTable: number;
  readonly gOffset: number;
  readonly gScratch: Float32Array;
}

export interface Chunk {
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
export interface SlotRegion {
  readonly offset: number;
  readonly view: Float32Array;
  owner: object | null;
}

/** Where one (optimizer, variable) pair lives: keyed by its rms slot, which is unique to both. */
export interface Placement {
  readonly chunk: Chunk;
  readonly n: number;
  /** The variable's own region. */
  readonly w: SlotRegion;
  readonly slots: { readonly [K in StateName]?: SlotRegion };
  /** Where the non-finite check leaves a copy of the gradient (staging.ts), or null. */
  readonly stage: Stage | null;
}

const placements = new WeakMap<tf.Variable, Placement>();

const align16 = (bytes: number): number => (bytes + 15) & ~15;
const align4 = (elements: number): number => (elements + 3) & ~3;

/** What placing needs of an update: the variable and its slots (a sparse step has no dense gradient). */
export type Bindable = { readonly variable: tf.Variable; readonly slots: SlotSet };

/** The optimizer-owned tensors of an update: its slots, and the EMA and accumulator when the optimizer keeps them. */
export function slotsOf(u: Bindable): Array<[StateName, tf.Variable]> {
  const { rms, momentum, mg, ema, accumulator } = u.slots;
  const out: Array<[StateName, tf.Variable]> = [['rms', rms]];
  if (momentum) out.push(['momentum', momentum]);
  if (mg) out.push(['mg', mg]);
  if (ema) out.push(['ema', ema]);
  if (accumulator) out.push(['accumulator', accumulator]);
  return out;
}

export function footprint(u: Bindable): number {
  return (1 + slotsOf(u).length) * align16(u.variable.size * 4);
}

/** Bytes of a stage (staging.ts): one array the size of the variable. */
const stageBytes = (u: Bindable): number => align16(u.variable.size * 4);

/**
 * Whether a dense variable placed now gets a stage for its checked gradients:
 * its optimizer checks them, and the stage fits in a chunk too.
 */
function wantsStage(u: Bindable, dense: boolean): boolean {
  return dense && u.slots.checksGradients === true && footprint(u) + stageBytes(u) + OVERHEAD <= MAX_CHUNK_BYTES;
}

/** Bytes of a ring slot: its two tables of `entries` entries and a scratch of `tile` elements (a multiple of 4). */
const slotBytes = (entries: number, tile: number): number =>
  align16(entries * ENTRY_BYTES) + align16(entries * CLIP_ENTRY_BYTES) + tile * 4;

/** The most bytes a chunk's tables, sums and scratch take. */
export const OVERHEAD = RING * slotBytes(TILE_ENTRIES, TILE_ELEMENTS) + TILE_ENTRIES * 8;

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

/**
 * Builds chunks for updates that have no usable placement, then binds their
 * slots. `dense`: the updates are dense steps, whose checked gradients may be
 * staged (a sparse step's gradient is rows, copied as they come).
 */
export function place(b: CpuBackendInternals, fresh: readonly Bindable[], dense: boolean): void {
  // A stage costs an array the size of the variable, asked for only where the
  // optimizer checks its gradients, and only on one thread: the helper thread's
  // tiles already copy the gradient while the other core updates.
  const bytesOf = (u: Bindable, staged: boolean): number => footprint(u) + (staged ? stageBytes(u) : 0);
  const asked = (u: Bindable): number => bytesOf(u, wantsStage(u, dense));
  let start = 0;
  while (start < fresh.length) {
    let end = start;
    let bytes = 0;
    // Grouped as if every stage asked for were made: a shared chunk makes none.
    while (end < fresh.length && (end === start || bytes + asked(fresh[end]) + OVERHEAD <= MAX_CHUNK_BYTES)) {
      bytes += asked(fresh[end]);
      end++;
    }
    const group = fresh.slice(start, end);
    // Full-size tables: a sparse step fills them with rows even for one variable.
    const entries = TILE_ENTRIES;
    const elements = group.reduce((sum, u) => sum + align4(u.variable.size), 0);
    const tile = Math.min(TILE_ELEMENTS, elements);
    const wantShared = elements >= THREAD_MIN_ELEMENTS && helperThreadPossible();
    const slots = wantShared ? RING : 1;
    const staged = (u: Bindable): boolean => !wantShared && wantsStage(u, dense);
    const stateBytes = group.reduce((sum, u) => sum + bytesOf(u, staged(u)), 0);
    const { memory, shared } = chunkMemory(entries * 8 + slots * slotBytes(entries, tile) + stateBytes, wantShared);
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
    // Stages with the other working areas, ahead of every tensor's region.
    const stages = group.map((u): Stage | null => (staged(u) ? { ...region(u.variable.size), grad: null, check: -1, walk: 0 } : null));
    group.forEach((u, i) => {
      const n = u.variable.size;
      const w = owned(n);
      bind(b, w, u.variable);
      const slots: { [K in StateName]?: SlotRegion } = {};
      for (const [name, slot] of slotsOf(u)) {
        slots[name] = owned(n);
        bind(b, slots[name] as SlotRegion, slot);
      }
      placements.set(u.slots.rms, { chunk, n, w, slots, stage: stages[i] });
    });
    start = end;
  }
}

/** The placement of `u` with every slot bound to it, or null if it needs a new one. */
export function boundPlacement(b: CpuBackendInternals, u: Bindable): Placement | null {
  const p = placements.get(u.slots.rms);
  if (p === undefined || p.n !== u.variable.size || !bind(b, p.w, u.variable)) return null;
  for (const [name, slot] of slotsOf(u)) {
    const r = p.slots[name];
    if (r === undefined || !bind(b, r, slot)) return null;
  }
  return p;
}

/**
 * The placement whose slots include `rms` (an optimizer's slot record tells
 * which it is by its `rms`), without binding anything; for the non-finite check.
 */
export function placementByRms(rms: unknown): Placement | undefined {
  return typeof rms === 'object' && rms !== null ? placements.get(rms as tf.Variable) : undefined;
}

/** Whether a variable of this footprint fits in a chunk at all. */
export function fitsInChunk(u: Bindable): boolean {
  return footprint(u) + OVERHEAD <= MAX_CHUNK_BYTES;
}

/**
 * Gives the variable whose optimizer is being disposed a plain copy of its
 * values (it outlives its optimizer), so the chunk can go.
 */
export function releasePlacement(variable: tf.Variable, slots: SlotSet): void {
  const p = placements.get(slots.rms);
  if (p === undefined) return;
  placements.delete(slots.rms);
  const b = createdCpuBackend();
  const id = variable.dataId as object;
  if (b !== null && holdsView(b, id, p.w.view)) {
    const copy = p.w.view.slice();
    markOwned(copy);
    b.data.get(id).values = copy;
  }
}
