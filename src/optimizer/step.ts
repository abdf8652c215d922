/**
 * One step's orchestration, in the order TF 2.4 and Keras 3 apply it: weight
 * decay decides the groups (variables excluded from it step with its scalars
 * zeroed), deferred rows of variables about to take a dense step catch up,
 * clipping is decided once for the whole step (folded into the one kernel that
 * takes every update, or applied first as tensor ops), then each group's dense
 * updates run on their planned kernels and its sparse rows on the row kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { hasClipping, type ClipOptions } from '../clipping/scalar.js';
import { clipGradients } from '../clipping/tensor.js';
import { foldingPlan, planDense, runPlan } from '../kernels/plan.js';
import type { KernelChoice } from '../kernels/types.js';
import { holdHostValues, IndexedSlices } from '../sparse/indexed_slices.js';
import type { BaseScalars } from './learning_rate.js';
import type { AroundCall } from './training.js';
import type { PreparedUpdate, SparseRows, StepKernel, StepUpdate } from './update_rule.js';

export interface StepPlan<Slots, S> {
  readonly kernels: readonly StepKernel<Slots, S>[];
  readonly sparse: SparseRows<Slots, S> | null;
  readonly clip: ClipOptions;
  /** Whether a variable steps without weight decay; null when none is excluded. */
  readonly excluded: ((variable: tf.Variable) => boolean) | null;
  /** Keras 3's passes of this call (accumulation, EMA: training.ts); null when the optimizer has none. */
  readonly around?: AroundCall<Slots> | null;
}

/**
 * The updates with TF 2.4's gradient clipping applied as tensor ops (any
 * backend). IndexedSlices are clipped on their raw values, before duplicate
 * rows are summed, as in TF. Returns `updates` itself when nothing is set.
 */
export function clipUpdates<U extends PreparedUpdate<unknown>>(updates: readonly U[], clip: ClipOptions): readonly U[] {
  if (!hasClipping(clip)) return updates;
  const raw = updates.map((u) => (u.grad instanceof IndexedSlices ? u.grad.values : u.grad));
  const clipped = clipGradients(raw, clip);
  return updates.map((u, i) => ({
    variable: u.variable,
    grad: u.grad instanceof IndexedSlices ? u.grad.withValues(clipped[i]) : clipped[i],
    slots: u.slots,
  }) as U);
}

interface Group<Slots, S> {
  updates: readonly PreparedUpdate<Slots>[];
  readonly s: S;
}

function decayGroups<Slots, S extends BaseScalars>(
  updates: readonly PreparedUpdate<Slots>[], s: S, excluded: StepPlan<Slots, S>['excluded'],
): Array<Group<Slots, S>> {
  if (excluded === null || (s.weightDecay ?? 0) === 0) return [{ updates, s }];
  const out = updates.filter((u) => excluded(u.variable));
  if (out.length === 0) return [{ updates, s }];
  const undecayed = { ...s, weightDecay: 0 };
  if (out.length === updates.length) return [{ updates, s: undecayed }];
  const isOut = new Set(out);
  return [{ updates: updates.filter((u) => !isOut.has(u)), s }, { updates: out, s: undecayed }];
}

/** Applies one step; call inside a tidy. Returns the report of what ran, built when asked. */
export function runStep<Slots, S extends BaseScalars>(
  taken: readonly PreparedUpdate<Slots>[], s: S, plan: StepPlan<Slots, S>,
): () => KernelChoice[] {
  // Sparse steps update rows from the host copy of their values, read before anything changes.
  let slices: IndexedSlices[] | null = null;
  for (const u of taken) if (u.grad instanceof IndexedSlices) (slices ??= []).push(u.grad);
  if (slices === null) return stepWith(taken, s, plan);
  const held = holdHostValues(slices);
  try {
    return stepWith(taken, s, plan);
  } finally {
    held.release();
  }
}

function stepWith<Slots, S extends BaseScalars>(
  taken: readonly PreparedUpdate<Slots>[], s: S, plan: StepPlan<Slots, S>,
): () => KernelChoice[] {
  const { kernels, sparse, clip } = plan;
  const around = plan.around ?? null;
  // Keras 3's accumulating calls only add to the accumulators; an update call
  // starts from the window's mean (training.ts).
  if (around !== null && around.call.phase === 'accumulate') return around.accumulate(taken, kernels, s);
  const given = around === null ? taken : around.beforeUpdate(taken, hasClipping(clip));
  const groups = decayGroups(given, s, plan.excluded);
  const densify = groups.map((g) => sparse === null || sparse.densifies(g.s));
  // Rows deferred by a sparse mode catch up before their variable steps densely:
  // first of all, since it may give the variable and its slots new buffers,
  // which the kernels' checks must see.
  const clocked = groups.map((g, i) => (sparse === null ? [] : sparse.beforeDense(
    g.updates.filter((u) => densify[i] || !(u.grad instanceof IndexedSlices)).map((u) => u.variable),
  )));
  // Clipping folds into the update when every gradient is dense and one kernel
  // that folds it takes them all (its norms span exactly these gradients);
  // otherwise it runs first, over every gradient of the step, as tensor ops.
  let folding: ReturnType<typeof foldingPlan<StepUpdate<Slots>, StepKernel<Slots, S>>> = null;
  if (hasClipping(clip)) {
    folding = groups.length === 1 ? foldingPlan(given as readonly StepUpdate<Slots>[], kernels) : null;
    if (folding === null) {
      const clipped = clipUpdates(given, clip);
      const at = new Map(given.map((u, i) => [u, clipped[i]]));
      for (const g of groups) g.updates = g.updates.map((u) => at.get(u) as PreparedUpdate<Slots>);
    }
  }
  const reports = groups.map((g, i) => {
    const dense: Array<StepUpdate<Slots>> = [];
    const rows: Array<PreparedUpdate<Slots> & { grad: IndexedSlices }> = [];
    for (const u of g.updates) {
      if (!(u.grad instanceof IndexedSlices)) dense.push(u as StepUpdate<Slots>);
      else if (densify[i]) dense.push({ variable: u.variable, grad: u.grad.toDense(u.variable.shape), slots: u.slots });
      else rows.push(u as PreparedUpdate<Slots> & { grad: IndexedSlices });
    }
    const densePlan = folding ?? planDense(dense, kernels);
    const fold = folding === null ? undefined : clip;
    const reported = runPlan(densePlan, (kernel, updates) => (around === null ? kernel.run(updates, g.s, fold) : around.run(kernel, updates, g.s, fold)));
    sparse?.afterDense(clocked[i], g.s);
    const rowChoices = rows.map((u) => (sparse as SparseRows<Slots, S>).apply(u.variable, u.grad, u.slots, g.s));
    return () => [...densePlan.choices(reported), ...rowChoices];
  });
  around?.averageRest();
  return reports.length === 1 ? reports[0] : () => reports.flatMap((r) => r());
}
