/**
 * The one place that decides which implementation applies each variable's
 * update: the fastest kernel of the active backend that accepts it, else the
 * op chain. Each choice is recorded with the reason for any fallback.
 */
import * as tf from '@tensorflow/tfjs-core';
import { cpuKernel } from './cpu.js';
import { cpuSimdKernel } from './cpu_simd.js';
import { tfopsKernel } from './tfops.js';
import type { SlotSet } from '../optimizer/slots.js';
import type { DenseKernel, DenseUpdate } from './types.js';
import { wasmHeapJsKernel, wasmSimdKernel } from './wasm.js';

/**
 * Fast kernels per backend name, tried in order: the fused SIMD pass first, then
 * the reference loops in place (engines without wasm SIMD). Every other backend
 * (webgl, webgpu, ...) uses the op chain.
 */
const FAST_KERNELS: Record<string, DenseKernel[]> = {
  cpu: [cpuSimdKernel, cpuKernel],
  wasm: [wasmSimdKernel, wasmHeapJsKernel],
};

let fastKernelsEnabled = true;

/**
 * Turns the fast kernels off (every update takes the op chain) or back on. For
 * tests and for bisecting a suspected kernel problem; returns the previous setting.
 */
export function setFastKernelsEnabled(enabled: boolean): boolean {
  const previous = fastKernelsEnabled;
  fastKernelsEnabled = enabled;
  return previous;
}

/**
 * The plan for a step whose clipping one kernel folds into the update: every
 * gradient dense and every update taken by that kernel (a global norm must span
 * all of them). Null when any gradient or update would go elsewhere.
 */
export function foldingPlan(updates: ReadonlyArray<{ readonly grad: unknown }>): DensePlan | null {
  if (!updates.every((u) => u.grad instanceof tf.Tensor)) return null;
  const plan = planDense(updates as readonly DenseUpdate[]);
  return plan.groups.length === 1 && plan.groups[0].kernel.foldsClipping === true ? plan : null;
}

/** Lets every kernel hand back what it holds for these variables (their optimizer is being disposed). */
export function releaseKernelState(entries: Iterable<readonly [tf.Variable, SlotSet]>): void {
  const kernels = new Set(Object.values(FAST_KERNELS).flat());
  for (const [variable, slots] of entries) for (const k of kernels) k.release?.(variable, slots);
}

export interface KernelChoice {
  readonly variable: string;
  readonly kernel: string;
  /** Why the faster kernels were not used, when they were not. */
  readonly fallbackReason?: string;
}

export interface DensePlan {
  readonly groups: ReadonlyArray<{ kernel: DenseKernel; updates: DenseUpdate[] }>;
  readonly choices: readonly KernelChoice[];
}

export function planDense(updates: readonly DenseUpdate[]): DensePlan {
  const candidates = fastKernelsEnabled ? FAST_KERNELS[tf.getBackend()] ?? [] : [];
  const groups = new Map<DenseKernel, DenseUpdate[]>();
  const choices: KernelChoice[] = [];
  for (const u of updates) {
    let chosen: DenseKernel = tfopsKernel;
    const reasons: string[] = [];
    for (const k of candidates) {
      const why = k.unsupportedReason(u);
      if (why === null) { chosen = k; break; }
      reasons.push(`${k.name}: ${why}`);
    }
    if (!groups.has(chosen)) groups.set(chosen, []);
    groups.get(chosen)!.push(u);
    choices.push({
      variable: u.variable.name, kernel: chosen.name,
      ...(reasons.length ? { fallbackReason: reasons.join('; ') } : {}),
    });
  }
  return { groups: [...groups].map(([kernel, us]) => ({ kernel, updates: us })), choices };
}
