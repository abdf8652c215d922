/**
 * The kernels of each backend, registered in one list per backend (like
 * tfjs-backend-*'s register_all_kernels.ts): dense kernels and sparse-row
 * kernels, fastest first. The op chain ends every list: it runs anywhere.
 * A backend kernel is added here and nowhere else.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { cpuFiniteCheck } from './cpu/finite.js';
import { cpuInplaceRows, cpuKernel } from './cpu/inplace.js';
import { cpuSimdKernel, cpuSimdRows } from './cpu/simd.js';
import { tfopsKernel } from './tfops/dense.js';
import { tfopsFiniteCheck } from './tfops/finite.js';
import { tfopsRows } from './tfops/rows.js';
import type { DenseKernel, FiniteCheck, RowKernel, SlotSet } from './types.js';
import { wasmFiniteCheck } from './wasm/finite.js';
import { wasmHeapJsKernel, wasmHeapRows } from './wasm/heap_js.js';
import { wasmSimdRows } from './wasm/rows.js';
import { wasmSimdKernel } from './wasm/simd.js';
import { webglFusedKernel } from './webgl/kernel.js';
import { webglRows } from './webgl/rows.js';
import { webgpuFiniteCheck } from './webgpu/finite.js';
import { webgpuFusedKernel } from './webgpu/kernel.js';
import { webgpuRows } from './webgpu/rows.js';

interface BackendKernels {
  /** Fused or in-place dense kernels, fastest first. */
  readonly dense: readonly DenseKernel[];
  /** Row kernels, fastest first; the reference loops among them stay when fast kernels are off. */
  readonly rows: readonly RowKernel[];
  /** Non-finite checks of gradients (nonFinite 'skip' and 'error'). */
  readonly finite: readonly FiniteCheck[];
}

const REGISTRY = new Map<string, BackendKernels>([
  ['cpu', { dense: [cpuSimdKernel, cpuKernel], rows: [cpuSimdRows, cpuInplaceRows], finite: [cpuFiniteCheck] }],
  ['wasm', { dense: [wasmSimdKernel, wasmHeapJsKernel], rows: [wasmSimdRows, wasmHeapRows], finite: [wasmFiniteCheck] }],
  ['webgl', { dense: [webglFusedKernel], rows: [webglRows], finite: [] }],
  ['webgpu', { dense: [webgpuFusedKernel], rows: [webgpuRows], finite: [webgpuFiniteCheck] }],
]);

let fastKernelsEnabled = true;
let opChainOnly = false;
const cache = new Map<string, BackendKernels>();

/**
 * Turns the fast kernels off (dense updates take the op chain, sparse rows the
 * reference loops where they can run in place) or back on. For tests and for
 * bisecting a suspected kernel problem; returns the previous setting.
 */
export function setFastKernelsEnabled(enabled: boolean): boolean {
  const previous = fastKernelsEnabled;
  fastKernelsEnabled = enabled;
  cache.clear();
  return previous;
}

/**
 * Every update and every sparse row takes the op chain, as on a backend with no
 * kernels of its own (webgl, webgpu): for tests of that path on cpu and wasm.
 * Returns the previous setting.
 */
export function setOpChainOnly(on: boolean): boolean {
  const previous = opChainOnly;
  opChainOnly = on;
  cache.clear();
  return previous;
}

function kernelsOf(backend: string): BackendKernels {
  let lists = cache.get(backend);
  if (lists === undefined) {
    const registered = (opChainOnly ? undefined : REGISTRY.get(backend)) ?? { dense: [], rows: [], finite: [] };
    lists = {
      dense: [...(fastKernelsEnabled ? registered.dense : []), tfopsKernel],
      rows: [...registered.rows.filter((k) => fastKernelsEnabled || k.reference === true), tfopsRows],
      finite: [...(fastKernelsEnabled ? registered.finite : []), tfopsFiniteCheck],
    };
    cache.set(backend, lists);
  }
  return lists;
}

/** The dense kernels for `backend`, fastest first, ending with the op chain. */
export function denseKernels(backend: string): readonly DenseKernel[] {
  return kernelsOf(backend).dense;
}

/** The sparse-row kernels for `backend`, fastest first, ending with the op chain's gather and scatter. */
export function rowKernels(backend: string): readonly RowKernel[] {
  return kernelsOf(backend).rows;
}

/** The non-finite checks for `backend`, fastest first, ending with the op chain's. */
export function finiteChecks(backend: string): readonly FiniteCheck[] {
  return kernelsOf(backend).finite;
}

/** Lets every kernel hand back what it holds for these variables (their optimizer is being disposed). */
export function releaseKernelState(entries: Iterable<readonly [tf.Variable, SlotSet]>): void {
  const kernels = new Set<DenseKernel | RowKernel>([...REGISTRY.values()].flatMap((k) => [...k.dense, ...k.rows]));
  for (const [variable, slots] of entries) for (const k of kernels) k.release?.(variable, slots);
}
