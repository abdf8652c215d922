/**
 * The op chain: the rule table's tensor forms run as TF.js ops and written with
 * `Variable.assign`, so it runs on every backend (webgl, webgpu, cpu, wasm). It
 * is the fallback of the fused kernels and mirrors the loops operation for
 * operation, so on cpu and wasm it equals them to the bit, with one exception:
 * TF.js has no fused multiply-add, so the 'pytorch' flavor here rounds each
 * product of PyTorch's fused steps separately (within a few float32 ulps per
 * step of the rule). Keras 3's passes around the rule (accumulation, EMA) run
 * here as their tensor forms too.
 */
import * as tf from '@tensorflow/tfjs-core';
import { densePasses } from '../../rules/table.js';
import { aroundPasses, aroundScalars, COMBINE, UNSCALE } from '../../rules/training.js';
import type { TensorState } from '../../rules/types.js';
import type { DenseKernel } from '../types.js';
import { scalarTensors, TF_OPS, withChanges } from './ops.js';

export const tfopsKernel: DenseKernel = {
  name: 'tfops',
  unsupportedReason: () => null,
  foldsAround: true,
  run(updates, form, s, _clip, around) {
    tf.tidy(() => {
      const k = scalarTensors(around === undefined ? s : aroundScalars(s, around));
      const rule = around === undefined || around.phase === 'update' ? densePasses(form, s) : [];
      const passes = around === undefined ? rule : aroundPasses(rule, around);
      const combine = around !== undefined && around.combineSteps !== null;
      const unscale = around !== undefined && around.unscale !== null;
      for (const u of updates) {
        tf.tidy(() => {
          const { rms, momentum, mg, ema, accumulator } = u.slots;
          let st: TensorState<tf.Tensor> = { w: u.variable, ms: rms, mom: momentum, mg, avg: ema, acc: accumulator };
          let grad = unscale ? UNSCALE.ops(TF_OPS, k, u.grad) : u.grad;
          if (combine) {
            grad = COMBINE.ops(TF_OPS, k, grad, st);
            st = withChanges(st, { acc: tf.zerosLike(accumulator as tf.Variable) });
          }
          for (const pass of passes) st = withChanges(st, pass.ops(TF_OPS, k, form.centered, grad, st));
          // The EMA's overwrite makes the weights its average: each takes a buffer of its own (x·1 is exact).
          if (st.w !== u.variable) u.variable.assign(st.w === st.avg ? tf.mul(st.w, tf.scalar(1)) : st.w);
          if (st.ms !== rms) rms.assign(st.ms);
          if (momentum && st.mom !== momentum) momentum.assign(st.mom as tf.Tensor);
          if (mg && st.mg !== mg) mg.assign(st.mg as tf.Tensor);
          if (ema && st.avg !== ema) ema.assign(st.avg as tf.Tensor);
          if (accumulator && st.acc !== accumulator) accumulator.assign(st.acc as tf.Tensor);
        });
      }
    });
  },
};
