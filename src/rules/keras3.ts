/**
 * Keras 3's RMSprop (`keras/src/optimizers/rmsprop.py`, `update_step`) as float32
 * loops: one formula for every path, epsilon inside the square root always.
 * ρ, μ, ε are Python floats multiplied into float32 tensors (rounded to float32),
 * `1 − ρ` is computed in double and rounded once (s.oneMinusRho, hyper.ts).
 * Decoupled weight decay runs before, as its own pass (weight_decay.ts), as Keras 3's base optimizer does.
 */
// Module-local on purpose: an imported binding is a getter per call in transpiled code.
const f32 = Math.fround;
import { flavorRule, st } from './define.js';
import type { DenseState, OpChain, ShaderForm, StepScalars } from './types.js';

/**
 *   ms  = ρ·ms + (1 − ρ)·g²
 *   mg  = ρ·mg + (1 − ρ)·g                       (centered)
 *   d   = (ms − mg²) + ε  |  ms + ε
 *   inc = (lr·g) / √d
 *   mom = μ·mom + inc;  w −= mom                  (momentum > 0)
 *   mom = μ·mom + inc;  w −= inc + μ·mom          (Nesterov, optax's trace)
 *   w  −= inc                                     (otherwise)
 */
export function keras3Step(
  s: StepScalars, momentumPath: boolean, centered: boolean, g: Float32Array, st: DenseState,
  start = 0, end = g.length, gShift = 0, nesterov = false,
): void {
  const { w, ms } = st;
  const mom = st.mom as Float32Array;
  const mg = st.mg as Float32Array;
  const { lr, rho, oneMinusRho, momentum, epsilon } = s;
  for (let i = start; i < end; i++) {
    const gi = g[i + gShift];
    const m = f32(f32(rho * ms[i]) + f32(oneMinusRho * f32(gi * gi)));
    ms[i] = m;
    let d: number;
    if (centered) {
      const a = f32(f32(rho * mg[i]) + f32(oneMinusRho * gi));
      mg[i] = a;
      d = f32(f32(m - f32(a * a)) + epsilon);
    } else {
      d = f32(m + epsilon);
    }
    const inc = f32(f32(lr * gi) / f32(Math.sqrt(d)));
    if (momentumPath) {
      const mo = f32(f32(momentum * mom[i]) + inc);
      mom[i] = mo;
      w[i] = nesterov ? f32(w[i] - f32(inc + f32(momentum * mo))) : f32(w[i] - mo);
    } else {
      w[i] = f32(w[i] - inc);
    }
  }
}

function keras3Ops(momentumPath: boolean, nesterov: boolean): OpChain {
  return (o, k, centered, g, st) => {
    const ms = o.add(o.mul(k.rho, st.ms), o.mul(k.oneMinusRho, o.square(g)));
    let d;
    let mg;
    if (centered) {
      mg = o.add(o.mul(k.rho, st.mg!), o.mul(k.oneMinusRho, g));
      d = o.add(o.sub(ms, o.square(mg)), k.epsilon);
    } else {
      d = o.add(ms, k.epsilon);
    }
    const inc = o.div(o.mul(k.lr, g), o.sqrt(d));
    if (!momentumPath) return { w: o.sub(st.w, inc), ms, mg };
    const mom = o.add(o.mul(k.momentum, st.mom!), inc);
    return { w: o.sub(st.w, nesterov ? o.add(inc, o.mul(k.momentum, mom)) : mom), ms, mom, mg };
  };
}

/** keras3.ts: one formula, ε inside the square root; the momentum buffer only on the momentum path. */
function keras3Shader(momentum: boolean, centered: boolean, nesterov: boolean): ShaderForm {
  const head = [
    st('ms1', '(uRho * ms) + (uOmr * (g0 * g0))'),
    ...(centered
      ? [st('mg1', '(uRho * mg) + (uOmr * g0)'), st('d', '(ms1 - (mg1 * mg1)) + uEps')]
      : [st('d', 'ms1 + uEps')]),
    st('inc', '(uLr * g0) / sqrt(d)'),
  ];
  const tail = momentum
    ? [st('mom1', '(uMu * mom) + inc'), st('w1', nesterov ? 'w0 - (inc + (uMu * mom1))' : 'w0 - mom1')]
    : [st('w1', 'w0 - inc')];
  return {
    statements: [...head, ...tail],
    outputs: { w: 'w1', ms: 'ms1', ...(momentum ? { mom: 'mom1' } : {}), ...(centered ? { mg: 'mg1' } : {}) },
  };
}

export const KERAS3_PLAIN = flavorRule('keras3', 'plain', keras3Step, keras3Ops, keras3Shader);
export const KERAS3_MOMENTUM = flavorRule('keras3', 'momentum', keras3Step, keras3Ops, keras3Shader);
export const KERAS3_NESTEROV = flavorRule('keras3', 'nesterov', keras3Step, keras3Ops, keras3Shader);
