/**
 * The op chain: the rule table's tensor forms run as TF.js ops and written with
 * `Variable.assign`, so it runs on every backend (webgl, webgpu, cpu, wasm). It
 * is the fallback of the fused kernels and mirrors the loops operation for
 * operation, so on cpu and wasm it equals them to the bit, with one exception:
 * TF.js has no fused multiply-add, so the 'pytorch' flavor here rounds each
 * product of PyTorch's fused steps separately (within a few float32 ulps per
 * step of the rule).
 */
import * as tf from '@tensorflow/tfjs-core';
import { densePasses } from '../../rules/table.js';
import type { TensorState } from '../../rules/types.js';
import type { DenseKernel } from '../types.js';
import { scalarTensors, TF_OPS, withChanges } from './ops.js';

export const tfopsKernel: DenseKernel = {
  name: 'tfops',
  unsupportedReason: () => null,
  run(updates, form, s) {
    tf.tidy(() => {
      const k = scalarTensors(s);
      const passes = densePasses(form, s);
      for (const u of updates) {
        tf.tidy(() => {
          const { rms, momentum, mg } = u.slots;
          let st: TensorState<tf.Tensor> = { w: u.variable, ms: rms, mom: momentum, mg };
          for (const pass of passes) st = withChanges(st, pass.ops(TF_OPS, k, form.centered, u.grad, st));
          if (st.w !== u.variable) u.variable.assign(st.w);
          if (st.ms !== rms) rms.assign(st.ms);
          if (momentum && st.mom !== momentum) momentum.assign(st.mom as tf.Tensor);
          if (mg && st.mg !== mg) mg.assign(st.mg as tf.Tensor);
        });
      }
    });
  },
};
