/**
 * The contract between the optimizer and its update implementations. Every
 * implementation applies the same rule (src/rules) to a batch of variables and
 * writes the variable and its slots; which one runs is decided in select.ts.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ClipOptions } from '../clipping/scalar.js';
import type { SlotSet } from '../optimizer/slots.js';
import type { StepScalars, UpdateForm } from '../rules/types.js';

/** One variable's share of a dense step: its (already clipped) gradient and its slots. */
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
  /** A short name, reported by `RMSprop.lastStepKernels()`. */
  readonly name: string;
  /** `null` when this kernel can apply the update, else why it cannot. */
  unsupportedReason(u: DenseUpdate): string | null;
  /**
   * Whether `run` can take raw gradients with the step's clipping (TF 2.4's
   * clipvalue, clipnorm, globalClipnorm, over exactly these updates) folded in.
   */
  readonly foldsClipping?: boolean;
  /**
   * Applies the step to every update; with `clip` (only for kernels that fold
   * clipping) the gradients are unclipped. Called inside a tidy. Returns what
   * ran, when that was another kernel or a variant of this one.
   */
  run(updates: readonly DenseUpdate[], form: UpdateForm, s: StepScalars, clip?: ClipOptions): RunReport | void;
  /**
   * Hands back what the kernel holds for a variable whose optimizer is being
   * disposed (before its slots are), so nothing of it stays pinned.
   */
  release?(variable: tf.Variable, slots: SlotSet): void;
}

/** The arithmetic of a sparse row: the dense rule of the form, or TF 2.4's sparse momentum kernel. */
export type RowRule = 'dense' | 'tf-sparse';

/** The rows of one sparse step of one variable, in one pass (select.ts's `sparseRowKernel`). */
export interface RowKernel {
  readonly name: string;
  /**
   * Applies `rule` to each row `rows[p]` of the variable and slots given at
   * creation, with the gradient row `values[slice[p]·rowSize …]`. Makes no
   * allocation in the tensors' memory, so views made after the kernel was
   * created stay valid.
   */
  run(
    rule: RowRule, rows: Int32Array, slice: Int32Array, values: Float32Array, rowSize: number, form: UpdateForm, s: StepScalars,
  ): void;
}
