/**
 * What a subclass of the Keras base gives it to run its steps: the kernels of
 * its update for the active backend (its rule already bound, so the base never
 * sees slot arithmetic), and how it updates the rows of sparse gradients. Like
 * Keras 3's `update_step`, but for all the variables of a step at once, so a
 * kernel can fuse them.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ClipOptions } from '../clipping/scalar.js';
import type { KernelChoice, RunReport } from '../kernels/types.js';
import type { Around } from '../rules/training.js';
import type { IndexedSlices } from '../sparse/indexed_slices.js';

/** A checked `[gradient, variable]` pair of a step, with the variable's slots, before the dense / sparse split. */
export interface PreparedUpdate<Slots> {
  readonly variable: tf.Variable;
  readonly grad: tf.Tensor | IndexedSlices;
  readonly slots: Slots;
}

/** One variable's share of a dense step. */
export interface StepUpdate<Slots> {
  readonly variable: tf.Variable;
  readonly grad: tf.Tensor;
  readonly slots: Slots;
}

export interface StepKernel<Slots, S> {
  /** Reported by `lastStepKernels()`. */
  readonly name: string;
  /** `null` when this kernel can apply the update, else why it cannot. */
  unsupportedReason(u: StepUpdate<Slots>): string | null;
  /** Whether `run` takes unclipped gradients and folds the step's clipping in (over exactly these updates). */
  readonly foldsClipping?: boolean;
  /**
   * Whether `run` takes Keras 3's passes of the call (`around`: accumulation,
   * the combined gradient, the EMA; the slot record then holds `ema` and
   * `accumulator`). The base runs them as tensor ops around kernels that do not.
   */
  readonly foldsAround?: boolean;
  /** Applies the step to every update, inside a tidy; returns what ran when that was another kernel. */
  run(updates: readonly StepUpdate<Slots>[], s: S, clip?: ClipOptions, around?: Around): RunReport | void;
}

/** The steps of `IndexedSlices` gradients, at the cost of the rows they index, with rows deferred by some modes. */
export interface SparseRows<Slots, S> {
  /** Whether this step applies sparse gradients densified instead. */
  densifies(s: S): boolean;
  /** Before a dense step of `variables`: deferred rows catch up; returns the variables that had any. */
  beforeDense(variables: readonly tf.Variable[]): tf.Variable[];
  /** After that dense step of the variables `beforeDense` returned. */
  afterDense(variables: readonly tf.Variable[], s: S): void;
  /** One sparse step of one variable, inside a tidy. */
  apply(variable: tf.Variable, slices: IndexedSlices, slots: Slots, s: S): KernelChoice;
  /** Brings deferred rows of `variable` (of all variables when omitted) up to date. */
  finalize(variable?: tf.Variable): void;
  /** Lets go of a variable the user disposed. */
  forget(variable: tf.Variable): void;
  /** After the whole state was replaced: nothing is deferred. */
  markAllCurrent(): void;
  dispose(): void;
}

export interface UpdateRule<Slots, S> {
  /** The kernels for the active backend, fastest first; the last one takes every update. */
  kernels(): readonly StepKernel<Slots, S>[];
  /**
   * Builds the sparse side (given how to find a variable's slots), or null: the
   * optimizer then applies sparse gradients densified.
   */
  readonly sparse: ((slotsOf: (variable: tf.Variable) => Slots | undefined) => SparseRows<Slots, S>) | null;
  /** Lets the kernels hand back what they hold for these variables (the optimizer is being disposed). */
  release?(entries: Iterable<readonly [tf.Variable, Slots]>): void;
}
