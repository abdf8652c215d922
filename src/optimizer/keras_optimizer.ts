/**
 * The Keras optimizer contract on top of `tf.Optimizer`, shared by every update
 * rule (like Keras's `base_optimizer.py`): both call forms of `minimize` and
 * `applyGradients`, missing gradients, checks before any state changes, lazy
 * slots keyed by variable, clipping, `iterations`, weights in Keras order, and
 * `dispose`. A subclass declares its slots and defines `updateStep`; it never
 * sees call forms, clipping or iteration counting.
 */
import * as tf from '@tensorflow/tfjs-core';
import { show } from '../util/config_keys.js';
import { hasClipping, type ClipOptions } from '../clipping/scalar.js';
import { clipGradients } from '../clipping/tensor.js';
import { normalizeGradients, type GradientPair, type GradientsInput, type NamedTensor } from './gradients.js';
import { withLookupCapture, type CapturedLookup } from '../sparse/embedding_lookup.js';
import { IndexedSlices } from '../sparse/indexed_slices.js';
import { SlotRegistry, type PendingSlots, type SlotName, type SlotSet } from './slots.js';

export type { GradientsInput, NamedTensor } from './gradients.js';

/** A checked `[gradient, variable]` pair with its slots; clipped only by `clipUpdates`. */
export interface PreparedUpdate extends GradientPair {
  readonly slots: SlotSet;
}

function isIterName(name: string): boolean {
  return /(^|\/)iter(ations?)?(:0)?$/.test(name);
}

const GRADIENT_HINT =
  'TF.js registers gradients only when @tensorflow/tfjs or @tensorflow/tfjs-layers is loaded ' +
  '(the CommonJS build of @tensorflow/tfjs-core alone has none): import one of them.';

/**
 * The updates with TF 2.4's gradient clipping applied as tensor ops (any
 * backend). IndexedSlices are clipped on their raw values, before duplicate
 * rows are summed, as in TF. Returns `updates` itself when nothing is set.
 */
export function clipUpdates(updates: readonly PreparedUpdate[], clip: ClipOptions): readonly PreparedUpdate[] {
  if (!hasClipping(clip)) return updates;
  const raw = updates.map((u) => (u.grad instanceof IndexedSlices ? u.grad.values : u.grad));
  const clipped = clipGradients(raw, clip);
  return updates.map((u, i) => ({
    variable: u.variable,
    grad: u.grad instanceof IndexedSlices ? u.grad.withValues(clipped[i]) : clipped[i],
    slots: u.slots,
  }));
}

export abstract class KerasOptimizer<StepContext> extends tf.Optimizer {
  protected readonly slots: SlotRegistry;
  private iterTensor: tf.Scalar | null = null;
  /** Reports missing gradients, like Keras's logged warning. */
  warn: (message: string) => void = (m) => console.warn(m);

  protected constructor(slotNames: readonly SlotName[]) {
    super();
    this.slots = new SlotRegistry(slotNames);
  }

  /** Resolves and checks the step's hyperparameters at the count before the increment; may throw. */
  protected abstract prepareStep(step: number): StepContext;

  /**
   * Applies one step to every update; runs inside a tidy. The gradients are as
   * given: the subclass clips them with `clipUpdates`, or hands `clip` to an
   * implementation that folds clipping into the update itself.
   */
  protected abstract updateStep(updates: readonly PreparedUpdate[], ctx: StepContext, clip: ClipOptions): void;

  protected abstract clipOptions(): ClipOptions;

  /**
   * Brings state that a sparse mode deferred fully up to date: of one variable,
   * or of all. Called before anything reads or replaces the state.
   */
  protected finalizeDeferred(_variable?: tf.Variable): void {}

  /**
   * Brings every variable and slot fully up to date where a sparse mode deferred
   * work (Keras 3's name); a no-op otherwise. Needed before reading a variable
   * directly (e.g. `model.predict` on a table trained in 'dense-equivalent' mode
   * with momentum) — `getSlot`, `getWeights`, `dispose` and `embeddingLookup` do it themselves.
   */
  finalizeVariableValues(): void {
    this.finalizeDeferred();
  }

  /** The optimizer's display name, used in messages. */
  protected abstract get displayName(): string;

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
    if (typeof f !== 'function') {
      throw new TypeError(`${this.displayName}.minimize: the loss must be a function returning a scalar, got ${show(f)}`);
    }
    if (Array.isArray(second) || typeof second === 'function') {
      if (Array.isArray(second) && second.length === 0) {
        tf.tidy(() => { f(); });
        return this.iterations;
      }
      this.differentiateAndApply(f, second, false);
      return this.iterations;
    }
    if (second !== undefined && typeof second !== 'boolean') {
      throw new TypeError(
        `${this.displayName}.minimize: the second argument must be a variable list (Keras form) or ` +
        `returnCost (TF.js form), got ${show(second)}`,
      );
    }
    // TF.js form: all trainable variables by default, and only trainable ones.
    const all = varList ?? Object.values(tf.engine().registeredVariables);
    const trainable = all.filter((v) => v.trainable);
    if (trainable.length === 0) {
      throw new Error(`${this.displayName}.minimize: there are no trainable variables to minimize over`);
    }
    return this.differentiateAndApply(f, trainable, second === true);
  }

  /**
   * Differentiates `loss` with respect to the variables, Keras-style (a var-list
   * function is called after the loss, so lazily built variables exist), and
   * applies the gradients. Rows gathered with `embeddingLookup` come back as
   * `IndexedSlices` for their table.
   */
  private differentiateAndApply(
    loss: () => tf.Scalar, varList: tf.Variable[] | (() => tf.Variable[]), keepCost: boolean,
  ): tf.Scalar | null {
    const where = `${this.displayName}.minimize`;
    const checkVars = (vars: unknown): tf.Variable[] => {
      if (!Array.isArray(vars)) throw new TypeError(`${where}: the varList function must return an array, got ${show(vars)}`);
      vars.forEach((v, i) => {
        if (!(v instanceof tf.Variable)) throw new TypeError(`${where}: varList[${i}] is not a tf.Variable: ${show(v)}`);
      });
      return vars as tf.Variable[];
    };
    let vars: tf.Variable[] = Array.isArray(varList) ? checkVars(varList) : [];
    // The engine checks `xs` is non-empty before running the loss and reads it
    // only afterwards, so the list is completed (var-list function, gathered
    // rows) once the loss has run.
    const placeholder = tf.scalar(0);
    const xs: tf.Tensor[] = [placeholder];
    let lookups: CapturedLookup[] = [];
    try {
      const { value, grads } = withLookupCapture((captured) => this.withGradientHint(() =>
        tf.engine().gradients(() => {
          const cost = loss();
          if (!Array.isArray(varList)) vars = checkVars(varList());
          const wanted = new Set(vars);
          lookups = captured.filter((c) => wanted.has(c.table));
          xs.length = 0;
          xs.push(...vars, ...lookups.map((c) => c.rows));
          return cost;
        }, xs as tf.Variable[], undefined, true)));
      const owned: tf.Tensor[] = grads.filter((g) => g != null);
      try {
        if (vars.length > 0) {
          const pairs = vars.map((v, i) => [this.combineGradients(v, grads[i] ?? null, lookups, grads.slice(vars.length), owned), v] as const);
          this.applyGradients(pairs);
        }
      } finally {
        tf.dispose(owned);
      }
      if (keepCost) return value;
      value.dispose();
      return null;
    } finally {
      placeholder.dispose();
    }
  }

  /**
   * The gradient of one variable: its dense gradient, the `IndexedSlices` of the
   * rows gathered from it, or (both present) their dense sum.
   */
  private combineGradients(
    v: tf.Variable, dense: tf.Tensor | null, lookups: readonly CapturedLookup[], rowGrads: ReadonlyArray<tf.Tensor | undefined>, owned: tf.Tensor[],
  ): tf.Tensor | IndexedSlices | null {
    const mine = lookups.map((c, j) => ({ c, g: rowGrads[j] })).filter((e) => e.c.table === v && e.g != null);
    if (mine.length === 0) return dense;
    const rowShape = v.shape.slice(1);
    const values = tf.tidy(() => {
      const parts = mine.map((e) => tf.reshape(e.g as tf.Tensor, [e.c.ids.length, ...rowShape]));
      return parts.length === 1 ? parts[0] : tf.concat(parts, 0);
    });
    owned.push(values);
    const indices = new Int32Array(mine.reduce((n, e) => n + e.c.ids.length, 0));
    let at = 0;
    for (const e of mine) { indices.set(e.c.ids, at); at += e.c.ids.length; }
    const slices = new IndexedSlices(values, indices, v.shape);
    if (dense === null) return slices;
    // scatterND sums duplicate rows and, unlike unsortedSegmentSum, exists on the wasm backend.
    const sum = tf.tidy(() => tf.add(dense, tf.scatterND(tf.tensor2d(indices, [indices.length, 1], 'int32'), values, v.shape)));
    owned.push(sum);
    return sum;
  }

  private withGradientHint<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof Error && /gradient function not found/i.test(e.message)) {
        e.message = `${e.message}. ${GRADIENT_HINT}`;
      }
      throw e;
    }
  }

  // ---- applyGradients ---------------------------------------------------------------------

  /**
   * Keras form: `[gradient, variable]` pairs (gradient may be a tensor, an array, or
   * null to skip); TF.js form: a name→tensor map or `{name, tensor}[]`. Returns the
   * iteration count. Every argument is checked before any variable or slot changes.
   */
  override applyGradients(gradients: GradientsInput): number {
    const normalized = normalizeGradients(gradients, (m) => this.warn(m));
    if (normalized.kind === 'empty') return this.iterations;
    const { pairs, converted } = normalized;
    try {
      const ctx = this.prepareStep(this.iterations);
      this.slots.create(pairs.map((p) => p.variable));
      tf.tidy(() => {
        // Fields spelled out: a spread here made every later read of these objects slower
        // (measured: +15% on a 200-variable wasm step).
        const updates = pairs.map((p) => ({ variable: p.variable, grad: p.grad, slots: this.slots.get(p.variable) as SlotSet }));
        this.updateStep(updates, ctx, this.clipOptions());
      });
    } finally {
      tf.dispose(converted);
    }
    this.incrementIterations();
    return this.iterations;
  }

  // ---- slots ------------------------------------------------------------------------------

  /** The slot names in use, in Keras order. */
  getSlotNames(): string[] {
    return [...this.slots.names];
  }

  /** The optimizer state `slot` of `variable` (a live variable: do not dispose it). */
  getSlot(variable: tf.Variable, slot: string): tf.Variable {
    if (!this.slots.names.includes(slot as SlotName)) {
      throw new Error(
        `${this.displayName}.getSlot: this optimizer has no ${show(slot)} slot; its slots are ` +
        `[${this.slots.names.join(', ')}]`,
      );
    }
    const set = this.slots.get(variable);
    if (set === undefined) {
      throw new Error(
        `${this.displayName}.getSlot: variable ${show(variable?.name)} has no slots yet ` +
        '(slots are created on its first gradient)',
      );
    }
    this.finalizeDeferred(variable);
    this.slots.handOut(variable);
    return set[slot as SlotName] as tf.Variable;
  }

  // ---- weights ----------------------------------------------------------------------------

  /** `[iter, all rms, all momentum, all mg]` as Keras orders them; slot tensors are live. */
  override async getWeights(): Promise<NamedTensor[]> {
    this.finalizeDeferred();
    this.iterTensor?.dispose();
    // One cached scalar, so repeated saves do not leak (tfjs#8238).
    this.iterTensor = tf.scalar(this.iterations, 'int32');
    this.slots.handOut();
    const slots = this.slots.size > 0 ? this.slots.ordered() : this.slots.orderedPending();
    return [{ name: 'iter', tensor: this.iterTensor }, ...slots];
  }

  /**
   * Restores `getWeights()` output (also a Keras list without the iteration
   * count). Before the first step, the state is kept and given to variables on
   * their first gradient: by saved name, then in order.
   */
  override async setWeights(weights: NamedTensor[]): Promise<void> {
    const where = `${this.displayName}.setWeights`;
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
    if (this.slots.size > 0) {
      const expected = 1 + this.slots.size * k;
      if (weights.length !== expected && weights.length !== expected - 1) {
        throw new Error(
          `${where}: expected ${expected} weights (the iteration count, then ${k} slot(s) for each of ` +
          `${this.slots.size} variables), got ${weights.length}`,
        );
      }
      hasIter = weights.length === expected;
      slotWeights = hasIter ? weights.slice(1) : weights;
      const targets = this.slots.ordered();
      slotWeights.forEach((w, i) => {
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
      if (slotWeights.length % k !== 0) {
        throw new Error(
          `${where}: after the iteration count, expected a multiple of ${k} weights ` +
          `([${this.slots.names.join(', ')}] for each variable), got ${slotWeights.length}`,
        );
      }
      const n = slotWeights.length / k;
      for (let i = 0; i < n; i++) {
        for (let s = 1; s < k; s++) {
          const a = slotWeights[i].tensor;
          const b = slotWeights[s * n + i].tensor;
          if (a.shape.length !== b.shape.length || a.shape.some((d, j) => d !== b.shape[j])) {
            throw new Error(
              `${where}: ${show(slotWeights[s * n + i].name)} has shape [${b.shape}] but ` +
              `${show(slotWeights[i].name)} has shape [${a.shape}]`,
            );
          }
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
      if (!Number.isInteger(iterations) || iterations < 0) {
        throw new RangeError(`${where}: the iteration count must be a non-negative integer, got ${iterations}`);
      }
    }
    // Every check passed: copy the values into buffers the optimizer owns.
    this.finalizeDeferred();
    const values = await Promise.all(slotWeights.map(async (w) => tf.tensor(await w.tensor.data(), w.tensor.shape, 'float32')));
    if (this.slots.size > 0) {
      this.slots.ordered().forEach((target, i) => {
        target.tensor.assign(values[i]);
        values[i].dispose();
      });
    } else {
      const n = slotWeights.length / k;
      const pending: PendingSlots[] = [];
      for (let i = 0; i < n; i++) {
        const name = slotWeights[i].name;
        const slash = name.lastIndexOf('/');
        const byName = new Map<SlotName, tf.Tensor>();
        this.slots.names.forEach((slot, s) => byName.set(slot, values[s * n + i]));
        pending.push({
          variableName: slash > 0 ? name.slice(0, slash) : name,
          shape: slotWeights[i].tensor.shape,
          values: byName,
        });
      }
      this.slots.setPending(pending);
    }
    this.iterations_ = iterations;
  }

  /** Frees every tensor the optimizer owns (slots, pending state, the cached iteration scalar). */
  override dispose(): void {
    this.finalizeDeferred();
    this.slots.dispose();
    this.iterTensor?.dispose();
    this.iterTensor = null;
    super.dispose();
  }
}
