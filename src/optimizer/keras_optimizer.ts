/**
 * The Keras optimizer contract on top of `tf.Optimizer`, for any update rule
 * (like Keras 3's `base_optimizer.py`): both call forms of `minimize` and
 * `applyGradients`, missing gradients, checks before any state changes, the
 * learning rate (schedules, functions, legacy decay), clipping, weight decay and
 * its exclusions, lazy slots keyed by variable, the step's orchestration
 * (step.ts), deferred sparse rows, `iterations`, weights in Keras order, config
 * and `dispose`, and Keras 3's training features (EMA of the weights, gradient
 * accumulation, loss scaling: training.ts). A subclass declares its slots and
 * step scalars, gives its update rule (kernels and sparse rows) and adds its
 * own config keys; it never sees call forms, clipping or iteration counting.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ClipOptions } from '../clipping/scalar.js';
import type { KernelChoice } from '../kernels/types.js';
import { isLearningRateSchedule, serialize as serializeSchedule } from '../schedules/learning_rate_schedule.js';
import { show } from '../util/config_keys.js';
import { normalizeGradients, type GradientsInput, type NamedTensor } from './gradients.js';
import { cloneToCaller, toCaller } from './caller_owned.js';
import { baseScalarsAt, type BaseScalars } from './learning_rate.js';
import { differentiateAndApply } from './minimize.js';
import { firstNonFinite, type NonFinitePolicy } from './non_finite.js';
import { checkLearningRate, type BaseResolved, type LearningRate } from './options.js';
import { SlotRegistry, slotLayout, type PendingSlots, type SlotRecord } from './slots.js';
import { runStep } from './step.js';
import { AroundCall, copyVariable, ownCopy, TrainingFeatures, type FeatureSlots } from './training.js';
import { trainingConfig } from './training_options.js';
import type { PreparedUpdate, SparseRows, UpdateRule } from './update_rule.js';
import { isExcluded, parseExclusions, type DecayExclusion, type WeightDecayExclusions } from './weight_decay.js';

export type { GradientsInput, NamedTensor } from './gradients.js';

function isIterName(name: string): boolean {
  return /(^|\/)iter(ations?)?(:0)?$/.test(name);
}

export abstract class KerasOptimizer<Slots extends SlotRecord, S extends BaseScalars> extends tf.Optimizer implements ClipOptions {
  readonly name: string;
  readonly clipnorm: number | null;
  readonly clipvalue: number | null;
  readonly globalClipnorm: number | null;
  readonly decay: number;
  /** Decoupled weight decay (coupled where the rule says so); 0 for none. */
  readonly weightDecay: number;
  /** What a step does with a gradient holding NaN or ±Infinity. */
  readonly nonFinite: NonFinitePolicy;
  private skipped = 0;
  /** Keras 3: keep an exponential moving average of the weights. */
  readonly useEma: boolean;
  readonly emaMomentum: number;
  readonly emaOverwriteFrequency: number | null;
  /** Keras 3: average the gradients of this many calls into one update; null for none. */
  readonly gradientAccumulationSteps: number | null;
  /** Keras 3: the loss is multiplied by it, the gradients divided by it; null for none. */
  readonly lossScaleFactor: number | null;
  private lr: LearningRate;
  /** The subclass's slot names (the registry also keeps Keras 3's `ema` and `accumulator` after them). */
  private readonly ruleSlotNames: readonly string[];
  private readonly features: TrainingFeatures;
  protected readonly slots: SlotRegistry<Slots>;
  private readonly rule: UpdateRule<Slots, S>;
  private readonly sparse: SparseRows<Slots, S> | null;
  private disposed = false;
  private lastChoices: () => readonly KernelChoice[] = () => [];
  /** Keras 3's exclusions from weight decay; null for none. */
  private decayExclusion: DecayExclusion | null = null;
  private readonly exclusionOf = new WeakMap<tf.Variable, boolean>();
  /** Reports missing gradients, like Keras's logged warning. */
  warn: (message: string) => void = (m) => console.warn(m);

  /**
   * `x instanceof RMSprop` (or any subclass) is true for instances of that class
   * and its subclasses only. tf.Optimizer's own `Symbol.hasInstance` is
   * duck-typed (anything with `minimize`, `computeGradients` and
   * `applyGradients`) and would be inherited; `instanceof tf.Optimizer`, which
   * model.compile uses, keeps it.
   */
  static override [Symbol.hasInstance](x: unknown): boolean {
    return Function.prototype[Symbol.hasInstance].call(this, x);
  }

  protected constructor(base: BaseResolved, slotNames: readonly string[], rule: UpdateRule<Slots, S>) {
    super();
    this.name = base.name;
    this.lr = base.learningRate;
    this.clipnorm = base.clipnorm;
    this.clipvalue = base.clipvalue;
    this.globalClipnorm = base.globalClipnorm;
    this.decay = base.decay;
    this.weightDecay = base.weightDecay;
    this.nonFinite = base.nonFinite;
    ({
      useEma: this.useEma, emaMomentum: this.emaMomentum, emaOverwriteFrequency: this.emaOverwriteFrequency,
      gradientAccumulationSteps: this.gradientAccumulationSteps, lossScaleFactor: this.lossScaleFactor,
    } = base.training);
    this.features = new TrainingFeatures(base.training);
    this.ruleSlotNames = [...slotNames];
    this.slots = new SlotRegistry<Slots>([...slotNames, ...this.features.stateNames], this.className, this.nonFinite !== 'propagate');
    this.rule = rule;
    this.sparse = rule.sparse === null ? null : rule.sparse((v) => this.slots.get(v));
  }

  /** The subclass's scalars of the step at `step` (the count before the increment), from the shared ones; may throw. */
  protected abstract stepScalars(base: BaseScalars, step: number): S;

  /** The subclass's own config keys (camelCase), between Keras's shared ones. */
  protected abstract ownConfig(): tf.serialization.ConfigDict;

  /** Throws when the optimizer was disposed; `method` names the call in the message. */
  protected assertLive(method: string): void {
    if (this.disposed) {
      throw new Error(`${this.name}.${method}: this optimizer has been disposed (its state is gone); create a new one`);
    }
  }

  /** Forgets the variables the user disposed: their slots are disposed, kernels and sparse rows let go of them. */
  private pruneDisposed(): void {
    this.slots.prune((variable, slots) => {
      this.rule.release?.([[variable, slots]]);
      this.sparse?.forget(variable);
    });
  }

  /** The registered class name, used in messages. */
  private get className(): string {
    return (this.constructor as unknown as { className: string }).className;
  }

  // ---- iterations ---------------------------------------------------------------------------

  /**
   * Updates applied so far: the number of calls, or with gradient accumulation
   * `calls // gradientAccumulationSteps`, as Keras 3's public `iterations`.
   */
  override get iterations(): number {
    return this.features.iterationsOf(this.calls);
  }

  /**
   * `applyGradients` calls so far (Keras 3's `_iterations`): what a schedule is
   * evaluated at, what `getWeights` saves and what the call forms return.
   */
  private get calls(): number {
    return this.iterations_ ?? 0;
  }

  // ---- learning rate and weight decay -------------------------------------------------------

  /** The learning rate as given: a number, a schedule or a function. Assigning checks it. */
  get learningRate(): LearningRate {
    return this.lr;
  }

  set learningRate(value: LearningRate) {
    this.lr = checkLearningRate(this.className, 'learningRate', value);
  }

  /** The learning rate the next step will use (schedule and legacy decay applied, float32). */
  currentLearningRate(): number {
    return baseScalarsAt(this.className, this, this.calls).lr;
  }

  /**
   * Keras 3's `exclude_from_weight_decay`: the variables in `varList`, and those
   * whose name contains a match of a `varNames` pattern (`['bias']`: every bias),
   * step with no weight decay. Replaces earlier exclusions, and must come before
   * the first step, as Keras requires it before the optimizer is built.
   */
  excludeFromWeightDecay(exclusions: WeightDecayExclusions): void {
    this.assertLive('excludeFromWeightDecay');
    const where = `${this.name}.excludeFromWeightDecay`;
    if (this.slots.size > 0) {
      throw new Error(`${where}: exclusions can only be configured before the first step (Keras: before the optimizer is built)`);
    }
    this.decayExclusion = parseExclusions(where, exclusions);
  }

  /** Whether `variable` steps without weight decay (decided once: exclusions are fixed after the first step). */
  private readonly excludedFromDecay = (variable: tf.Variable): boolean => {
    let excluded = this.exclusionOf.get(variable);
    if (excluded === undefined) {
      excluded = isExcluded(this.decayExclusion as DecayExclusion, variable);
      this.exclusionOf.set(variable, excluded);
    }
    return excluded;
  };

  // ---- minimize ---------------------------------------------------------------------------

  /** Keras form: returns the new iteration count. */
  override minimize(loss: () => tf.Scalar, varList: tf.Variable[] | (() => tf.Variable[])): number;
  /** TF.js form, as tfjs-layers calls it: returns the cost when `returnCost` is true, else null. */
  override minimize(f: () => tf.Scalar, returnCost?: boolean, varList?: tf.Variable[]): tf.Scalar | null;
  override minimize(
    f: () => tf.Scalar,
    second?: boolean | tf.Variable[] | (() => tf.Variable[]),
    varList?: tf.Variable[],
  ): number | tf.Scalar | null {
    this.assertLive('minimize');
    const where = `${this.name}.minimize`;
    if (typeof f !== 'function') {
      throw new TypeError(`${where}: the loss must be a function returning a scalar, got ${show(f)}`);
    }
    const apply = (pairs: Parameters<Parameters<typeof differentiateAndApply>[4]>[0]): void => { this.applyGradients(pairs); };
    const scale = this.lossScaleFactor;
    if (Array.isArray(second) || typeof second === 'function') {
      if (Array.isArray(second) && second.length === 0) {
        tf.tidy(() => { f(); });
        return this.calls;
      }
      differentiateAndApply(where, f, second, false, apply, scale);
      return this.calls;
    }
    if (second !== undefined && typeof second !== 'boolean') {
      throw new TypeError(
        `${where}: the second argument must be a variable list (Keras form) or ` +
        `returnCost (TF.js form), got ${show(second)}`,
      );
    }
    // TF.js form: all trainable variables by default, and only trainable ones.
    const all = varList ?? Object.values(tf.engine().registeredVariables);
    const trainable = all.filter((v) => v.trainable);
    if (trainable.length === 0) {
      throw new Error(`${where}: there are no trainable variables to minimize over`);
    }
    return differentiateAndApply(where, f, trainable, second === true, apply, scale);
  }

  // ---- applyGradients ---------------------------------------------------------------------

  /**
   * Keras form: `[gradient, variable]` pairs (gradient may be a tensor, an array, or
   * null to skip); TF.js form: a name→tensor map or `{name, tensor}[]`. Returns the
   * number of calls so far (Keras's `apply_gradients` returns `_iterations`; the
   * same as `iterations` without gradient accumulation). Every argument is
   * checked before any variable or slot changes.
   */
  override applyGradients(gradients: GradientsInput): number {
    this.assertLive('applyGradients');
    const where = `${this.className}.applyGradients`;
    const normalized = normalizeGradients(where, gradients, (m) => this.warn(m));
    if (normalized.kind === 'empty') return this.calls;
    const { pairs, converted } = normalized;
    try {
      this.pruneDisposed();
      this.slots.checkLive(where, pairs.map((p) => p.variable));
      if (this.nonFinite !== 'propagate') {
        let bad: number;
        try {
          bad = firstNonFinite(pairs.map((p) => p.grad), pairs.map((p) => p.variable), (v) => this.slots.get(v));
        } catch (e) {
          throw new Error(
            `${where}: nonFinite '${this.nonFinite}' could not check the gradients: ${(e as Error).message}, ` +
            "which 'skip' and 'error' need before each step (nonFinite: 'propagate' reads nothing back); nothing was changed",
          );
        }
        if (bad !== -1) {
          const variable = pairs[bad].variable.name;
          if (this.nonFinite === 'error') {
            throw new Error(
              `${where}: the gradient for variable ${show(variable)} holds NaN or ±Infinity (nonFinite: 'error'); nothing was changed`,
            );
          }
          // A skipped call is not a call: nothing accumulates, the schedule and EMA do not advance.
          this.skipped++;
          this.lastChoices = () => pairs.map((p) => ({
            variable: p.variable.name, kernel: 'skipped', fallbackReason: `the gradient for ${show(variable)} held NaN or ±Infinity (nonFinite: 'skip')`,
          }));
          return this.calls;
        }
      }
      // Keras 3 evaluates a schedule at the raw call count (`_iterations`).
      const s = this.stepScalars(baseScalarsAt(this.className, this, this.calls), this.calls);
      this.createSlots(pairs.map((p) => p.variable));
      tf.tidy(() => {
        // Fields spelled out: a spread here made every later read of these objects slower
        // (measured: +15% on a 200-variable wasm step).
        const updates: Array<PreparedUpdate<Slots>> = pairs.map((p) => ({
          variable: p.variable, grad: p.grad, slots: this.slots.get(p.variable) as Slots,
        }));
        this.lastChoices = runStep(updates, s, {
          kernels: this.rule.kernels(),
          sparse: this.sparse,
          clip: this,
          excluded: this.decayExclusion === null ? null : this.excludedFromDecay,
          around: this.aroundCall(),
        });
      });
    } finally {
      tf.dispose(converted);
    }
    this.iterations_ = this.calls + 1;
    return this.calls;
  }

  /** Creates missing slots; accumulators restored from `setWeights` state may hold anything in any row. */
  private createSlots(variables: readonly tf.Variable[]): void {
    const restored = this.slots.hasPending && this.gradientAccumulationSteps !== null ? variables.filter((v) => !this.slots.has(v)) : [];
    this.slots.create(variables);
    for (const v of restored) {
      const acc = this.slots.slot(v, 'accumulator');
      if (acc !== undefined) this.features.rows.markAll(acc);
    }
  }

  /** Keras 3's passes of the coming call (EMA, accumulation), or null when the options have none. */
  private aroundCall(): AroundCall<Slots> | null {
    const call = this.features.aroundAt(this.calls);
    if (call === null) return null;
    return new AroundCall<Slots>(call, this.features, {
      known: () => this.slots.entries(),
      finalize: (v) => this.sparse?.finalize(v),
      zeroPendingAccumulators: () => this.slots.zeroPending('accumulator'),
    });
  }

  /** Steps `nonFinite: 'skip'` skipped (a gradient held NaN or ±Infinity); 0 at construction. */
  get skippedSteps(): number {
    return this.skipped;
  }

  /** Which implementation updated each variable in the last step, and why a faster one was not used. */
  lastStepKernels(): readonly KernelChoice[] {
    return this.lastChoices();
  }

  // ---- deferred rows ------------------------------------------------------------------------

  /**
   * Keras 3's `finalize_variable_values`: with `useEma`, every variable takes its
   * moving average (Keras's `fit` does this at the end of training; see
   * `FinalizeVariableValues` in 'rmsprop/layers'). It also brings every variable
   * and slot fully up to date where a sparse mode deferred work; a no-op when
   * neither applies. Needed before reading a variable directly (e.g.
   * `model.predict` on a table trained in 'dense-equivalent' mode with momentum)
   * — `getSlot`, `getWeights`, `dispose` and `embeddingLookup` do that part themselves.
   */
  finalizeVariableValues(): void {
    this.assertLive('finalizeVariableValues');
    this.pruneDisposed();
    this.sparse?.finalize();
    if (!this.useEma) return;
    for (const [v, slots] of this.slots.entries()) {
      if (!v.isDisposed) copyVariable(v, (slots as FeatureSlots).ema as tf.Variable);
    }
  }

  /**
   * The moving average of `variable`'s weights (`useEma`), as a new tensor the
   * caller owns; the optimizer's own average is not affected by disposing it.
   */
  getEmaWeight(variable: tf.Variable): tf.Tensor {
    this.assertLive('getEmaWeight');
    const where = `${this.name}.getEmaWeight`;
    if (!this.useEma) throw new Error(`${where}: this optimizer keeps no moving average (\`useEma\` is false)`);
    if (!(variable instanceof tf.Variable)) throw new TypeError(`${where}: expected a tf.Variable, got ${show(variable)}`);
    if (variable.isDisposed) throw new Error(`${where}: variable ${show(variable.name)} has been disposed`);
    const ema = this.slots.slot(variable, 'ema');
    if (ema === undefined) {
      throw new Error(`${where}: variable ${show(variable.name)} has no moving average yet (it is created on its first gradient)`);
    }
    return ownCopy(ema);
  }

  // ---- slots ------------------------------------------------------------------------------

  /** The slot names in use, in Keras order. */
  getSlotNames(): string[] {
    return [...this.ruleSlotNames];
  }

  /** The optimizer state `slot` of `variable` (a live variable: do not dispose it). */
  getSlot(variable: tf.Variable, slot: string): tf.Variable {
    this.assertLive('getSlot');
    if (!this.ruleSlotNames.includes(slot)) {
      throw new Error(
        `${this.name}.getSlot: this optimizer has no ${show(slot)} slot; its slots are ` +
        `[${this.ruleSlotNames.join(', ')}]`,
      );
    }
    const found = variable instanceof tf.Variable && !variable.isDisposed ? this.slots.slot(variable, slot) : undefined;
    if (found === undefined) {
      throw new Error(
        `${this.name}.getSlot: variable ${show(variable?.name)} has no slots yet ` +
        '(slots are created on its first gradient)',
      );
    }
    this.sparse?.finalize(variable);
    this.slots.handOut(variable);
    return found;
  }

  // ---- weights ----------------------------------------------------------------------------

  /**
   * `[iter, all of the first slot, all of the second, ..., then <var>/ema, then
   * <var>/accumulator]` as Keras orders them; `iter` is the number of calls
   * (Keras 3 saves `_iterations`). Tensors the caller owns (a snapshot: later
   * steps do not change them, and disposing them does not touch the optimizer).
   */
  override async getWeights(): Promise<NamedTensor[]> {
    this.assertLive('getWeights');
    this.pruneDisposed();
    this.slots.checkLive(`${this.name}.getWeights`, this.slots.variables());
    this.sparse?.finalize();
    // State setWeights holds for variables that have not stepped yet is part of the state too.
    const slots = [...this.slots.ordered(), ...this.slots.orderedPending()];
    return [
      { name: 'iter', tensor: toCaller(tf.scalar(this.calls, 'int32')) },
      ...slots.map(({ name, tensor }) => ({ name, tensor: cloneToCaller(tensor) })),
    ];
  }

  /**
   * Restores `getWeights()` output (also a Keras list without the iteration
   * count). Before the first step, the state is kept and given to variables on
   * their first gradient: by saved name, then in order.
   */
  override async setWeights(weights: NamedTensor[]): Promise<void> {
    this.assertLive('setWeights');
    const where = `${this.name}.setWeights`;
    this.pruneDisposed();
    if (!Array.isArray(weights)) throw new TypeError(`${where}: expected an array of {name, tensor}, got ${show(weights)}`);
    weights.forEach((w, i) => {
      if (w === null || typeof w !== 'object' || !(w.tensor instanceof tf.Tensor)) {
        throw new TypeError(`${where}: entry ${i} must be {name, tensor}, got ${show(w)}`);
      }
      if (w.tensor.isDisposed) throw new Error(`${where}: the tensor of entry ${i} (${show(w.name)}) has been disposed`);
    });
    const k = this.slots.names.length;
    let hasIter: boolean;
    let slotWeights: NamedTensor[];
    /** How many of slotWeights go to existing slots (in order); the rest is kept as pending state. */
    let held = 0;
    if (this.slots.size > 0) {
      held = this.slots.size * k;
      const all = held + this.slots.pendingCount * k;
      const counts = new Set([held, held + 1, all, all + 1]);
      if (!counts.has(weights.length)) {
        throw new Error(
          `${where}: expected ${held + 1} weights (the iteration count, then ${k} slot(s) for each of ` +
          `${this.slots.size} variables)${all > held ? ` or ${all + 1} (with the state kept for variables not seen yet)` : ''}, ` +
          `got ${weights.length}`,
        );
      }
      hasIter = (weights.length === held + 1 || weights.length === all + 1) &&
        (weights.length !== all || isIterName(weights[0].name));
      slotWeights = hasIter ? weights.slice(1) : weights;
      const targets = this.slots.ordered();
      slotWeights.slice(0, held).forEach((w, i) => {
        const t = targets[i].tensor;
        if (w.tensor.shape.length !== t.shape.length || w.tensor.shape.some((d, j) => d !== t.shape[j])) {
          throw new Error(
            `${where}: weight ${hasIter ? i + 1 : i} (${show(w.name)}) has shape [${w.tensor.shape}], ` +
            `but ${targets[i].name} has shape [${t.shape}]`,
          );
        }
      });
    } else {
      if (weights.length === 0) return;
      hasIter = isIterName(weights[0].name);
      slotWeights = hasIter ? weights.slice(1) : weights;
    }
    const rest = slotWeights.slice(held);
    if (rest.length % k !== 0) {
      throw new Error(
        `${where}: after the iteration count, expected a multiple of ${k} weights ` +
        `([${this.slots.names.join(', ')}] for each variable), got ${rest.length}`,
      );
    }
    /** Per variable not seen yet, the index in `rest` of each slot. */
    const layout = slotLayout(rest, this.slots.names);
    for (const at of layout) {
      for (let s = 1; s < k; s++) {
        const a = rest[at[0]].tensor;
        const b = rest[at[s]].tensor;
        if (a.shape.length !== b.shape.length || a.shape.some((d, j) => d !== b.shape[j])) {
          throw new Error(`${where}: ${show(rest[at[s]].name)} has shape [${b.shape}] but ${show(rest[at[0]].name)} has shape [${a.shape}]`);
        }
      }
    }
    for (const w of slotWeights) {
      if (w.tensor.dtype !== 'float32') {
        throw new TypeError(`${where}: ${show(w.name)} has dtype ${w.tensor.dtype}, expected float32`);
      }
    }
    let iterations = 0;
    if (hasIter) {
      const it = weights[0].tensor;
      if (it.size !== 1) throw new Error(`${where}: the iteration count must be a scalar, got shape [${it.shape}]`);
      iterations = (await it.data())[0];
      // getWeights saves it as int32, as TF.js does.
      if (!Number.isInteger(iterations) || iterations < 0 || iterations > 0x7fffffff) {
        throw new RangeError(`${where}: the iteration count must be an integer in [0, 2^31 − 1], got ${iterations}`);
      }
    }
    // Every check passed: copy the values into buffers the optimizer owns.
    this.sparse?.finalize();
    const values = await Promise.all(slotWeights.map(async (w) => tf.tensor(await w.tensor.data(), w.tensor.shape, 'float32')));
    this.slots.ordered().forEach((target, i) => {
      target.tensor.assign(values[i]);
      values[i].dispose();
    });
    if (held === 0 || rest.length > 0) {
      const kept = values.slice(held);
      const pending: PendingSlots[] = layout.map((at) => {
        const name = rest[at[0]].name;
        const slash = name.lastIndexOf('/');
        return {
          variableName: slash > 0 ? name.slice(0, slash) : name,
          shape: rest[at[0]].tensor.shape,
          values: new Map(this.slots.names.map((slot, s) => [slot, kept[at[s]]])),
        };
      });
      this.slots.setPending(pending);
    }
    this.iterations_ = iterations;
    this.sparse?.markAllCurrent();
    // Restored accumulators may hold anything: the next update call finds their rows.
    for (const [, slots] of this.slots.entries()) {
      const acc = (slots as FeatureSlots).accumulator;
      if (acc !== undefined) this.features.rows.markAll(acc);
    }
  }

  /** Frees every tensor the optimizer owns (slots, pending state); what `getWeights` returned stays the caller's. */
  override dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pruneDisposed();
    this.sparse?.finalize();
    this.rule.release?.(this.slots.entries());
    this.slots.dispose();
    super.dispose();
    this.sparse?.dispose();
  }

  // ---- config -----------------------------------------------------------------------------

  /**
   * Keras's `get_config` keys, camelCase: the shared ones around the subclass's
   * own; a schedule as `{className, config}`, a function as its current value.
   */
  override getConfig(): tf.serialization.ConfigDict {
    const lr = this.lr;
    const config: tf.serialization.ConfigDict = { name: this.name };
    if (this.clipnorm !== null) config.clipnorm = this.clipnorm;
    if (this.clipvalue !== null) config.clipvalue = this.clipvalue;
    if (this.globalClipnorm !== null) config.globalClipnorm = this.globalClipnorm;
    config.learningRate = isLearningRateSchedule(lr)
      ? (serializeSchedule(lr) as unknown as tf.serialization.ConfigDict)
      : typeof lr === 'function' ? lr() : lr;
    config.decay = this.decay;
    Object.assign(config, this.ownConfig());
    if (this.weightDecay !== 0) config.weightDecay = this.weightDecay;
    if (this.nonFinite !== 'propagate') config.nonFinite = this.nonFinite;
    Object.assign(config, trainingConfig(this.features.options));
    return config;
  }
}
