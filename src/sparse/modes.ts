/**
 * The sparse modes: what an `IndexedSlices` step does to the rows it does not
 * index, and so what a row may have to catch up later.
 *
 * | mode               | momentum path (TF's C++ kernel)              | plain path (momentum == 0)             |
 * | ------------------ | -------------------------------------------- | -------------------------------------- |
 * | 'keras2' (TF 2.4)  | sparse kernel on indexed rows; others frozen | indexed rows; every row's ms, mg decay |
 * | 'lazy'             | sparse kernel on indexed rows; others frozen | indexed rows only; others frozen       |
 * | 'dense-equivalent' | dense rule; untouched rows keep decaying     | as 'keras2' (already dense-equivalent) |
 * |                    | and their momentum keeps moving the variable |                                        |
 *
 * Flavors other than 'keras2' have no sparse kernel of their own (Keras 3 and
 * PyTorch densify or refuse sparse gradients, TF.js takes dense ones only): an
 * indexed row gets the flavor's dense rule, and the modes keep their meaning for
 * the rows a step does not index.
 */
import type { RowRule } from '../rules/table.js';
import type { UpdateForm } from '../rules/types.js';

export const SPARSE_MODES = ['keras2', 'lazy', 'dense-equivalent'] as const;
export type SparseMode = (typeof SPARSE_MODES)[number];

/** What a mode leaves for later on rows a step does not index. */
export type Deferral = 'none' | 'accumulators' | 'all';

export function deferralOf(mode: SparseMode, form: UpdateForm): Deferral {
  if (mode === 'lazy') return 'none';
  if (form.path === 'plain') return 'accumulators';
  return mode === 'dense-equivalent' ? 'all' : 'none';
}

/** Which arithmetic an indexed row takes in a mode. */
export function rowRuleOf(mode: SparseMode): RowRule {
  return mode === 'dense-equivalent' ? 'dense' : 'sparse';
}
