/**
 * The `cpu` backend implementation with the SIMD module. WebAssembly can only
 * reach its own memory, so the optimizer state lives there: each slot tensor's
 * values (`backend.data.get(dataId).values`) is replaced by a Float32Array view
 * into a private `WebAssembly.Memory`, and stays a normal cpu tensor for every
 * other use (getSlot, getWeights, save). Each step only the variable and the
 * gradient cross over: both are copied in, one call updates every variable, and
 * the variable is copied back out.
 *
 * Memory comes in chunks that never grow (growing would detach every view of
 * that memory): a chunk is made for the variables that first reach this kernel
 * in the same step, sized for their slots, variable and gradient copies and the
 * step table. A chunk is freed by the garbage collector once no slot view and no
 * placement refers to it. A slot region is reused when its slot gets a new buffer
 * (`setWeights` assigns one) as long as no live tensor still shows the region.
 * User variables are never re-pointed to wasm memory, only slots, which the
 * optimizer creates with buffers of their own. (A slot restored by setWeights may
 * hold an array the caller also holds, see cpuOwnedValues: binding copies it.)
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { SlotName } from '../optimizer/slots.js';
import type { StepScalars, UpdateForm } from '../rules/types.js';
import {
  cpuBackend, cpuOwnedValues, cpuValues, cpuWritableValues, holdsView, markOwned, type CpuBackendInternals,
} from './cpu_backend.js';
import type { DenseKernel, DenseUpdate } from './types.js';
import { ENTRY_BYTES, ENTRY_WORDS, simdKernels, simdUnavailableReason, type SimdKernels } from './wasm/simd_module.js';

const PAGE = 65536;
/** Largest chunk: a 1.5 GiB private memory is a safe size for every current engine. */
const MAX_CHUNK_BYTES = 1536 * 1024 * 1024;

interface Chunk {
  readonly kernels: SimdKernels;
  readonly words: Uint32Array;
  /** Byte offset of the step table; it holds one entry per placement of the chunk. */
  readonly table: number;
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
  readonly w: Float32Array;
  readonly wOffset: number;
  readonly g: Float32Array;
  readonly gOffset: number;
  readonly slots: { readonly [K in SlotName]?: SlotRegion };
  /** The round of the current step that last used this placement (to split duplicate variables). */
  round: number;
}

const placements = new WeakMap<tf.Variable, Placement>();

const align16 = (bytes: number): number => (bytes + 15) & ~15;

function slotsOf(u: DenseUpdate): Array<[SlotName, tf.Variable]> {
  const out: Array<[SlotName, tf.Variable]> = [['rms', u.slots.rms]];
  if (u.slots.momentum) out.push(['momentum', u.slots.momentum]);
  if (u.slots.mg) out.push(['mg', u.slots.mg]);
  return out;
}

function footprint(u: DenseUpdate): number {
  return (2 + slotsOf(u).length) * align16(u.variable.size * 4);
}

/**
 * Makes the slot's values the region's view, copying its current values in, when
 * no other live tensor shows the region. False when the region is taken.
 */
function bind(b: CpuBackendInternals, region: SlotRegion, slot: tf.Variable): boolean {
  const id = slot.dataId as object;
  const d = b.data.get(id);
  if (d.values === region.view) return true;
  if (region.owner !== null && region.owner !== id && holdsView(b, region.owner, region.view)) return false;
  region.view.set(d.values as Float32Array);
  d.values = region.view;
  region.owner = id;
  return true;
}

/** Builds chunks for updates that have no usable placement, then binds their slots. */
function place(b: CpuBackendInternals, fresh: readonly DenseUpdate[]): void {
  let start = 0;
  while (start < fresh.length) {
    let end = start;
    let bytes = 0;
    while (end < fresh.length && (end === start || bytes + footprint(fresh[end]) <= MAX_CHUNK_BYTES)) {
      bytes += footprint(fresh[end]);
      end++;
    }
    const group = fresh.slice(start, end);
    const tableBytes = align16(group.length * ENTRY_BYTES);
    const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil((tableBytes + bytes) / PAGE)) });
    const kernels = simdKernels(memory) as SimdKernels;
    const chunk: Chunk = { kernels, words: new Uint32Array(memory.buffer), table: 0 };
    let at = tableBytes;
    const region = (n: number): { offset: number; view: Float32Array } => {
      const r = { offset: at, view: new Float32Array(memory.buffer, at, n) };
      at += align16(n * 4);
      return r;
    };
    for (const u of group) {
      const n = u.variable.size;
      const w = region(n);
      const g = region(n);
      const slots: { [K in SlotName]?: SlotRegion } = {};
      for (const [name, slot] of slotsOf(u)) {
        slots[name] = { ...region(n), owner: null };
        markOwned((slots[name] as SlotRegion).view);
        bind(b, slots[name] as SlotRegion, slot);
      }
      placements.set(u.slots.rms, { chunk, n, w: w.view, wOffset: w.offset, g: g.view, gOffset: g.offset, slots, round: -1 });
    }
    start = end;
  }
}

/** The placement of `u` with every slot bound to it, or null if it needs a new one. */
function boundPlacement(b: CpuBackendInternals, u: DenseUpdate): Placement | null {
  const p = placements.get(u.slots.rms);
  if (p === undefined || p.n !== u.variable.size) return null;
  for (const [name, slot] of slotsOf(u)) {
    const r = p.slots[name];
    if (r === undefined || !bind(b, r, slot)) return null;
  }
  return p;
}

/** Runs one round, in which placements are distinct: one call per chunk (usually one in all). */
function runRound(batch: ReadonlyArray<{ u: DenseUpdate; p: Placement }>, form: UpdateForm, s: StepScalars): void {
  const chunks: Chunk[] = [];
  for (const { p } of batch) if (!chunks.includes(p.chunk)) chunks.push(p.chunk);
  for (const chunk of chunks) {
    const words = chunk.words;
    let at = chunk.table >>> 2;
    let count = 0;
    for (const { u, p } of batch) {
      if (p.chunk !== chunk) continue;
      words[at] = p.wOffset;
      words[at + 1] = p.gOffset;
      words[at + 2] = (p.slots.rms as SlotRegion).offset;
      words[at + 3] = p.slots.momentum?.offset ?? 0;
      words[at + 4] = p.slots.mg?.offset ?? 0;
      words[at + 5] = p.n;
      at += ENTRY_WORDS;
      count++;
      p.w.set(cpuValues(u.variable) as Float32Array);
      p.g.set(cpuValues(u.grad) as Float32Array);
    }
    chunk.kernels.step(form, s, chunk.table, count);
    // Written through cpuOwnedValues: the variable's array may be one the caller still holds.
    for (const { u, p } of batch) if (p.chunk === chunk) (cpuOwnedValues(u.variable) as Float32Array).set(p.w);
  }
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
    if (footprint(u) > MAX_CHUNK_BYTES) return 'the variable is too large for a private wasm memory';
    return null;
  },
  run(updates, form, s) {
    const b = cpuBackend() as CpuBackendInternals;
    let ready: Array<{ u: DenseUpdate; p: Placement | null }> = updates.map((u) => ({ u, p: boundPlacement(b, u) }));
    const fresh = ready.filter((e) => e.p === null).map((e) => e.u);
    if (fresh.length > 0) {
      place(b, fresh);
      ready = ready.map(({ u, p }) => ({ u, p: p ?? boundPlacement(b, u) }));
    }
    // A variable listed twice is updated twice, in order, as the op chain does:
    // its second entry starts a new round, since the gradient copy is per placement.
    let round: Array<{ u: DenseUpdate; p: Placement }> = [];
    let roundId = 0;
    for (const { u, p } of ready) {
      const placed = p as Placement;
      if (placed.round === roundId && round.length > 0) {
        runRound(round, form, s);
        round = [];
        roundId++;
      }
      placed.round = roundId;
      round.push({ u, p: placed });
    }
    runRound(round, form, s);
    for (const { p } of ready) (p as Placement).round = -1;
  },
};
