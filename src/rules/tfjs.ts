/**
 * TF.js's `tf.train.rmsprop` (tfjs-core 4.x `RMSPropOptimizer.applyGradients`) as
 * float32 loops. TF.js always keeps a momentum buffer and always takes its
 * momentum form (with momentum 0 the buffer holds the last increment), epsilon
 * inside the square root. `1 − decay` is a JS double made a float32 scalar
 * (s.oneMinusRho). Its centered form computes `√(ms − (mg² + ε))`, NaN wherever
 * the variance is below ε; this flavor adds ε instead: `√(ms − (mg² − ε))`.
 */
// Module-local on purpose: an imported binding is a getter per call in transpiled code.
const f32 = Math.fround;
import { flavorRule, st } from './define.js';
import type { DenseState, OpChain, ShaderForm, StepScalars } from './types.js';

/**
 *   ms  = ms·ρ + g²·(1 − ρ)
 *   mg  = mg·ρ + g·(1 − ρ)                         (centered)
 *   d   = ms − (mg² − ε)  |  ms + ε
 *   mom = mom·μ + (g·lr) / √d
 *   w  −= mom                                   |  w −= (g·lr)/√d + mom·μ   (Nesterov, optax's trace)
 */
export function tfjsStep(
  s: StepScalars, centered: boolean, g: Float32Array, st: DenseState, start = 0, end = g.length, gShift = 0, nesterov = false,
): void {
  const { w, ms } = st;
  const mom = st.mom as Float32Array;
  const mg = st.mg as Float32Array;
  const { lr, rho, oneMinusRho, momentum, epsilon } = s;
  for (let i = start; i < end; i++) {
    const gi = g[i + gShift];
    const m = f32(f32(ms[i] * rho) + f32(f32(gi * gi) * oneMinusRho));
    ms[i] = m;
    let d: number;
    if (centered) {
      const a = f32(f32(mg[i] * rho) + f32(gi * oneMinusRho));
      mg[i] = a;
      d = f32(m - f32(f32(a * a) - epsilon));
    } else {
      d = f32(m + epsilon);
    }
    const step = f32(f32(gi * lr) / f32(Math.sqrt(d)));
    const mo = f32(f32(mom[i] * momentum) + step);
    mom[i] = mo;
    w[i] = nesterov ? f32(w[i] - f32(step + f32(mo * momentum))) : f32(w[i] - mo);
  }
}

const tfjsOps = (nesterov: boolean): OpChain => (o, k, centered, g, st) => {
  const ms = o.add(o.mul(st.ms, k.rho), o.mul(o.square(g), k.oneMinusRho));
  let d;
  let mg;
  if (centered) {
    mg = o.add(o.mul(st.mg!, k.rho), o.mul(g, k.oneMinusRho));
    d = o.sub(ms, o.sub(o.square(mg), k.epsilon));
  } else {
    d = o.add(ms, k.epsilon);
  }
  const step = o.div(o.mul(g, k.lr), o.sqrt(d));
  const mom = o.add(o.mul(st.mom!, k.momentum), step);
  return { w: o.sub(st.w, nesterov ? o.add(step, o.mul(mom, k.momentum)) : mom), ms, mom, mg };
};

/** tfjs.ts: TF.js's momentum form (always), its centered sign corrected. */
function tfjsShader(centered: boolean, nesterov: boolean): ShaderForm {
  return {
    statements: [
      st('ms1', '(ms * uRho) + ((g0 * g0) * uOmr)'),
      ...(centered
        ? [st('mg1', '(mg * uRho) + (g0 * uOmr)'), st('d', 'ms1 - ((mg1 * mg1) - uEps)')]
        : [st('d', 'ms1 + uEps')]),
      st('inc', '(g0 * uLr) / sqrt(d)'),
      st('mom1', '(mom * uMu) + inc'),
      st('w1', nesterov ? 'w0 - (inc + (mom1 * uMu))' : 'w0 - mom1'),
    ],
    outputs: centered ? { w: 'w1', ms: 'ms1', mom: 'mom1', mg: 'mg1' } : { w: 'w1', ms: 'ms1', mom: 'mom1' },
  };
}

/** Every 'tfjs' step takes this rule: TF.js keeps its momentum form even for momentum 0. */
export const TFJS = flavorRule('tfjs', 'momentum', (s, _momentumPath, centered, g, st, start, end, gShift) =>
  tfjsStep(s, centered, g, st, start, end, gShift), () => tfjsOps(false), (_momentumPath, centered) => tfjsShader(centered, false));
/** TF.js's momentum form with optax's Nesterov momentum (TF.js's rmsprop has none). */
export const TFJS_NESTEROV = flavorRule('tfjs', 'nesterov', (s, _momentumPath, centered, g, st, start, end, gShift) =>
  tfjsStep(s, centered, g, st, start, end, gShift, true), () => tfjsOps(true), (_momentumPath, centered) => tfjsShader(centered, true));
