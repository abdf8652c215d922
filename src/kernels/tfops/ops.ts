/**
 * TF.js's ops as the rules' `TensorOps`, and the step scalars as scalar
 * tensors: what the op-chain kernels hand the rule table's tensor forms.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ScalarTensors, StepScalars, TensorOps, TensorState } from '../../rules/types.js';

export const TF_OPS: TensorOps<tf.Tensor> = {
  add: (a, b) => tf.add(a, b),
  sub: (a, b) => tf.sub(a, b),
  mul: (a, b) => tf.mul(a, b),
  div: (a, b) => tf.div(a, b),
  sqrt: (a) => tf.sqrt(a),
  rsqrt: (a) => tf.rsqrt(a),
  square: (a) => tf.square(a),
};

/** The scalars of a step as tensors; call inside a tidy. */
export function scalarTensors(s: StepScalars): ScalarTensors<tf.Tensor> {
  const wd = s.weightDecay ?? 0;
  return {
    lr: tf.scalar(s.lr), rho: tf.scalar(s.rho), oneMinusRho: tf.scalar(s.oneMinusRho),
    momentum: tf.scalar(s.momentum), epsilon: tf.scalar(s.epsilon), negLr: tf.scalar(-s.lr),
    ...(wd !== 0 ? { weightDecay: tf.scalar(wd) } : {}),
    ...(s.emaMomentum !== undefined ? { emaMomentum: tf.scalar(s.emaMomentum), emaOneMinus: tf.scalar(s.emaOneMinus ?? 1) } : {}),
    ...(s.accumulationSteps !== undefined ? { accumulationSteps: tf.scalar(s.accumulationSteps) } : {}),
    ...(s.lossScaleFactor !== undefined ? { lossScaleFactor: tf.scalar(s.lossScaleFactor) } : {}),
  };
}

/** `st` with what a pass changed. */
export function withChanges<T>(st: TensorState<T>, changed: Partial<TensorState<T>>): TensorState<T> {
  return {
    w: changed.w ?? st.w, ms: changed.ms ?? st.ms, mom: changed.mom ?? st.mom, mg: changed.mg ?? st.mg,
    avg: changed.avg ?? st.avg, acc: changed.acc ?? st.acc,
  };
}
