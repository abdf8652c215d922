/**
 * `RMSprop`: the optimizer of `tf.keras.optimizers.RMSprop` (TensorFlow 2.4).
 * Like Keras's rmsprop.py, this file only declares the slots and defines one
 * update step; the Keras contract lives in keras_optimizer.ts, the arithmetic in
 * src/rules, and the implementations in src/kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { foldingPlan, planDense, releaseKernelState, runPlan, type KernelChoice } from '../kernels/select.js';
import type { DenseUpdate } from '../kernels/types.js';
import { registerDeferred, unregisterDeferred, type RowCatcher } from '../sparse/deferred_rows.js';
import { IndexedSlices } from '../sparse/indexed_slices.js';
import { RowClock } from '../sparse/row_clock.js';
import { advanceClock, applySparse, catchUpRows, deferralOf, type SparseMode } from '../sparse/sparse_update.js';
import { FLAVOR_SPECS, type Flavor } from '../rules/flavors.js';
import type { StepScalars, UpdateForm } from '../rules/types.js';
import { serialize as serializeSchedule, isLearningRateSchedule } from '../schedules/learning_rate_schedule.js';
import { hasClipping, type ClipOptions } from './clipping.js';
import { resolveStepScalars } from './hyper.js';
import { clipUpdates, KerasOptimizer, type PreparedUpdate } from './keras_optimizer.js';
import {
  checkLearningRate, optionsFromConfig, resolveOptions,
  type LearningRate, type NumberOrFn, type ResolvedOptions, type RMSpropOptions,
} from './options.js';
import {
  pytorchGroupsOptions, pytorchOptions, type PyTorchExtraOptions, type PyTorchParamGroup, type PyTorchVariableGroup,
} from './pytorch_compat.js';
import type { SlotName } from './slots.js';
import { isExcluded, parseExclusions, type DecayExclusion, type WeightDecayExclusions } from './weight_decay.js';

export type { RMSpropOptions, LearningRate, NumberOrFn } from './options.js';
export type { PyTorchParamGroup, PyTorchExtraOptions, PyTorchVariableGroup } from './pytorch_compat.js';
export type { WeightDecayExclusions } from './weight_decay.js';

const NO_CLIPPING: ClipOptions = { clipnorm: null, clipvalue: null, globalClipnorm: null };

/** The dense gradient equal to `slices` (duplicate rows summed); scatterND exists on every backend. */
function densified(variable: tf.Variable, slices: IndexedSlices): tf.Tensor {
  const n = slices.indices.length;
  return tf.scatterND(tf.tensor2d(slices.indices, [n, 1], 'int32'), slices.values, variable.shape);
}

interface StepContext {
  readonly scalars: StepScalars;
}

export class RMSprop extends KerasOptimizer<StepContext> implements RowCatcher {
  /** The name this class is registered under with `tf.serialization` (TF.js's own is 'RMSProp'). */
  static get className(): string {
    return 'RMSprop';
  }

  /**
   * `x instanceof RMSprop` is true for this class and its subclasses only.
   * tf.Optimizer's own `Symbol.hasInstance` is duck-typed (anything with
   * `minimize`, `computeGradients` and `applyGradients`) and would be
   * inherited; `instanceof tf.Optimizer`, which model.compile uses, keeps it.
   */
  static override [Symbol.hasInstance](x: unknown): boolean {
    return Function.prototype[Symbol.hasInstance].call(this, x);
  }

  private lr: LearningRate;
  readonly rho: NumberOrFn;
  readonly momentum: NumberOrFn;
  readonly epsilon: number;
  readonly centered: boolean;
  readonly name: string;
  readonly clipnorm: number | null;
  readonly clipvalue: number | null;
  readonly globalClipnorm: number | null;
  readonly decay: number;
  readonly sparseMode: SparseMode;
  /** Whose arithmetic the steps reproduce (rules/flavors.ts). */
  readonly flavor: Flavor;
  /** Decoupled (coupled for 'pytorch') weight decay; 0 for none. */
  readonly weightDecay: number;
  /**
   * The path, fixed at construction: 'momentum' when momentum > 0 or is a
   * function (TF 2.4's rule; Keras 3 and PyTorch test momentum > 0 the same
   * way), and always for 'tfjs', which keeps a momentum buffer even for 0.
   */
  readonly form: UpdateForm;
  private lastChoices: () => readonly KernelChoice[] = () => [];
  /** Keras 3's exclusions from weight decay; null for none. */
  private decayExclusion: DecayExclusion | null = null;
  private readonly exclusionOf = new WeakMap<tf.Variable, boolean>();
  /** Per-row step counts of variables whose untouched rows a sparse mode defers. */
  private readonly clocks = new Map<tf.Variable, RowClock>();

  constructor(options: RMSpropOptions = {}) {
    const o: ResolvedOptions = resolveOptions(options);
    const momentumPath = typeof o.momentum === 'function' || o.momentum > 0 ||
      FLAVOR_SPECS[o.flavor].momentumSlot === 'always';
    const slotNames: SlotName[] = ['rms'];
    if (momentumPath) slotNames.push('momentum');
    if (o.centered) slotNames.push('mg');
    super(slotNames);
    this.lr = o.learningRate;
    this.rho = o.rho;
    this.momentum = o.momentum;
    this.epsilon = o.epsilon;
    this.centered = o.centered;
    this.name = o.name;
    this.clipnorm = o.clipnorm;
    this.clipvalue = o.clipvalue;
    this.globalClipnorm = o.globalClipnorm;
    this.decay = o.decay;
    this.sparseMode = o.sparseMode;
    this.flavor = o.flavor;
    this.weightDecay = o.weightDecay;
    // `flavor` is left out for 'keras2' (absent means 'keras2'), so the form stays TF 2.4's shape.
    this.form = {
      path: momentumPath ? 'momentum' : 'plain', centered: o.centered, ...(o.flavor !== 'keras2' ? { flavor: o.flavor } : {}),
    };
  }

  /**
   * An optimizer with `torch.optim.RMSprop`'s argument names and defaults (lr
   * 0.01, alpha 0.99, eps 1e-8, momentum 0, centered false, weightDecay 0) and
   * the 'pytorch' flavor. Also takes a PyTorch `state_dict()['param_groups'][0]`
   * as JSON (snake_case `weight_decay`, and its flags). `extra` carries the
   * options PyTorch has no name for (name, clipping, sparseMode, decay).
   */
  static fromPyTorch(group?: PyTorchParamGroup, extra?: PyTorchExtraOptions): RMSprop;
  /**
   * PyTorch's list of param groups with their variables, each group's keys over
   * `defaults` (`torch.optim.RMSprop([{params, weight_decay}, ...], lr=...)`).
   * Groups may differ in weight decay only, one non-zero value or zero: the
   * usual decay / no-decay split, made with `excludeFromWeightDecay`.
   */
  static fromPyTorch(groups: readonly PyTorchVariableGroup[], defaults?: PyTorchParamGroup, extra?: PyTorchExtraOptions): RMSprop;
  static fromPyTorch(
    first: PyTorchParamGroup | readonly PyTorchVariableGroup[] = {}, second: PyTorchParamGroup | PyTorchExtraOptions = {},
    third: PyTorchExtraOptions = {},
  ): RMSprop {
    if (!Array.isArray(first)) return new RMSprop(pytorchOptions(first as PyTorchParamGroup, second as PyTorchExtraOptions));
    const { options, excluded } = pytorchGroupsOptions(first, second as PyTorchParamGroup, third);
    const opt = new RMSprop(options);
    if (excluded.length > 0) opt.excludeFromWeightDecay({ varList: excluded });
    return opt;
  }

  /** The learning rate as given: a number, a schedule or a function. Assigning checks it. */
  get learningRate(): LearningRate {
    return this.lr;
  }

  set learningRate(value: LearningRate) {
    this.lr = checkLearningRate('learningRate', value);
  }

  /** The learning rate the next step will use (schedule and legacy decay applied, float32). */
  currentLearningRate(): number {
    return resolveStepScalars(this, this.iterations).lr;
  }

  protected get displayName(): string {
    return this.name;
  }

  protected clipOptions(): ClipOptions {
    return this;
  }

  protected prepareStep(step: number): StepContext {
    return { scalars: resolveStepScalars(this, step) };
  }

  /**
   * Keras 3's `exclude_from_weight_decay`: the variables in `varList`, and those
   * whose name contains a match of a `varNames` pattern (`['bias']`: every bias),
   * step with no weight decay. Replaces earlier exclusions, and must come before
   * the first step, as Keras requires it before the optimizer is built.
   */
  excludeFromWeightDecay(exclusions: WeightDecayExclusions): void {
    const where = `${this.displayName}.excludeFromWeightDecay`;
    if (this.slots.size > 0) {
      throw new Error(`${where}: exclusions can only be configured before the first step (Keras: before the optimizer is built)`);
    }
    this.decayExclusion = parseExclusions(where, exclusions);
  }

  /** Whether `variable` steps without weight decay (decided once: exclusions are fixed after the first step). */
  private excludedFromDecay(variable: tf.Variable): boolean {
    if (this.decayExclusion === null) return false;
    let excluded = this.exclusionOf.get(variable);
    if (excluded === undefined) {
      excluded = isExcluded(this.decayExclusion, variable);
      this.exclusionOf.set(variable, excluded);
    }
    return excluded;
  }

  protected updateStep(given: readonly PreparedUpdate[], ctx: StepContext, clip: ClipOptions): void {
    const excluded = this.weightDecay === 0 || this.decayExclusion === null
      ? [] : given.filter((u) => this.excludedFromDecay(u.variable));
    if (excluded.length === 0) {
      this.lastChoices = this.applyStep(given, ctx.scalars, clip);
      return;
    }
    const undecayed: StepScalars = { ...ctx.scalars, weightDecay: 0 };
    if (excluded.length === given.length) {
      this.lastChoices = this.applyStep(given, undecayed, clip);
      return;
    }
    // Two groups with their own scalars: clipping first, over all the gradients
    // (a global norm spans both groups), then each group steps.
    const clipped = clipUpdates(given, clip);
    const isExcludedVar = new Set(excluded.map((u) => u.variable));
    const decayedChoices = this.applyStep(clipped.filter((u) => !isExcludedVar.has(u.variable)), ctx.scalars, NO_CLIPPING);
    const undecayedChoices = this.applyStep(clipped.filter((u) => isExcludedVar.has(u.variable)), undecayed, NO_CLIPPING);
    this.lastChoices = () => [...decayedChoices(), ...undecayedChoices()];
  }

  /** One step of `given` with scalars `s`; returns the report of what ran, built when asked. */
  private applyStep(given: readonly PreparedUpdate[], s: StepScalars, clip: ClipOptions): () => KernelChoice[] {
    // 'dense-equivalent' with weight decay has no row-proportional form (every
    // row decays; PyTorch's coupled decay gives every row a gradient): it is
    // applied as the densified gradient, which is what it is defined to equal.
    const densify = this.sparseMode === 'dense-equivalent' && (s.weightDecay ?? 0) > 0;
    // A dense step on a variable with deferred rows: catch up first, then every
    // row is current. First of all, since catching up may give the variable and
    // its slots new buffers, which the kernels' checks must see.
    const clocked = this.clocks.size === 0 ? [] : given.filter((u) =>
      this.clocks.has(u.variable) && (densify || !(u.grad instanceof IndexedSlices)));
    for (const u of clocked) this.finalizeDeferred(u.variable);
    // Clipping folds into the update when every gradient is dense and one kernel
    // that folds it takes them all (its norms span exactly these gradients);
    // otherwise it runs first, as tensor ops.
    const folding = hasClipping(clip) ? foldingPlan(given) : null;
    const updates = folding === null ? clipUpdates(given, clip) : given;
    const dense: DenseUpdate[] = [];
    const sparse: Array<PreparedUpdate & { grad: IndexedSlices }> = [];
    for (const u of updates) {
      if (u.grad instanceof IndexedSlices) {
        if (densify) dense.push({ variable: u.variable, slots: u.slots, grad: densified(u.variable, u.grad) });
        else sparse.push(u as PreparedUpdate & { grad: IndexedSlices });
      } else {
        dense.push(u as DenseUpdate);
      }
    }
    const plan = folding ?? planDense(dense);
    const reported = runPlan(plan, this.form, s, folding === null ? undefined : clip);
    for (const u of clocked) {
      const clock = this.clocks.get(u.variable) as RowClock;
      advanceClock(clock, this.form, s);
      clock.markAllCurrent();
    }
    const deferral = deferralOf(this.sparseMode, this.form);
    const sparseChoices = sparse.map((u) => {
      const clock = deferral === 'none' ? null : this.clockOf(u.variable);
      const rows = applySparse({ variable: u.variable, slices: u.grad, slots: u.slots }, this.form, s, this.sparseMode, clock);
      return { variable: u.variable.name, kernel: `sparse-${this.sparseMode}${rows === null ? '' : `/${rows}`}` };
    });
    return () => [...plan.choices(reported), ...sparseChoices];
  }

  private clockOf(variable: tf.Variable): RowClock {
    let clock = this.clocks.get(variable);
    if (clock === undefined) {
      clock = new RowClock(variable.shape[0]);
      this.clocks.set(variable, clock);
      if (deferralOf(this.sparseMode, this.form) === 'all') registerDeferred(variable, this);
    }
    return clock;
  }

  protected override finalizeDeferred(variable?: tf.Variable): void {
    const targets = variable === undefined ? [...this.clocks.keys()] : this.clocks.has(variable) ? [variable] : [];
    for (const v of targets) this.catchUpVariableRows(v);
  }

  /** Brings `rows` (all when omitted) of a variable this optimizer defers up to date. */
  catchUpVariableRows(variable: tf.Variable, rows?: ArrayLike<number>): void {
    const clock = this.clocks.get(variable);
    const slots = this.slots.get(variable);
    if (clock === undefined || slots === undefined || variable.isDisposed) return;
    tf.tidy(() => catchUpRows(variable, slots, clock, this.form, this.sparseMode, rows));
  }

  override async setWeights(weights: Parameters<KerasOptimizer<StepContext>['setWeights']>[0]): Promise<void> {
    await super.setWeights(weights);
    for (const clock of this.clocks.values()) clock.markAllCurrent();
  }

  override dispose(): void {
    this.finalizeDeferred();
    releaseKernelState(this.slots.entries());
    super.dispose();
    for (const v of this.clocks.keys()) unregisterDeferred(v, this);
    this.clocks.clear();
  }

  /** Which implementation updated each variable in the last step, and why a faster one was not used. */
  lastStepKernels(): readonly KernelChoice[] {
    return this.lastChoices();
  }

  /** Keras's `get_config` keys, camelCase; a schedule as `{className, config}`, a function as its current value. */
  override getConfig(): tf.serialization.ConfigDict {
    const value = (v: NumberOrFn): number => (typeof v === 'function' ? v() : v);
    const lr = this.lr;
    const config: tf.serialization.ConfigDict = { name: this.name };
    if (this.clipnorm !== null) config.clipnorm = this.clipnorm;
    if (this.clipvalue !== null) config.clipvalue = this.clipvalue;
    if (this.globalClipnorm !== null) config.globalClipnorm = this.globalClipnorm;
    config.learningRate = isLearningRateSchedule(lr)
      ? (serializeSchedule(lr) as unknown as tf.serialization.ConfigDict)
      : typeof lr === 'function' ? lr() : lr;
    config.decay = this.decay;
    config.rho = value(this.rho);
    config.momentum = value(this.momentum);
    config.epsilon = this.epsilon;
    config.centered = this.centered;
    if (this.sparseMode !== 'keras2') config.sparseMode = this.sparseMode;
    if (this.flavor !== 'keras2') config.flavor = this.flavor;
    if (this.weightDecay !== 0) config.weightDecay = this.weightDecay;
    return config;
  }

  /** Builds an optimizer from `getConfig()` output or a Python Keras config (snake_case keys). */
  static override fromConfig(cls: typeof RMSprop, config: tf.serialization.ConfigDict): RMSprop;
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict,
  ): T;
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict,
  ): T {
    return new cls(optionsFromConfig(config as Record<string, unknown>));
  }
}

tf.serialization.registerClass(RMSprop);
