/**
 * The one place that decides which implementation applies each variable's
 * update: the fastest kernel of the active backend that accepts it, else the
 * op chain. Each choice is recorded with the reason for any fallback.
 */
import * as tf from '@tensorflow/tfjs-core';
import { cpuKernel } from './cpu.js';
import { cpuRowKernel, cpuSimdKernel } from './cpu_simd.js';
import { tfopsKernel } from './tfops.js';
import type { SlotSet } from '../optimizer/slots.js';
import type { ClipOptions } from '../optimizer/clipping.js';
import type { StepScalars, UpdateForm } from '../rules/types.js';
import type { DenseKernel, DenseUpdate, RowKernel, RunReport } from './types.js';
import { wasmHeapJsKernel, wasmSimdKernel } from './wasm.js';
import { wasmRowKernel } from './wasm_rows.js';
import { webglFusedKernel } from './webgl/kernel.js';
import { webgpuFusedKernel } from './webgpu/kernel.js';

/**
 * Fast kernels per backend name, tried in order: the fused SIMD pass first, then
 * the reference loops in place (engines without wasm SIMD); on webgl and webgpu
 * the fused shaders. Every other backend uses the op chain.
 */
const FAST_KERNELS: Record<string, DenseKernel[]> = {
  cpu: [cpuSimdKernel, cpuKernel],
  wasm: [wasmSimdKernel, wasmHeapJsKernel],
  webgl: [webglFusedKernel],
  webgpu: [webgpuFusedKernel],
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
 * The fast kernel for the rows of a sparse step of TF 2.4's rules (each row
 * takes the dense rule or TF's sparse momentum kernel), or null for the
 * reference loops. Sized for `count` rows and `valueCount` gradient values; may
 * allocate backend memory, so ask before making views of it.
 */
export function sparseRowKernel(variable: tf.Variable, slots: SlotSet, count: number, valueCount: number): RowKernel | null {
  if (!fastKernelsEnabled) return null;
  switch (tf.getBackend()) {
    case 'wasm': return wasmRowKernel(variable, slots, count, valueCount);
    case 'cpu': return cpuRowKernel(variable, slots);
    default: return null;
  }
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
  readonly groups: ReadonlyArray<{ kernel: DenseKernel; updates: readonly DenseUpdate[] }>;
  /**
   * What ran for each update, built when asked (a step should not pay for a
   * report), with what kernels reported running instead (`runPlan`'s result).
   */
  choices(reported?: ReadonlyMap<DenseKernel, RunReport>): KernelChoice[];
}

/** Runs each group of `plan`; returns what kernels reported running instead of themselves, for `choices`. */
export function runPlan(
  plan: DensePlan, form: UpdateForm, s: StepScalars, clip: ClipOptions | undefined,
): ReadonlyMap<DenseKernel, RunReport> | undefined {
  let reported: Map<DenseKernel, RunReport> | undefined;
  for (const { kernel, updates } of plan.groups) {
    const report = kernel.run(updates, form, s, clip);
    if (report) (reported ??= new Map()).set(kernel, report);
  }
  return reported;
}

export function planDense(updates: readonly DenseUpdate[]): DensePlan {
  const candidates = fastKernelsEnabled ? FAST_KERNELS[tf.getBackend()] ?? [] : [];
  const chosen: DenseKernel[] = new Array(updates.length);
  let reasons: Map<number, string> | null = null;
  let mixed = false;
  for (let i = 0; i < updates.length; i++) {
    let kernel: DenseKernel = tfopsKernel;
    let why: string[] | null = null;
    for (const k of candidates) {
      const reason = k.unsupportedReason(updates[i]);
      if (reason === null) { kernel = k; break; }
      (why ??= []).push(`${k.name}: ${reason}`);
    }
    chosen[i] = kernel;
    if (why !== null) (reasons ??= new Map()).set(i, why.join('; '));
    if (kernel !== chosen[0]) mixed = true;
  }
  const choices = (reported?: ReadonlyMap<DenseKernel, RunReport>): KernelChoice[] => updates.map((u, i) => {
    const ran = reported?.get(chosen[i]);
    const fallbackReason = [reasons?.get(i), ran?.reason].filter((r) => r !== undefined).join('; ');
    const kernel = ran?.kernel ?? chosen[i].name;
    return fallbackReason === '' ? { variable: u.variable.name, kernel } : { variable: u.variable.name, kernel, fallbackReason };
  });
  if (!mixed) return { groups: updates.length > 0 ? [{ kernel: chosen[0], updates }] : [], choices };
  const groups = new Map<DenseKernel, DenseUpdate[]>();
  updates.forEach((u, i) => {
    const group = groups.get(chosen[i]);
    if (group === undefined) groups.set(chosen[i], [u]);
    else group.push(u);
  });
  return { groups: [...groups].map(([kernel, us]) => ({ kernel, updates: us })), choices };
}
