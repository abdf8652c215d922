/**
 * PyTorch's RMSprop (`torch/optim/rmsprop.py`, `_single_tensor_rmsprop`, float32
 * on CPU) as loops. Epsilon is added after the square root, the learning rate
 * multiplies the momentum buffer instead of entering it, weight decay is
 * coupled (added to the gradient). PyTorch's AVX2 CPU kernels fuse the
 * multiply-adds of `add(x, alpha=a)` and `addcmul` into one rounding (measured
 * on PyTorch 1.13: both the vector body and the scalar tail), so those steps
 * use `fma32` here. α, μ, lr, wd are rounded to float32 by the kernels; `1 − α`
 * is a Python double rounded once (s.oneMinusRho).
 */
// Module-local on purpose: an imported binding is a getter per call in transpiled code.
const f32 = Math.fround;
import { flavorRule, st } from './define.js';
import type { DenseState, OpChain, ShaderForm, StepScalars } from './types.js';

const F64 = new Float64Array(1);
// Little-endian: word 0 holds the low mantissa bits (every platform TF.js runs on).
const U32 = new Uint32Array(F64.buffer);

/**
 * `a·b + c` rounded once to float32, for float32 inputs. `a·b` is exact in
 * double; the sum is rounded to odd at 53 bits (TwoSum error term, then the
 * last bit forced odd when inexact), which makes the final rounding to 24 bits
 * correct (53 ≥ 24 + 2).
 */
export function fma32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const z = s - p;
  const err = (p - (s - z)) + (c - z);
  // err is 0 when exact, NaN when s is infinite or NaN: plain rounding is right then.
  if (err === 0 || err !== err) return f32(s);
  F64[0] = s;
  const lo = U32[0];
  if ((lo & 1) !== 0) return f32(s);
  if ((err > 0) === (s > 0)) {
    U32[0] = lo + 1; // even, so no carry
  } else if (lo === 0) {
    U32[0] = 0xffffffff;
    U32[1] = U32[1] - 1;
  } else {
    U32[0] = lo - 1;
  }
  return f32(F64[0]);
}

/**
 *   g   = g + wd·w                     add(param, alpha=wd), fused       (wd > 0)
 *   ms  = ms·α + ((1 − α)·g)·g         mul_, addcmul_ (fused)
 *   mg  = mg·α + g·(1 − α)             mul_, add_(alpha=1 − α) (fused)   (centered, PyTorch 1.13)
 *   avg = √(ms − mg·mg) + ε  |  √ms + ε   addcmul(value=−1) (fused), sqrt, add_
 *   buf = buf·μ + g/avg;  w = w − lr·buf   mul_, addcdiv_, add_(alpha=−lr) (fused)   (momentum)
 *   buf as above;  n = g/avg + μ·buf;  w = w − lr·n                                  (Nesterov)
 *     (optax's trace on PyTorch's buffer, written as PyTorch's SGD writes it:
 *      add(buf, alpha=μ) fused, then add_(alpha=−lr) fused)
 *   w   = w + (−lr·g)/avg                 addcdiv_(value=−lr)                        (otherwise)
 */
export function pytorchStep(
  s: StepScalars, momentumPath: boolean, centered: boolean, g: Float32Array, st: DenseState,
  start = 0, end = g.length, gShift = 0, nesterov = false,
): void {
  const { w, ms } = st;
  const mom = st.mom as Float32Array;
  const mg = st.mg as Float32Array;
  const { lr, rho, oneMinusRho, momentum, epsilon } = s;
  const wd = s.weightDecay ?? 0;
  const negLr = -lr;
  for (let i = start; i < end; i++) {
    const wi = w[i];
    let gi = g[i + gShift];
    if (wd !== 0) gi = fma32(wi, wd, gi);
    const m = fma32(f32(oneMinusRho * gi), gi, f32(ms[i] * rho));
    ms[i] = m;
    let avg: number;
    if (centered) {
      const a = fma32(gi, oneMinusRho, f32(mg[i] * rho));
      mg[i] = a;
      avg = f32(Math.sqrt(fma32(-a, a, m)));
    } else {
      avg = f32(Math.sqrt(m));
    }
    avg = f32(avg + epsilon);
    if (momentumPath) {
      const step = f32(gi / avg);
      const b = f32(f32(mom[i] * momentum) + step);
      mom[i] = b;
      w[i] = fma32(nesterov ? fma32(b, momentum, step) : b, negLr, wi);
    } else {
      w[i] = f32(wi + f32(f32(negLr * gi) / avg));
    }
  }
}

/**
 * The op chain rounds each product of PyTorch's fused steps separately (TF.js
 * has no fused multiply-add): within a few float32 ulps per step of the loop.
 */
function pytorchOps(momentumPath: boolean, nesterov: boolean): OpChain {
  return (o, k, centered, g0, st) => {
    const g = k.weightDecay === undefined ? g0 : o.add(g0, o.mul(st.w, k.weightDecay));
    const ms = o.add(o.mul(st.ms, k.rho), o.mul(o.mul(k.oneMinusRho, g), g));
    let avg;
    let mg;
    if (centered) {
      mg = o.add(o.mul(st.mg!, k.rho), o.mul(g, k.oneMinusRho));
      avg = o.sqrt(o.sub(ms, o.mul(mg, mg)));
    } else {
      avg = o.sqrt(ms);
    }
    avg = o.add(avg, k.epsilon);
    if (!momentumPath) return { w: o.add(st.w, o.div(o.mul(k.negLr, g), avg)), ms, mg };
    const step = o.div(g, avg);
    const mom = o.add(o.mul(st.mom!, k.momentum), step);
    return { w: o.add(st.w, o.mul(nesterov ? o.add(step, o.mul(mom, k.momentum)) : mom, k.negLr)), ms, mom, mg };
  };
}

/** pytorch.ts: ε after the square root, lr applied to the momentum buffer, PyTorch's fused multiply-adds. */
function pytorchShader(momentum: boolean, centered: boolean, nesterov: boolean): ShaderForm {
  const head = [
    st('ms1', 'fmad(uOmr * g0, g0, ms * uRho)'),
    ...(centered
      ? [st('mg1', 'fmad(g0, uOmr, mg * uRho)'), st('avg', 'sqrt(fmad(-mg1, mg1, ms1)) + uEps')]
      : [st('avg', 'sqrt(ms1) + uEps')]),
  ];
  const tail = momentum
    ? nesterov
      ? [st('inc', 'g0 / avg'), st('mom1', '(mom * uMu) + inc'), st('w1', 'fmad(fmad(mom1, uMu, inc), uNegLr, w0)')]
      : [st('mom1', '(mom * uMu) + (g0 / avg)'), st('w1', 'fmad(mom1, uNegLr, w0)')]
    : [st('w1', 'w0 + ((uNegLr * g0) / avg)')];
  return {
    statements: [...head, ...tail],
    outputs: { w: 'w1', ms: 'ms1', ...(momentum ? { mom: 'mom1' } : {}), ...(centered ? { mg: 'mg1' } : {}) },
  };
}

export const PYTORCH_PLAIN = flavorRule('pytorch', 'plain', pytorchStep, pytorchOps, pytorchShader);
export const PYTORCH_MOMENTUM = flavorRule('pytorch', 'momentum', pytorchStep, pytorchOps, pytorchShader);
export const PYTORCH_NESTEROV = flavorRule('pytorch', 'nesterov', pytorchStep, pytorchOps, pytorchShader);
