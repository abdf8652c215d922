/**
 * The op-chain implementation: plain TF.js ops and `Variable.assign`, so it runs
 * on every backend (webgl, webgpu, cpu, wasm). It is the fallback of the fast
 * kernels and mirrors src/rules/keras2.ts operation for operation.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { StepScalars, UpdateForm } from '../rules/types.js';
import type { DenseKernel, DenseUpdate } from './types.js';

function stepMomentum(u: DenseUpdate, centered: boolean, k: Record<keyof StepScalars, tf.Scalar>): void {
  const { variable: w, grad: g } = u;
  const ms = u.slots.rms;
  const mom = u.slots.momentum as tf.Variable;
  const msNew = tf.add(ms, tf.mul(tf.sub(tf.square(g), ms), k.oneMinusRho));
  let d: tf.Tensor;
  if (centered) {
    const mg = u.slots.mg as tf.Variable;
    const mgNew = tf.add(mg, tf.mul(tf.sub(g, mg), k.oneMinusRho));
    d = tf.add(tf.sub(msNew, tf.square(mgNew)), k.epsilon);
    mg.assign(mgNew);
  } else {
    d = tf.add(msNew, k.epsilon);
  }
  const momNew = tf.add(tf.mul(mom, k.momentum), tf.div(tf.mul(g, k.lr), tf.sqrt(d)));
  ms.assign(msNew);
  mom.assign(momNew);
  w.assign(tf.sub(w, momNew));
}

function stepPlain(u: DenseUpdate, centered: boolean, k: Record<keyof StepScalars, tf.Scalar>): void {
  const { variable: w, grad: g } = u;
  const ms = u.slots.rms;
  const msNew = tf.add(tf.mul(k.rho, ms), tf.mul(k.oneMinusRho, tf.square(g)));
  let d: tf.Tensor = msNew;
  if (centered) {
    const mg = u.slots.mg as tf.Variable;
    const mgNew = tf.add(tf.mul(k.rho, mg), tf.mul(k.oneMinusRho, g));
    d = tf.sub(msNew, tf.square(mgNew));
    mg.assign(mgNew);
  }
  ms.assign(msNew);
  w.assign(tf.sub(w, tf.div(tf.mul(k.lr, g), tf.add(tf.sqrt(d), k.epsilon))));
}

export const tfopsKernel: DenseKernel = {
  name: 'tfops',
  unsupportedReason: () => null,
  run(updates, form: UpdateForm, s: StepScalars) {
    tf.tidy(() => {
      const k = {
        lr: tf.scalar(s.lr), rho: tf.scalar(s.rho), oneMinusRho: tf.scalar(s.oneMinusRho),
        momentum: tf.scalar(s.momentum), epsilon: tf.scalar(s.epsilon),
      };
      const step = form.path === 'momentum' ? stepMomentum : stepPlain;
      for (const u of updates) tf.tidy(() => step(u, form.centered, k));
    });
  },
};
