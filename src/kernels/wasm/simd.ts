/**
 * `wasm-simd`: the fused SIMD modules on the `wasm` backend's own heap. The
 * modules import tfjs-wasm's `WebAssembly.Memory`, so variables, slots and
 * gradients are read and written where they live, with no copy and no tensor
 * created. All updates of a step go through one call: a table of
 * `[w, g, ms, mom, mg, n]` offsets, kept in a buffer from the backend's
 * allocator that is reused while it is large enough.
 */
import { foldClip, hasClipping, type ClipOptions } from '../../clipping/scalar.js';
import type { Around } from '../../rules/training.js';
import type { StepScalars, UpdateForm } from '../../rules/types.js';
import {
  aroundCalls, CLIP_ENTRY_BYTES, CLIP_ENTRY_WORDS, clipCall, ENTRY_BYTES, ENTRY_WORDS, simdKernels, simdUnavailableReason, stepCalls,
  unscaleIntoCall, writeEntry, type SimdKernels,
} from '../simd/module.js';
import { clipFactors, TILE_ELEMENTS, TILE_ENTRIES, walkTiles } from '../simd/tiles.js';
import type { DenseKernel, DenseUpdate } from '../types.js';
import {
  heapReason, markEntryWritten, wasmBackend, wasmMemory, type WasmBackendInternals, type WasmTensorData,
} from './heap.js';

const offsetOf = (d: WasmTensorData | null): number => (d === null ? 0 : d.memoryOffset as number);

/**
 * Writes each update's table entry into the table at byte `table` of `words`,
 * looking every tensor up once, and drops whatever tfjs-wasm cached from the old
 * contents of the tensors the step is about to write (nothing reads them
 * between this and the kernel call).
 */
function writeEntries(b: WasmBackendInternals, updates: readonly DenseUpdate[], words: Uint32Array, table: number): void {
  const map = b.dataIdMap;
  for (let i = 0; i < updates.length; i++) {
    const u = updates[i];
    const { rms, momentum, mg, ema, accumulator } = u.slots;
    const n = u.variable.size;
    const w = map.get(u.variable.dataId) as WasmTensorData;
    const ms = map.get(rms.dataId) as WasmTensorData;
    const mo = momentum ? map.get(momentum.dataId) as WasmTensorData : null;
    const ma = mg ? map.get(mg.dataId) as WasmTensorData : null;
    const av = ema ? map.get(ema.dataId) as WasmTensorData : null;
    const ac = accumulator ? map.get(accumulator.dataId) as WasmTensorData : null;
    const g = (map.get(u.grad.dataId) as WasmTensorData).memoryOffset as number;
    writeEntry(
      words, table, i, w.memoryOffset as number, ms.memoryOffset as number, offsetOf(mo), offsetOf(ma), 0, g, n, offsetOf(av), offsetOf(ac),
    );
    markEntryWritten(b, w, n);
    // Slots no op outside the optimizer has seen cannot be in any cache: with cold
    // caches after a large step, re-registering them was 9% of a 200-variable step.
    if (u.slots.handedOut !== false) {
      markEntryWritten(b, ms, n);
      if (mo !== null) markEntryWritten(b, mo, n);
      if (ma !== null) markEntryWritten(b, ma, n);
      if (av !== null) markEntryWritten(b, av, n);
      if (ac !== null) markEntryWritten(b, ac, n);
    }
  }
}

/** The step table, in the backend's heap, reused across steps. */
interface Table {
  ptr: number;
  capacity: number;
  words: Uint32Array | null;
}

const tables = new WeakMap<WasmBackendInternals, Table>();

/**
 * A table with room for `count` entries, and a u32 view of the heap made after
 * any allocation (an allocation may grow the heap, which detaches older views).
 */
function tableFor(b: WasmBackendInternals, memory: WebAssembly.Memory, count: number): { ptr: number; words: Uint32Array } {
  let t = tables.get(b);
  if (t === undefined) {
    t = { ptr: 0, capacity: 0, words: null };
    tables.set(b, t);
  }
  if (t.capacity < count) {
    if (t.capacity > 0) b.wasm._free(t.ptr);
    const capacity = Math.max(count, 2 * t.capacity, 16);
    t.ptr = b.wasm._malloc(capacity * ENTRY_BYTES) >>> 0;
    t.capacity = capacity;
  }
  if (t.words === null || t.words.buffer !== memory.buffer) t.words = new Uint32Array(memory.buffer);
  return { ptr: t.ptr, words: t.words };
}

/**
 * What folded clipping needs on the heap, allocated once per backend: a step
 * table and a clipping table of TILE_ENTRIES entries, their float64 sums, and a
 * scratch tile the clipped gradients go to (the gradients themselves may be the
 * caller's tensors, so they are never written); and a table of the clipping
 * table's layout for the loss scale's division into the scratch.
 */
export interface ClipWorkspace {
  readonly table: number;
  readonly clipTable: number;
  readonly sums: number;
  readonly scratch: number;
  readonly unscaleTable: number;
}

const workspaces = new WeakMap<WasmBackendInternals, ClipWorkspace>();

export function workspaceFor(b: WasmBackendInternals): ClipWorkspace {
  let w = workspaces.get(b);
  if (w === undefined) {
    const table = b.wasm._malloc(TILE_ENTRIES * (ENTRY_BYTES + 2 * CLIP_ENTRY_BYTES + 8) + TILE_ELEMENTS * 4 + 16) >>> 0;
    const clipTable = table + TILE_ENTRIES * ENTRY_BYTES;
    const sums = (clipTable + TILE_ENTRIES * CLIP_ENTRY_BYTES + 7) & ~7;
    const scratch = sums + TILE_ENTRIES * 8;
    w = { table, clipTable, sums, scratch, unscaleTable: scratch + TILE_ELEMENTS * 4 };
    workspaces.set(b, w);
  }
  return w;
}

let entryWords = new Uint32Array(16 * ENTRY_WORDS);

/** A JS-side table for `count` entries, reused across steps. */
function entryScratch(count: number): Uint32Array {
  if (entryWords.length < count * ENTRY_WORDS) entryWords = new Uint32Array(Math.max(count, 2 * (entryWords.length / ENTRY_WORDS)) * ENTRY_WORDS);
  return entryWords;
}

/**
 * The step tile by tile, for clipping folded in and for a call whose gradient
 * the kernel makes (a loss scale, an accumulation's mean). With clipping, the
 * norms are measured on the gradients where they lie (one read each) and each
 * tile's clipped gradients go to the scratch; with a loss scale each gradient
 * tile is divided into the scratch, with only an accumulation it is copied
 * there, and the call's gradient is made in it. The caller's gradients are never written.
 */
function runTiled(
  b: WasmBackendInternals, kernels: SimdKernels, updates: readonly DenseUpdate[], form: UpdateForm, s: StepScalars,
  clip: ClipOptions | null, around: Around | undefined,
): void {
  const folded = clip === null ? null : foldClip(clip);
  const ws = workspaceFor(b);
  // Views after the allocation above: it may have grown the heap.
  const { buffer } = kernels.memory;
  const words = new Uint32Array(buffer);
  const floats = new Float32Array(buffer);
  const doubles = new Float64Array(buffer);
  const entries = entryScratch(updates.length);
  writeEntries(b, updates, entries, 0);
  const offset = (k: number, field: number): number => entries[k * ENTRY_WORDS + field];
  const sizeOf = (k: number): number => updates[k].variable.size;
  // An entry of the clipping table's layout: in the clipping table, or the loss scale's (cn = dn = 1, unread).
  const clipEntry = (entry: number, src: number, dst: number, len: number, cn: number, dn: number, table = ws.clipTable): void => {
    const c = (table >>> 2) + entry * CLIP_ENTRY_WORDS;
    words[c] = src;
    words[c + 1] = dst;
    words[c + 2] = len;
    floats[c + 3] = cn;
    floats[c + 4] = dn;
  };
  const factors = folded === null ? null : clipFactors(folded, updates.length, (cn, dn) => {
    const out = new Float64Array(updates.length);
    const owner: number[] = [];
    walkTiles(updates.length, sizeOf, Infinity, TILE_ENTRIES, (k, off, len, _at, entry) => {
      owner[entry] = k;
      clipEntry(entry, offset(k, 1) + off * 4, 0, len, cn[k], dn[k]);
    }, (segments) => {
      kernels.sumSquares(ws.clipTable, segments, folded.lo, folded.hi, ws.sums);
      for (let i = 0; i < segments; i++) out[owner[i]] += doubles[(ws.sums >>> 3) + i];
    });
    return out;
  });
  // The loss scale divides each gradient tile on its way into the scratch (one
  // pass); the rest of the call's passes are the same for every tile, resolved once.
  const into = around?.unscale != null ? [unscaleIntoCall(Math.fround(around.unscale))] : null;
  const { before, after } = around === undefined ? { before: [], after: stepCalls(form, s) }
    : aroundCalls(form, s, into === null ? around : { ...around, unscale: null });
  const calls = folded === null || factors === null ? [...before, ...after]
    : [...before, clipCall(folded.lo, folded.hi, factors.scale), ...after];
  // The call's gradient is made in the scratch: the tile divided into it, or copied first.
  const copied = into === null && before.length > 0;
  walkTiles(updates.length, sizeOf, TILE_ELEMENTS, TILE_ENTRIES, (k, off, len, at, entry) => {
    const src = offset(k, 1) + off * 4;
    let g = src;
    if (into !== null || copied || factors !== null) {
      g = ws.scratch + at * 4;
      if (copied) floats.copyWithin(g >>> 2, src >>> 2, (src >>> 2) + len);
      if (into !== null) clipEntry(entry, src, g, len, 1, 1, ws.unscaleTable);
      if (factors !== null) clipEntry(entry, copied || into !== null ? g : src, g, len, factors.cn[k], factors.dn[k]);
    }
    writeEntry(
      words, ws.table, entry, offset(k, 0), offset(k, 2), offset(k, 3), offset(k, 4), off * 4, g, len, offset(k, 6), offset(k, 7),
    );
  }, (segments) => {
    if (into !== null) kernels.call(into, ws.table, ws.unscaleTable, segments);
    kernels.call(calls, ws.table, ws.clipTable, segments);
  });
}

export const wasmSimdKernel: DenseKernel = {
  name: 'wasm-simd',
  foldsClipping: true,
  unsupportedReason(u) {
    return simdUnavailableReason() ?? heapReason(u);
  },
  foldsAround: true,
  run(updates, form, s, clip, around) {
    const b = wasmBackend() as WasmBackendInternals;
    const memory = wasmMemory(b) as WebAssembly.Memory;
    const kernels = simdKernels(memory);
    if (kernels === null) throw new Error('RMSprop: wasm-simd selected but SIMD is unavailable');
    const clipping = clip !== undefined && hasClipping(clip) ? clip : null;
    if (clipping !== null || (around !== undefined && (around.combineSteps !== null || around.unscale !== null))) {
      runTiled(b, kernels, updates, form, s, clipping, around);
      return;
    }
    const { ptr, words } = tableFor(b, memory, updates.length);
    writeEntries(b, updates, words, ptr);
    if (around === undefined) kernels.step(form, s, ptr, updates.length);
    // The EMA is folded into the update's loop, and an accumulating call's passes
    // share no array: no tiles needed.
    else kernels.call(aroundCalls(form, s, around).after, ptr, 0, updates.length);
  },
};
