/**
 * The fused SIMD kernels (wasm-src/rmsprop.ts), compiled once and instantiated
 * once per `WebAssembly.Memory` they work in: the wasm backend's heap, or a
 * private memory of the cpu kernel. The module is a leaf (checked at build time),
 * so instantiating it on a live heap writes nothing.
 */
import type { StepScalars, UpdateForm } from '../../rules/types.js';
import { RMSPROP_SIMD_SHARED_WASM, RMSPROP_SIMD_WASM } from './simd_bytes.generated.js';

/** Bytes per table entry: six u32, `[w, g, ms, mom, mg, n]` (byte offsets, element count). */
export const ENTRY_BYTES = 24;
export const ENTRY_WORDS = 6;

type Step4 = (table: number, count: number, a: number, b: number, c: number, d: number) => void;

interface SimdExports {
  momentum: Step4;
  momentumCentered: Step4;
  plain: Step4;
  plainCentered: Step4;
}

/** The kernels bound to one memory. */
export interface SimdKernels {
  readonly memory: WebAssembly.Memory;
  /** Runs `count` table entries starting at byte offset `table` of the memory. */
  step(form: UpdateForm, s: StepScalars, table: number, count: number): void;
}

function decode(base64: string): Uint8Array<ArrayBuffer> {
  if (!base64) throw new Error('RMSprop: the SIMD kernel bytes are empty; run `npm run build`');
  const bin = atob(base64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

let modules: { plain: WebAssembly.Module; shared: WebAssembly.Module } | null = null;
let unavailable: string | null = null;

// Synchronous compile is allowed here: the modules are ~1.6 KB, under the 4 KB limit
// browsers put on synchronous compilation on the main thread.
function compiled(): typeof modules {
  if (modules === null && unavailable === null) {
    try {
      if (typeof WebAssembly !== 'object') throw new Error('no WebAssembly in this environment');
      modules = {
        plain: new WebAssembly.Module(decode(RMSPROP_SIMD_WASM)),
        shared: new WebAssembly.Module(decode(RMSPROP_SIMD_SHARED_WASM)),
      };
    } catch (e) {
      unavailable = `WebAssembly SIMD is not available: ${(e as Error).message}`;
    }
  }
  return modules;
}

/** Why the SIMD kernels cannot run here, or null when they can. */
export function simdUnavailableReason(): string | null {
  compiled();
  return unavailable;
}

const byMemory = new WeakMap<WebAssembly.Memory, SimdKernels>();

function isShared(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

/** The kernels working in `memory` (instantiated on first use), or null if SIMD is unavailable. */
export function simdKernels(memory: WebAssembly.Memory): SimdKernels | null {
  const cached = byMemory.get(memory);
  if (cached) return cached;
  const m = compiled();
  if (m === null) return null;
  const instance = new WebAssembly.Instance(isShared(memory) ? m.shared : m.plain, { env: { memory } });
  const x = instance.exports as unknown as SimdExports;
  const kernels: SimdKernels = {
    memory,
    step(form, s, table, count) {
      if (count === 0) return;
      if (form.path === 'momentum') {
        (form.centered ? x.momentumCentered : x.momentum)(table, count, s.lr, s.oneMinusRho, s.momentum, s.epsilon);
      } else {
        (form.centered ? x.plainCentered : x.plain)(table, count, s.lr, s.rho, s.oneMinusRho, s.epsilon);
      }
    },
  };
  byMemory.set(memory, kernels);
  return kernels;
}
