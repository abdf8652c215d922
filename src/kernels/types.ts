/**
 * The contract between the optimizer and the implementations of its rules.
 * Every kernel applies the passes of the rule table (src/rules/table.ts) to a
 * batch of variables and writes the variables and their slots; which kernel
 * runs is decided in plan.ts from the lists in registry.ts.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ClipOptions } from '../clipping/scalar.js';
import type { RowRule } from '../rules/table.js';
import type { Around } from '../rules/training.js';
import type { RowCatchUp, StepScalars, UpdateForm } from '../rules/types.js';

/**
 * The optimizer state of one variable as the rules name it: `rms` always,
 * `momentum` on the momentum path, `mg` when centered.
 */
export type SlotSet = {
  readonly rms: tf.Variable;
  readonly momentum?: tf.Variable;
  readonly mg?: tf.Variable;
  /**
   * Keras 3's state around the rule, kept with the slots by the optimizer base
   * when its options ask for it: the EMA of the variable and the gradient
   * accumulator. Kernels read them only on calls whose `Around` uses them.
   */
  readonly ema?: tf.Variable;
  readonly accumulator?: tf.Variable;
  /**
   * False until a slot of the set leaves the optimizer (`getSlot`, `getWeights`).
   * Until then only code digging it out of the engine's variable registry could
   * have fed it to an op, so the wasm kernels need not tell tfjs-wasm's
   * per-tensor caches that it changed (see `markWritten`). Absent means it may
   * have been read.
   */
  readonly handedOut?: boolean;
  /**
   * True when the optimizer reads every gradient for NaN or ±Infinity before
   * its step (`nonFinite` 'skip' or 'error'): a kernel that must copy the
   * gradient anyway may keep the check's copy for the update (cpu/staging.ts).
   */
  readonly checksGradients?: boolean;
};

/** The slot names of a `SlotSet`, in Keras's weight order. */
export type SlotName = 'rms' | 'momentum' | 'mg';

/** Every optimizer-owned tensor of a `SlotSet`: the slots, then Keras 3's state around the rule. */
export type StateName = SlotName | 'ema' | 'accumulator';

/** One variable's share of a dense step: its gradient and its slots. */
export interface DenseUpdate {
  readonly variable: tf.Variable;
  readonly grad: tf.Tensor;
  readonly slots: SlotSet;
}

/**
 * What a kernel ran, when not simply itself: another it handed the step to at
 * run time (with why), or a variant of itself (the cpu kernel with its helper thread).
 */
export interface RunReport {
  readonly kernel: string;
  readonly reason?: string;
}

export interface DenseKernel {
  /** A short name, reported by `lastStepKernels()`. */
  readonly name: string;
  /** `null` when this kernel can apply the update, else why it cannot. */
  unsupportedReason(u: DenseUpdate): string | null;
  /**
   * Whether `run` can take raw gradients with the step's clipping (TF 2.4's
   * clipvalue, clipnorm, globalClipnorm, over exactly these updates) folded in.
   */
  readonly foldsClipping?: boolean;
  /**
   * Whether `run` takes an `Around` (Keras 3's accumulation and EMA of the
   * weights, rules/training.ts) and runs it with the update. The optimizer base
   * runs it as tensor ops around kernels that do not.
   */
  readonly foldsAround?: boolean;
  /**
   * Applies the step to every update; with `clip` (only for kernels that fold
   * clipping) the gradients are unclipped; with `around` (only for kernels that
   * fold it) the call accumulates or combines and averages as it says. Called
   * inside a tidy. Returns what ran, when that was another kernel or a variant of this one.
   */
  run(updates: readonly DenseUpdate[], form: UpdateForm, s: StepScalars, clip?: ClipOptions, around?: Around): RunReport | void;
  /**
   * Hands back what the kernel holds for a variable whose optimizer is being
   * disposed (before its slots are), so nothing of it stays pinned.
   */
  release?(variable: tf.Variable, slots: SlotSet): void;
}

/** A variable and its slots, whose rows a row kernel updates. */
export interface RowTarget {
  readonly variable: tf.Variable;
  readonly slots: SlotSet;
}

/**
 * The rows of one sparse step of one variable. Each row first catches up what
 * it sat out (`catchUp`), then, unless `values` is null (a catch-up only), takes
 * the passes of `rule` with the gradient row `values[slice[p]·rowSize …]`.
 */
export interface RowJob {
  readonly form: UpdateForm;
  readonly s: StepScalars;
  readonly rule: RowRule;
  /** Distinct rows of the table. */
  readonly rows: Int32Array;
  readonly slice: Int32Array;
  /** The deduplicated gradient rows, on the host; null for a catch-up only. */
  readonly values: Float32Array | null;
  /** Elements per row. */
  readonly rowSize: number;
  readonly catchUp: RowCatchUp | null;
}

export interface RowKernel {
  /** A short name, reported after the sparse mode (`sparse-<mode>/<name>`). */
  readonly name: string;
  /** The reference loops: reported as `sparse-<mode>` alone. */
  readonly reference?: boolean;
  /** `null` when this kernel can run the job in place, else why it cannot. */
  unsupportedReason(target: RowTarget, job: RowJob): string | null;
  /** Runs the job; called inside a tidy. Returns what ran, when that was another kernel. */
  run(target: RowTarget, job: RowJob): RunReport | void;
  /** As `DenseKernel.release`: hands back what the kernel holds for a variable whose optimizer is being disposed. */
  release?(variable: tf.Variable, slots: SlotSet): void;
}

/**
 * Finds a gradient holding NaN or ±Infinity before a step changes anything
 * (the `nonFinite` policies 'skip' and 'error'), with one read of each gradient.
 */
export interface FiniteCheck {
  readonly name: string;
  /** Whether it can read this gradient where it lies. */
  accepts(grad: tf.Tensor): boolean;
  /**
   * The index in `grads` of the first gradient with a non-finite element, or −1.
   * `targets[k]` is what `grads[k]` is for, or null (no slots yet, or the values
   * of `IndexedSlices`): a check may leave its copy of a gradient where that
   * variable's kernel will look for it.
   */
  firstNonFinite(grads: readonly tf.Tensor[], targets: ReadonlyArray<CheckTarget | null>): number;
}

/**
 * The variable a checked gradient is for, with the optimizer's record of its
 * slots (a `SlotSet` for RMSprop's rules; a check tells it by its `rms`).
 */
export interface CheckTarget {
  readonly variable: tf.Variable;
  readonly slots: object;
}

export interface KernelChoice {
  readonly variable: string;
  readonly kernel: string;
  /** Why the faster kernels were not used, when they were not. */
  readonly fallbackReason?: string;
}
