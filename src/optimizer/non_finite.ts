/**
 * The policy for gradients holding NaN or ±Infinity: `'propagate'` (Keras's
 * behaviour: they flow into the state), `'skip'` (the step changes nothing) or
 * `'error'` (the step throws, naming the variable, before any change). The
 * check reads each gradient once, on the backend's fastest check.
 */
import * as tf from '@tensorflow/tfjs-core';
import { finiteChecks } from '../kernels/registry.js';
import type { CheckTarget, FiniteCheck } from '../kernels/types.js';
import { IndexedSlices } from '../sparse/indexed_slices.js';

export const NON_FINITE_POLICIES = ['propagate', 'skip', 'error'] as const;
export type NonFinitePolicy = (typeof NON_FINITE_POLICIES)[number];

/**
 * The index of the first gradient (dense, or the values of `IndexedSlices`)
 * holding NaN or ±Infinity, or −1. `slotsOf` gives the slots the optimizer has
 * for a variable, if any: a check may leave its copy of a dense gradient where
 * that variable's kernel takes it (the cpu kernel's staged gradients).
 */
export function firstNonFinite(
  grads: ReadonlyArray<tf.Tensor | IndexedSlices>, variables: readonly tf.Variable[],
  slotsOf: (variable: tf.Variable) => object | undefined,
): number {
  const checks = finiteChecks(tf.getBackend());
  const last = checks[checks.length - 1];
  const groups = new Map<FiniteCheck, { tensors: tf.Tensor[]; targets: Array<CheckTarget | null>; at: number[] }>();
  grads.forEach((g, i) => {
    const sparse = g instanceof IndexedSlices;
    const t = sparse ? g.values : g;
    const check = checks.find((c) => c === last || c.accepts(t)) as FiniteCheck;
    let group = groups.get(check);
    if (group === undefined) groups.set(check, group = { tensors: [], targets: [], at: [] });
    const slots = sparse ? undefined : slotsOf(variables[i]);
    group.tensors.push(t);
    group.targets.push(slots === undefined ? null : { variable: variables[i], slots });
    group.at.push(i);
  });
  let first = -1;
  for (const [check, { tensors, targets, at }] of groups) {
    const k = check.firstNonFinite(tensors, targets);
    if (k !== -1 && (first === -1 || at[k] < first)) first = at[k];
  }
  return first;
}
