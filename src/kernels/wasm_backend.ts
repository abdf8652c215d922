/**
 * Access to the `wasm` backend's heap (tfjs-backend-wasm 4.22): each tensor is a
 * region of the Emscripten heap at `dataIdMap.get(dataId).memoryOffset`. The heap
 * is a `WebAssembly.Memory` reachable as `wasm.asm.memory` (non-threaded builds,
 * what Node uses) or `wasm.wasmMemory` (threaded build). These are Emscripten
 * internals, which is why tfjs-core is pinned to 4.22.x. Only buffers with
 * refCount 1 are written: `reshape`, `tf.variable(init)` and `assign` share them.
 */
import * as tf from '@tensorflow/tfjs-core';

interface WasmTensorData {
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
}

export interface WasmBackendInternals {
  wasm: EmscriptenModule;
  dataIdMap: { has(dataId: object): boolean; get(dataId: object): WasmTensorData | undefined };
}

/** The active backend if it is tfjs-backend-wasm with the internals this package relies on. */
export function wasmBackend(): WasmBackendInternals | null {
  if (tf.getBackend() !== 'wasm') return null;
  const b = tf.backend() as unknown as Partial<WasmBackendInternals>;
  if (!b.wasm || typeof b.wasm._malloc !== 'function' || !b.dataIdMap || typeof b.dataIdMap.get !== 'function') {
    return null;
  }
  return b as WasmBackendInternals;
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
