/**
 * Access to the `wasm` backend's heap (tfjs-backend-wasm 4.22): each tensor is a
 * region of the Emscripten heap at `dataIdMap.get(dataId).memoryOffset`. The heap
 * is a `WebAssembly.Memory` reachable as `wasm.asm.memory` (non-threaded builds,
 * what Node uses) or `wasm.wasmMemory` (threaded build). These are Emscripten
 * internals, which is why tfjs-core is pinned to 4.22.x. Only buffers with
 * refCount 1 are written: `reshape`, `tf.variable(init)` and `assign` share them.
 */
import * as tf from '@tensorflow/tfjs-core';

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
