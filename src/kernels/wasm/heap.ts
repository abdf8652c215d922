/**
 * Access to the `wasm` backend's heap (tfjs-backend-wasm 4.22): each tensor is a
 * region of the Emscripten heap at `dataIdMap.get(dataId).memoryOffset`. The heap
 * is a `WebAssembly.Memory` reachable as `wasm.asm.memory` (non-threaded builds,
 * what Node uses) or `wasm.wasmMemory` (threaded build). These are Emscripten
 * internals, which is why tfjs-core is pinned to 4.22.x. Only buffers with
 * refCount 1 are written: `reshape`, `tf.variable(init)` and `assign` share them.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DenseState } from '../../rules/types.js';
import type { DenseUpdate, RowTarget } from '../types.js';

export interface WasmTensorData {
  /** The id the C++ side knows the tensor by. */
  id: number;
  memoryOffset: number | null;
  dtype: string;
  refCount: number;
  shape: number[];
}

interface EmscriptenModule {
  asm?: { memory?: WebAssembly.Memory };
  wasmMemory?: WebAssembly.Memory;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  tfjs?: {
    registerTensor(id: number, size: number, memoryOffset: number): void;
    disposeData(id: number): void;
  };
}

export interface WasmBackendInternals {
  wasm: EmscriptenModule;
  dataIdMap: { has(dataId: object): boolean; get(dataId: object): WasmTensorData | undefined };
}

// Checked once per backend object: the Emscripten module has hundreds of
// properties, and reading them on every variable of every step showed up in profiles.
const internalsOf = new WeakMap<object, WasmBackendInternals | null>();

function checkInternals(b: Partial<WasmBackendInternals>): WasmBackendInternals | null {
  if (!b.wasm || typeof b.wasm._malloc !== 'function' || !b.dataIdMap || typeof b.dataIdMap.get !== 'function' ||
      typeof b.wasm.tfjs?.registerTensor !== 'function' || typeof b.wasm.tfjs?.disposeData !== 'function') {
    return null;
  }
  return b as WasmBackendInternals;
}

/** The active backend if it is tfjs-backend-wasm with the internals this package relies on. */
export function wasmBackend(): WasmBackendInternals | null {
  if (tf.getBackend() !== 'wasm') return null;
  const b = tf.backend();
  let internals = internalsOf.get(b);
  if (internals === undefined) {
    internals = checkInternals(b as unknown as Partial<WasmBackendInternals>);
    internalsOf.set(b, internals);
  }
  return internals;
}

/** The heap of the wasm backend, or null if this build does not expose it. */
export function wasmMemory(b: WasmBackendInternals): WebAssembly.Memory | null {
  const m = b.wasm.asm?.memory ?? b.wasm.wasmMemory;
  return m instanceof WebAssembly.Memory ? m : null;
}

/** The tensor's float32 buffer on the wasm heap, or null if the wasm backend does not hold it. */
export function wasmEntry(b: WasmBackendInternals, t: tf.Tensor): WasmTensorData | null {
  const d = b.dataIdMap.get(t.dataId as object);
  return d !== undefined && d.dtype === 'float32' && d.memoryOffset !== null ? d : null;
}

/** Byte offset of `t`'s buffer when it may be read (any refCount), else null. */
export function wasmOffset(b: WasmBackendInternals, t: tf.Tensor): number | null {
  return wasmEntry(b, t)?.memoryOffset ?? null;
}

/** Byte offset of `t`'s buffer when it may be written in place (its buffer is its own), else null. */
export function wasmWritableOffset(b: WasmBackendInternals, t: tf.Tensor): number | null {
  const d = wasmEntry(b, t);
  return d !== null && d.refCount === 1 ? d.memoryOffset : null;
}

/**
 * Tells tfjs-wasm's C++ side that a tensor's contents changed in place. Its
 * kernels cache work keyed by tensor id: MatMul and Conv2D keep XNNPACK operators
 * holding weights *packed at creation*, dropped only when the id is disposed. A
 * variable updated in place keeps its id, so without this the next forward pass
 * would use the weights of the first step. Unregistering the id runs its disposal
 * callbacks (which delete those operators); registering it again at the same
 * offset leaves the tensor as it was. Two hash-map operations per tensor.
 */
export function markWritten(b: WasmBackendInternals, t: tf.Tensor): void {
  markEntryWritten(b, b.dataIdMap.get(t.dataId as object) as WasmTensorData, t.size);
}

/** `markWritten` for a tensor whose entry is already at hand. */
export function markEntryWritten(b: WasmBackendInternals, d: WasmTensorData, size: number): void {
  const api = b.wasm.tfjs as NonNullable<EmscriptenModule['tfjs']>;
  api.disposeData(d.id);
  api.registerTensor(d.id, size, d.memoryOffset as number);
}

/** Why `u` cannot be updated in place on the wasm heap, or null. */
export function heapReason(u: DenseUpdate): string | null {
  const b = wasmBackend();
  const why = reachReason(b, u);
  if (why !== null) return why;
  if (wasmOffset(b as WasmBackendInternals, u.grad) === null) return 'the gradient is not a float32 tensor held by the wasm backend';
  if (u.grad.size !== u.variable.size) return 'the gradient and the variable differ in size';
  return writeReason(b as WasmBackendInternals, u, 'variable');
}

/** Why the rows of `target` cannot be updated in place on the wasm heap, or null. */
export function rowsHeapReason(target: RowTarget): string | null {
  const b = wasmBackend();
  return reachReason(b, target) ?? writeReason(b as WasmBackendInternals, target, 'table');
}

/** Why the heap or a float32 variable on it cannot be reached, or null. */
function reachReason(b: WasmBackendInternals | null, target: RowTarget): string | null {
  if (b === null) return 'the wasm backend internals are not reachable';
  if (wasmMemory(b) === null) return 'the wasm heap is not reachable in this tfjs-backend-wasm build';
  if (target.variable.dtype !== 'float32') return `dtype ${target.variable.dtype}`;
  return null;
}

/** Why a variable (`what` in the message) or one of its slots cannot be written in place, or null. */
function writeReason(b: WasmBackendInternals, target: RowTarget, what: string): string | null {
  if (wasmWritableOffset(b, target.variable) === null) return `the ${what} shares its buffer with another tensor`;
  const { rms, momentum, mg, ema, accumulator } = target.slots;
  for (const t of [rms, momentum, mg, ema, accumulator]) {
    if (t !== undefined && wasmWritableOffset(b, t) === null) return 'a slot shares its buffer with another tensor';
  }
  return null;
}

/**
 * Views of the heap holding a variable and its slots. Make no allocation on the
 * heap between this and the last use of the views: growing it detaches them.
 */
export function heapState(b: WasmBackendInternals, memory: WebAssembly.Memory, target: RowTarget): DenseState {
  const view = (t: tf.Tensor): Float32Array => new Float32Array(memory.buffer, wasmOffset(b, t) as number, t.size);
  const { rms, momentum, mg, ema, accumulator } = target.slots;
  return {
    w: view(target.variable), ms: view(rms), mom: momentum && view(momentum), mg: mg && view(mg),
    avg: ema && view(ema), acc: accumulator && view(accumulator),
  };
}

/** `markWritten` for a variable and every slot it has. */
export function markAllWritten(b: WasmBackendInternals, target: RowTarget): void {
  const { rms, momentum, mg, ema, accumulator } = target.slots;
  for (const t of [target.variable, rms, momentum, mg, ema, accumulator]) if (t !== undefined) markWritten(b, t);
}
