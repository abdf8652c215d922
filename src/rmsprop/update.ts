/**
 * Which rule and which kernels an RMSprop step runs: the rule table's entry for
 * the optimizer's form (rules/table.ts), on the kernels the active backend
 * registered (kernels/registry.ts), with the form bound so the Keras base only
 * plans and runs them; and the sparse rows of its sparse mode.
 */
import * as tf from '@tensorflow/tfjs-core';
import { denseKernels, releaseKernelState } from '../kernels/registry.js';
import type { DenseKernel, SlotSet } from '../kernels/types.js';
import type { StepScalars, UpdateForm } from '../rules/types.js';
import type { SparseMode } from '../sparse/modes.js';
import { SparseSteps } from '../sparse/sparse_steps.js';
import type { StepKernel, UpdateRule } from '../optimizer/update_rule.js';

function bind(k: DenseKernel, form: UpdateForm): StepKernel<SlotSet, StepScalars> {
  return {
    name: k.name,
    foldsClipping: k.foldsClipping,
    foldsAround: k.foldsAround,
    unsupportedReason: k.unsupportedReason.bind(k),
    run: (updates, s, clip, around) => k.run(updates, form, s, clip, around),
  };
}

export function rmspropUpdate(form: UpdateForm, sparseMode: SparseMode): UpdateRule<SlotSet, StepScalars> {
  // The registry's lists are stable objects, so each is bound once.
  const bound = new WeakMap<readonly DenseKernel[], ReadonlyArray<StepKernel<SlotSet, StepScalars>>>();
  return {
    kernels() {
      const list = denseKernels(tf.getBackend());
      let kernels = bound.get(list);
      if (kernels === undefined) {
        kernels = list.map((k) => bind(k, form));
        bound.set(list, kernels);
      }
      return kernels;
    },
    sparse: (slotsOf) => new SparseSteps(form, sparseMode, slotsOf),
    release: releaseKernelState,
  };
}
