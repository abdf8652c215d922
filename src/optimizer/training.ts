/**
 * Keras 3's base-optimizer training features around any update rule
 * (keras/src/optimizers/base_optimizer.py, v3.15): gradient accumulation, the
 * exponential moving average of the weights and loss scaling. `TrainingFeatures`
 * holds the options and decides what each call runs (`aroundAt`);
 * `AroundCall` runs one call's share around the kernels (step.ts): kernels that
 * fold Keras 3's passes in (`foldsAround`) get the call's `Around`, the others
 * are wrapped in the same arithmetic as tensor ops, and the base does what no
 * dense kernel run covers: the rows of sparse gradients, and the EMA of
 * variables this call did not update densely.
 *
 * Keras's order, per call (`apply`, `_backend_apply_gradients`):
 *   grads = g / loss_scale_factor
 *   accumulating call (`(iterations + 1) % steps != 0`): acc = g + acc
 *   update call: g = (g + acc)/steps; clip; weight decay; update; acc = 0 (all of them)
 *   EMA (every call): avg = m·avg + (1 − m)·w, m = ema_momentum·(iterations != 0);
 *     w = avg when (iterations + 1) % ema_overwrite_frequency == 0
 *   _iterations += 1
 * with `iterations` the public count `_iterations // steps` before the increment.
 */
import * as tf from '@tensorflow/tfjs-core';
import { hostArray } from '../kernels/host_state.js';
import { planDense, runPlan } from '../kernels/plan.js';
import { TF_OPS } from '../kernels/tfops/ops.js';
import type { KernelChoice, RunReport } from '../kernels/types.js';
import { emaLoop, emaOps, type Around, type EmaScalars } from '../rules/training.js';
import { AccumulatedRows } from '../sparse/accumulated_rows.js';
import { IndexedSlices } from '../sparse/indexed_slices.js';
import type { TrainingResolved } from './training_options.js';
import type { PreparedUpdate, StepKernel, StepUpdate } from './update_rule.js';

/** The base's state kept in each variable's slot record (slot registry names `ema`, `accumulator`). */
export interface FeatureSlots {
  readonly ema?: tf.Variable;
  readonly accumulator?: tf.Variable;
}

/** A copy of `t` in a buffer of its own, bit for bit (`x·1`: a clone would share the buffer, `x + 0` turns −0 into +0). */
export function ownCopy(t: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(t, tf.scalar(1, 'float32')));
}

/** `avg ← m·avg + (1 − m)·w` (then `w ← avg`) on one variable: in place on cpu and wasm, tensor ops elsewhere. */
export function averageVariable(w: tf.Variable, avg: tf.Variable, ema: EmaScalars): void {
  const ha = hostArray(avg);
  const hw = ha === null ? null : hostArray(w);
  if (ha !== null && hw !== null) {
    emaLoop(ema.momentum, ema.oneMinus, ema.overwrite, hw.values, ha.values, 0, w.size);
    ha.written();
    if (ema.overwrite) hw.written();
    return;
  }
  tf.tidy(() => {
    const a = emaOps<tf.Tensor>(TF_OPS, tf.scalar(ema.momentum), tf.scalar(ema.oneMinus), w, avg);
    avg.assign(a);
    if (ema.overwrite) w.assign(ownCopy(a));
  });
}

/** `target ← source` (the weights take their averages): in place on cpu and wasm, a copy elsewhere. */
export function copyVariable(target: tf.Variable, source: tf.Variable): void {
  const hs = hostArray(source);
  const ht = hs === null ? null : hostArray(target);
  if (hs !== null && ht !== null) {
    ht.values.set(hs.values);
    ht.written();
    return;
  }
  tf.tidy(() => { target.assign(ownCopy(source)); });
}

export class TrainingFeatures {
  /** Which rows of each accumulator may be non-zero, and the sparse accumulation. */
  readonly rows = new AccumulatedRows();

  constructor(readonly options: TrainingResolved) {}

  /** The state kept with each variable's slots, in Keras weight order after them. */
  get stateNames(): string[] {
    const names: string[] = [];
    if (this.options.useEma) names.push('ema');
    if (this.options.gradientAccumulationSteps !== null) names.push('accumulator');
    return names;
  }

  /** Keras 3's public `iterations` (applied updates) after `calls` calls. */
  iterationsOf(calls: number): number {
    const steps = this.options.gradientAccumulationSteps;
    return steps === null ? calls : Math.floor(calls / steps);
  }

  /** What the call after `calls` calls runs around the rule; null when the options need nothing. */
  aroundAt(calls: number): Around | null {
    const { useEma, gradientAccumulationSteps: steps, emaMomentum, emaOverwriteFrequency: frequency, lossScaleFactor } = this.options;
    if (!useEma && steps === null && lossScaleFactor === null) return null;
    const update = steps === null || (calls + 1) % steps === 0;
    let ema: EmaScalars | null = null;
    if (useEma) {
      const iterations = this.iterationsOf(calls);
      // ops.cast(not_first_step, float32) * ema_momentum, and 1 - momentum, in float32.
      const momentum = iterations !== 0 ? Math.fround(emaMomentum) : 0;
      ema = { momentum, oneMinus: Math.fround(1 - momentum), overwrite: frequency !== null && (iterations + 1) % frequency === 0 };
    }
    return { phase: update ? 'update' : 'accumulate', combineSteps: update && steps !== null ? steps : null, unscale: lossScaleFactor, ema };
  }
}

/** What one call needs of the optimizer beyond its updates. */
export interface AroundContext<Slots> {
  /** Every variable the optimizer has state for (Keras's `_trainable_variables`), with its slots. */
  known(): Iterable<[tf.Variable, Slots]>;
  /** Brings deferred sparse rows of a variable up to date before its average reads it. */
  finalize(variable: tf.Variable): void;
  /** Zeroes the accumulators `setWeights` restored for variables not seen yet. */
  zeroPendingAccumulators(): void;
}

const stateOf = (slots: unknown): FeatureSlots => slots as FeatureSlots;

/** One call's share of Keras 3's passes around the kernels; see step.ts for where each runs. */
export class AroundCall<Slots> {
  /** Variables whose average this call already took (in a kernel, or wrapped). */
  private readonly averaged = new Set<tf.Variable>();
  /**
   * Variables whose gradient this call already divided by the loss scale, and
   * already holds the window's mean: sparse ones, and every one when clipping
   * needs the final gradient first. The kernels do the rest.
   */
  private readonly unscaled = new Set<tf.Variable>();
  private readonly combined = new Set<tf.Variable>();

  constructor(readonly call: Around, private readonly features: TrainingFeatures, private readonly ctx: AroundContext<Slots>) {}

  /** An accumulating call: the gradients go into the accumulators, nothing is updated; then the EMA. */
  accumulate<S>(given: readonly PreparedUpdate<Slots>[], kernels: readonly StepKernel<Slots, S>[], s: S): () => KernelChoice[] {
    const dense: Array<StepUpdate<Slots>> = [];
    const rowChoices: KernelChoice[] = [];
    for (const u of given) {
      const acc = stateOf(u.slots).accumulator as tf.Variable;
      if (u.grad instanceof IndexedSlices) {
        this.features.rows.add(acc, this.unscaleRows(u.grad));
        rowChoices.push({ variable: u.variable.name, kernel: 'accumulate-rows' });
      } else {
        dense.push(u as StepUpdate<Slots>);
        this.features.rows.markAll(acc);
      }
    }
    const plan = planDense(dense, kernels);
    const reported = runPlan(plan, (kernel, updates) => this.run(kernel, updates, s, undefined));
    this.averageRest();
    return () => [...plan.choices(reported), ...rowChoices];
  }

  /**
   * Before an update call's kernels: sparse gradients are divided by the loss
   * scale and become the window's mean rows; dense ones are made here too when
   * clipping must see the final gradient (else the kernels make them); and
   * accumulators of variables absent from the call are zeroed, as Keras resets them all.
   */
  beforeUpdate(given: readonly PreparedUpdate<Slots>[], clipping: boolean): readonly PreparedUpdate<Slots>[] {
    const { combineSteps: steps, unscale: factor } = this.call;
    if (steps === null && factor === null) return given;
    if (steps !== null) {
      const present = new Set(given.map((u) => u.variable));
      for (const [v, slots] of this.ctx.known()) {
        if (!present.has(v) && !v.isDisposed) this.features.rows.zero(stateOf(slots).accumulator as tf.Variable);
      }
      this.ctx.zeroPendingAccumulators();
    }
    return given.map((u) => {
      const acc = stateOf(u.slots).accumulator as tf.Variable;
      if (u.grad instanceof IndexedSlices) {
        this.unscaled.add(u.variable);
        this.combined.add(u.variable);
        const grad = this.unscaleRows(u.grad);
        return { variable: u.variable, grad: steps === null ? grad : this.features.rows.combine(acc, grad, steps), slots: u.slots };
      }
      if (!clipping) return u;
      this.unscaled.add(u.variable);
      this.combined.add(u.variable);
      let grad = factor === null ? u.grad : tf.div(u.grad, tf.scalar(factor, 'float32'));
      if (steps !== null) {
        this.features.rows.markClear(acc);
        grad = combineOps(grad, acc, steps);
      }
      return { variable: u.variable, grad, slots: u.slots };
    });
  }

  /** Sparse rows divided by the loss scale factor (tensor ops on the values: the cost of the rows). */
  private unscaleRows(slices: IndexedSlices): IndexedSlices {
    const factor = this.call.unscale;
    return factor === null ? slices : slices.withValues(tf.div(slices.values, tf.scalar(factor, 'float32')));
  }

  /**
   * Runs one kernel on its updates with this call's passes: folded in where the
   * kernel takes them, else as tensor ops around it.
   */
  run<S>(kernel: StepKernel<Slots, S>, updates: readonly StepUpdate<Slots>[], s: S, clip: Parameters<StepKernel<Slots, S>['run']>[2]): RunReport | void {
    const { phase, ema } = this.call;
    const steps = phase === 'update' ? this.call.combineSteps : null;
    const factor = this.call.unscale;
    const needsUnscale = (u: StepUpdate<Slots>): boolean => factor !== null && !this.unscaled.has(u.variable);
    const needsCombine = (u: StepUpdate<Slots>): boolean => steps !== null && !this.combined.has(u.variable);
    for (const u of updates) {
      this.averaged.add(u.variable);
      if (needsCombine(u)) this.features.rows.markClear(stateOf(u.slots).accumulator as tf.Variable);
    }
    // A kernel makes the gradients itself when every update of its group needs the same.
    const first = updates[0];
    const uniform = updates.every((u) => needsUnscale(u) === needsUnscale(first) && needsCombine(u) === needsCombine(first));
    if (kernel.foldsAround === true && uniform) {
      const combineSteps = needsCombine(first) ? steps : null;
      return kernel.run(updates, s, clip, { phase, combineSteps, unscale: needsUnscale(first) ? factor : null, ema });
    }
    const ready = updates.map((u) => {
      if (!needsUnscale(u) && !needsCombine(u)) return u;
      let grad = needsUnscale(u) ? tf.div(u.grad, tf.scalar(factor as number, 'float32')) : u.grad;
      if (needsCombine(u)) grad = combineOps(grad, stateOf(u.slots).accumulator as tf.Variable, steps as number);
      return { variable: u.variable, grad, slots: u.slots };
    });
    if (kernel.foldsAround === true) return kernel.run(ready, s, clip, { phase, combineSteps: null, unscale: null, ema });
    let report: RunReport | void;
    if (phase === 'accumulate') {
      for (const u of ready) {
        const acc = stateOf(u.slots).accumulator as tf.Variable;
        tf.tidy(() => { acc.assign(tf.add(u.grad, acc)); });
      }
      report = { kernel: 'keras-base', reason: `${kernel.name} does not fold Keras 3's passes: the accumulation ran as tensor ops` };
    } else {
      report = kernel.run(ready, s, clip);
    }
    if (ema !== null) for (const u of updates) averageVariable(u.variable, stateOf(u.slots).ema as tf.Variable, ema);
    return report;
  }

  /** The EMA of every other variable the optimizer knows (Keras averages them all, on every call). */
  averageRest(): void {
    const ema = this.call.ema;
    if (ema === null) return;
    for (const [v, slots] of this.ctx.known()) {
      if (this.averaged.has(v) || v.isDisposed) continue;
      this.ctx.finalize(v);
      averageVariable(v, stateOf(slots).ema as tf.Variable, ema);
    }
  }
}

/** `(g + acc)/steps` as tensor ops (call inside a tidy), with the accumulator zeroed. */
function combineOps(g: tf.Tensor, acc: tf.Variable, steps: number): tf.Tensor {
  const combined = tf.div(tf.add(g, acc), tf.scalar(steps, 'float32'));
  zeroVariable(acc);
  return combined;
}

/**
 * Fills `t` with zeros: in place on cpu and wasm, so its buffer stays its own
 * (a kernel that writes it in place later in the step still takes it).
 */
function zeroVariable(t: tf.Variable): void {
  const host = hostArray(t);
  if (host === null) {
    // Its own tidy: the zeros' tensor goes at once, so the buffer is the accumulator's alone (refCount 1) for the kernels.
    tf.tidy(() => { t.assign(tf.zerosLike(t)); });
    return;
  }
  host.values.fill(0);
  host.written();
}
