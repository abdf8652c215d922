/**
 * The one place that decides which kernel runs each update: the first kernel
 * of the list (registry.ts, fastest first, the op chain last) that accepts it.
 * Each choice is recorded with the reasons of the kernels that declined.
 * Generic in the kernel's type, so the optimizer base can plan with kernels
 * whose rule is bound (it never sees the rule).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelChoice, RunReport } from './types.js';

/** What planning needs of a kernel. */
export interface Plannable<U> {
  readonly name: string;
  unsupportedReason(u: U): string | null;
  readonly foldsClipping?: boolean;
}

interface Update {
  readonly variable: tf.Variable;
}

export interface DensePlan<U, K> {
  readonly groups: ReadonlyArray<{ readonly kernel: K; readonly updates: readonly U[] }>;
  /**
   * What ran for each update, built when asked (a step should not pay for a
   * report), with what kernels reported running instead (`runPlan`'s result).
   */
  choices(reported?: ReadonlyMap<K, RunReport>): KernelChoice[];
}

/** Groups the updates by the first kernel that accepts each; the last kernel must accept every update. */
export function planDense<U extends Update, K extends Plannable<U>>(updates: readonly U[], kernels: readonly K[]): DensePlan<U, K> {
  const chosen: K[] = new Array(updates.length);
  let reasons: Map<number, string> | null = null;
  let mixed = false;
  const last = kernels[kernels.length - 1];
  for (let i = 0; i < updates.length; i++) {
    let kernel = last;
    let why: string[] | null = null;
    for (const k of kernels) {
      const reason = k === last ? null : k.unsupportedReason(updates[i]);
      if (reason === null) { kernel = k; break; }
      (why ??= []).push(`${k.name}: ${reason}`);
    }
    chosen[i] = kernel;
    if (why !== null) (reasons ??= new Map()).set(i, why.join('; '));
    if (kernel !== chosen[0]) mixed = true;
  }
  const choices = (reported?: ReadonlyMap<K, RunReport>): KernelChoice[] => updates.map((u, i) => {
    const ran = reported?.get(chosen[i]);
    const fallbackReason = [reasons?.get(i), ran?.reason].filter((r) => r !== undefined).join('; ');
    const kernel = ran?.kernel ?? chosen[i].name;
    return fallbackReason === '' ? { variable: u.variable.name, kernel } : { variable: u.variable.name, kernel, fallbackReason };
  });
  if (!mixed) return { groups: updates.length > 0 ? [{ kernel: chosen[0], updates }] : [], choices };
  const groups = new Map<K, U[]>();
  updates.forEach((u, i) => {
    const group = groups.get(chosen[i]);
    if (group === undefined) groups.set(chosen[i], [u]);
    else group.push(u);
  });
  return { groups: [...groups].map(([kernel, us]) => ({ kernel, updates: us })), choices };
}

/**
 * The plan for a step whose clipping one kernel folds into the update: every
 * gradient dense and every update taken by that kernel (a global norm must span
 * all of them). Null when any gradient or update would go elsewhere.
 */
export function foldingPlan<U extends Update & { readonly grad: unknown }, K extends Plannable<U>>(
  updates: readonly U[], kernels: readonly K[],
): DensePlan<U, K> | null {
  if (!updates.every((u) => u.grad instanceof tf.Tensor)) return null;
  const plan = planDense(updates, kernels);
  return plan.groups.length === 1 && plan.groups[0].kernel.foldsClipping === true ? plan : null;
}

/** Runs each group of `plan`; returns what kernels reported running instead of themselves, for `choices`. */
export function runPlan<U, K>(
  plan: DensePlan<U, K>, run: (kernel: K, updates: readonly U[]) => RunReport | void,
): ReadonlyMap<K, RunReport> | undefined {
  let reported: Map<K, RunReport> | undefined;
  for (const { kernel, updates } of plan.groups) {
    const report = run(kernel, updates);
    if (report) (reported ??= new Map()).set(kernel, report);
  }
  return reported;
}

/** The first kernel that takes a job (`reasonOf` gives null), and why those before it declined, if any. */
export function pickKernel<K extends { readonly name: string }>(
  kernels: readonly K[], reasonOf: (k: K) => string | null,
): { kernel: K; reason?: string } {
  const last = kernels[kernels.length - 1];
  const why: string[] = [];
  for (const k of kernels) {
    const reason = k === last ? null : reasonOf(k);
    if (reason === null) return why.length === 0 ? { kernel: k } : { kernel: k, reason: why.join('; ') };
    why.push(`${k.name}: ${reason}`);
  }
  return { kernel: last, reason: why.join('; ') };
}
