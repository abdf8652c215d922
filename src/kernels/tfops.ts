/**
 * The op-chain implementation: plain TF.js ops and `Variable.assign`, so it runs
 * on every backend (webgl, webgpu, cpu, wasm). It is the fallback of the fast
 * kernels and mirrors src/rules operation for operation, so on cpu and wasm it
 * equals the rules to the bit, with one exception: TF.js has no fused
 * multiply-add, so the 'pytorch' flavor here rounds each product of PyTorch's
 * fused steps separately (within a few float32 ulps per step of the rule).
 */
import * as tf from '@tensorflow/tfjs-core';
import { hasDecoupledDecay } from '../rules/dense.js';
import type { StepScalars, UpdateForm } from '../rules/types.js';
import type { DenseKernel, DenseUpdate } from './types.js';

type K = Record<'lr' | 'rho' | 'oneMinusRho' | 'momentum' | 'epsilon' | 'weightDecay' | 'negLr', tf.Scalar>;

/** The end of TF's kernel form, shared by 'keras2' and 'tfjs': `mom = mom·μ + (g·lr)/√d; w −= mom`. */
function momentumTail(u: DenseUpdate, msNew: tf.Tensor, d: tf.Tensor, k: K): void {
  const { variable: w, grad: g } = u;
  const mom = u.slots.momentum as tf.Variable;
  const momNew = tf.add(tf.mul(mom, k.momentum), tf.div(tf.mul(g, k.lr), tf.sqrt(d)));
  u.slots.rms.assign(msNew);
  mom.assign(momNew);
  w.assign(tf.sub(w, momNew));
}

function stepMomentum(u: DenseUpdate, centered: boolean, k: K): void {
  const g = u.grad;
  const ms = u.slots.rms;
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
  momentumTail(u, msNew, d, k);
}

function stepPlain(u: DenseUpdate, centered: boolean, k: K): void {
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

/** Keras 3 (rules/keras3.ts). */
function stepKeras3(u: DenseUpdate, momentumPath: boolean, centered: boolean, k: K): void {
  const { variable: w, grad: g } = u;
  const ms = u.slots.rms;
  const msNew = tf.add(tf.mul(k.rho, ms), tf.mul(k.oneMinusRho, tf.square(g)));
  let d: tf.Tensor;
  if (centered) {
    const mg = u.slots.mg as tf.Variable;
    const mgNew = tf.add(tf.mul(k.rho, mg), tf.mul(k.oneMinusRho, g));
    d = tf.add(tf.sub(msNew, tf.square(mgNew)), k.epsilon);
    mg.assign(mgNew);
  } else {
    d = tf.add(msNew, k.epsilon);
  }
  ms.assign(msNew);
  const inc = tf.div(tf.mul(k.lr, g), tf.sqrt(d));
  if (momentumPath) {
    const mom = u.slots.momentum as tf.Variable;
    const momNew = tf.add(tf.mul(k.momentum, mom), inc);
    mom.assign(momNew);
    w.assign(tf.sub(w, momNew));
  } else {
    w.assign(tf.sub(w, inc));
  }
}

/** TF.js with its centered form corrected (rules/tfjs.ts). */
function stepTfjs(u: DenseUpdate, centered: boolean, k: K): void {
  const g = u.grad;
  const ms = u.slots.rms;
  const msNew = tf.add(tf.mul(ms, k.rho), tf.mul(tf.square(g), k.oneMinusRho));
  let d: tf.Tensor;
  if (centered) {
    const mg = u.slots.mg as tf.Variable;
    const mgNew = tf.add(tf.mul(mg, k.rho), tf.mul(g, k.oneMinusRho));
    d = tf.sub(msNew, tf.sub(tf.square(mgNew), k.epsilon));
    mg.assign(mgNew);
  } else {
    d = tf.add(msNew, k.epsilon);
  }
  momentumTail(u, msNew, d, k);
}

/** PyTorch (rules/pytorch.ts), each fused multiply-add as a product and a sum. */
function stepPytorch(u: DenseUpdate, momentumPath: boolean, centered: boolean, decays: boolean, k: K): void {
  const w = u.variable;
  const g = decays ? tf.add(u.grad, tf.mul(w, k.weightDecay)) : u.grad;
  const ms = u.slots.rms;
  const msNew = tf.add(tf.mul(ms, k.rho), tf.mul(tf.mul(k.oneMinusRho, g), g));
  let avg: tf.Tensor;
  if (centered) {
    const mg = u.slots.mg as tf.Variable;
    const mgNew = tf.add(tf.mul(mg, k.rho), tf.mul(g, k.oneMinusRho));
    avg = tf.sqrt(tf.sub(msNew, tf.mul(mgNew, mgNew)));
    mg.assign(mgNew);
  } else {
    avg = tf.sqrt(msNew);
  }
  avg = tf.add(avg, k.epsilon);
  ms.assign(msNew);
  if (momentumPath) {
    const mom = u.slots.momentum as tf.Variable;
    const momNew = tf.add(tf.mul(mom, k.momentum), tf.div(g, avg));
    mom.assign(momNew);
    w.assign(tf.add(w, tf.mul(momNew, k.negLr)));
  } else {
    w.assign(tf.add(w, tf.div(tf.mul(k.negLr, g), avg)));
  }
}

export const tfopsKernel: DenseKernel = {
  name: 'tfops',
  unsupportedReason: () => null,
  run(updates, form: UpdateForm, s: StepScalars) {
    tf.tidy(() => {
      const k: K = {
        lr: tf.scalar(s.lr), rho: tf.scalar(s.rho), oneMinusRho: tf.scalar(s.oneMinusRho),
        momentum: tf.scalar(s.momentum), epsilon: tf.scalar(s.epsilon),
        weightDecay: tf.scalar(s.weightDecay ?? 0), negLr: tf.scalar(-s.lr),
      };
      const flavor = form.flavor ?? 'keras2';
      const decoupled = hasDecoupledDecay(form, s);
      const momentumPath = form.path === 'momentum';
      for (const u of updates) {
        tf.tidy(() => {
          if (decoupled) u.variable.assign(tf.sub(u.variable, tf.mul(tf.mul(u.variable, k.weightDecay), k.lr)));
          switch (flavor) {
            case 'keras2': (momentumPath ? stepMomentum : stepPlain)(u, form.centered, k); break;
            case 'keras3': stepKeras3(u, momentumPath, form.centered, k); break;
            case 'tfjs': stepTfjs(u, form.centered, k); break;
            case 'pytorch': stepPytorch(u, momentumPath, form.centered, (s.weightDecay ?? 0) !== 0, k); break;
          }
        });
      }
    });
  },
};
