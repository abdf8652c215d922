/**
 * TF 2.4's RMSprop arithmetic (flavor 'keras2'): the dense momentum kernel, the
 * Python path of momentum == 0, and the sparse momentum kernel, each as float32
 * loops (the reference every kernel is tested against) and as tensor ops. Each
 * line keeps TF's operation order and rounds to float32 after every operation,
 * as TF's float32 kernels do.
 */
// A module-local binding: an imported one is a property read per call in
// CommonJS builds and transpiled tests, which costs more than the arithmetic.
const f32 = Math.fround;
import { simdCall, st } from './define.js';
import type { DenseState, OpChain, Pass, Rule, ShaderForm, StepScalars, UpdateForm } from './types.js';

/**
 * The momentum path, `ApplyRMSProp` / `ApplyCenteredRMSProp` (training_ops.cc):
 *   ms  += (g² − ms)·(1 − ρ)
 *   mg  += (g − mg)·(1 − ρ)                  (centered)
 *   d    = (ms − mg²) + ε  |  ms + ε
 *   mom  = mom·μ + (g·lr) / √d
 *   w   −= mom                             |  w −= (g·lr)/√d + mom·μ   (Nesterov, optax's trace)
 */
export function denseMomentum(
  s: StepScalars, centered: boolean, g: Float32Array, st: DenseState, start = 0, end = g.length, gShift = 0, nesterov = false,
): void {
  const { w, ms } = st;
  const mom = st.mom as Float32Array;
  const mg = st.mg as Float32Array;
  const { lr, oneMinusRho, momentum, epsilon } = s;
  for (let i = start; i < end; i++) {
    const gi = g[i + gShift];
    const m = f32(ms[i] + f32(f32(f32(gi * gi) - ms[i]) * oneMinusRho));
    ms[i] = m;
    let d: number;
    if (centered) {
      const a = f32(mg[i] + f32(f32(gi - mg[i]) * oneMinusRho));
      mg[i] = a;
      d = f32(f32(m - f32(a * a)) + epsilon);
    } else {
      d = f32(m + epsilon);
    }
    const step = f32(f32(gi * lr) / f32(Math.sqrt(d)));
    const mo = f32(f32(mom[i] * momentum) + step);
    mom[i] = mo;
    w[i] = nesterov ? f32(w[i] - f32(step + f32(mo * momentum))) : f32(w[i] - mo);
  }
}

const denseMomentumOps = (nesterov: boolean): OpChain => (o, k, centered, g, st) => {
  const ms = o.add(st.ms, o.mul(o.sub(o.square(g), st.ms), k.oneMinusRho));
  let d;
  let mg;
  if (centered) {
    mg = o.add(st.mg!, o.mul(o.sub(g, st.mg!), k.oneMinusRho));
    d = o.add(o.sub(ms, o.square(mg)), k.epsilon);
  } else {
    d = o.add(ms, k.epsilon);
  }
  const step = o.div(o.mul(g, k.lr), o.sqrt(d));
  const mom = o.add(o.mul(st.mom!, k.momentum), step);
  return { w: o.sub(st.w, nesterov ? o.add(step, o.mul(mom, k.momentum)) : mom), ms, mom, mg };
};

/**
 * The momentum == 0 path, Python ops in `_resource_apply_dense`:
 *   ms  = ρ·ms + (1 − ρ)·g²
 *   mg  = ρ·mg + (1 − ρ)·g                   (centered)
 *   d   = ms − mg²  |  ms
 *   w  −= (lr·g) / (√d + ε)
 */
export function densePlain(
  s: StepScalars, centered: boolean, g: Float32Array, st: DenseState, start = 0, end = g.length, gShift = 0,
): void {
  const { w, ms } = st;
  const mg = st.mg as Float32Array;
  const { lr, rho, oneMinusRho, epsilon } = s;
  for (let i = start; i < end; i++) {
    const gi = g[i + gShift];
    const m = f32(f32(rho * ms[i]) + f32(oneMinusRho * f32(gi * gi)));
    ms[i] = m;
    let d = m;
    if (centered) {
      const a = f32(f32(rho * mg[i]) + f32(oneMinusRho * gi));
      mg[i] = a;
      d = f32(m - f32(a * a));
    }
    w[i] = f32(w[i] - f32(f32(lr * gi) / f32(f32(Math.sqrt(d)) + epsilon)));
  }
}

const densePlainOps: OpChain = (o, k, centered, g, st) => {
  const ms = o.add(o.mul(k.rho, st.ms), o.mul(k.oneMinusRho, o.square(g)));
  let d = ms;
  let mg;
  if (centered) {
    mg = o.add(o.mul(k.rho, st.mg!), o.mul(k.oneMinusRho, g));
    d = o.sub(ms, o.square(mg));
  }
  return { w: o.sub(st.w, o.div(o.mul(k.lr, g), o.add(o.sqrt(d), k.epsilon))), ms, mg };
};

/**
 * `SparseApply[Centered]RMSProp` (TF 2.4's sparse kernel, momentum path), on the
 * rows an `IndexedSlices` step indexes:
 *   ms  = ms·ρ + g²·(1 − ρ)
 *   mg  = mg·ρ + g·(1 − ρ)                    (centered)
 *   d   = (ms + ε) − mg²  |  ms + ε           (ε added before mg² is subtracted)
 *   mom = mom·μ + rsqrt(d)·lr·g               (left to right; rsqrt from float64)
 *   w  −= mom
 */
export function sparseMomentum(
  s: StepScalars, centered: boolean, g: Float32Array, st: DenseState, start = 0, end = g.length, gShift = 0,
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
      d = f32(f32(m + epsilon) - f32(a * a));
    } else {
      d = f32(m + epsilon);
    }
    const rs = f32(1 / Math.sqrt(d));
    const mo = f32(f32(mom[i] * momentum) + f32(f32(rs * lr) * gi));
    mom[i] = mo;
    w[i] = f32(w[i] - mo);
  }
}

const sparseMomentumOps: OpChain = (o, k, centered, g, st) => {
  const ms = o.add(o.mul(st.ms, k.rho), o.mul(o.square(g), k.oneMinusRho));
  let d = o.add(ms, k.epsilon);
  let mg;
  if (centered) {
    mg = o.add(o.mul(st.mg!, k.rho), o.mul(g, k.oneMinusRho));
    d = o.sub(d, o.square(mg));
  }
  const mom = o.add(o.mul(st.mom!, k.momentum), o.mul(o.mul(o.rsqrt(d), k.lr), g));
  return { w: o.sub(st.w, mom), ms, mom, mg };
};

/** keras2.ts `densePlain`: ms = ρ·ms + (1 − ρ)·g², w −= (lr·g)/(√d + ε). */
function densePlainShader(centered: boolean): ShaderForm {
  return {
    statements: [
      st('ms1', '(uRho * ms) + (uOmr * (g0 * g0))'),
      ...(centered ? [st('mg1', '(uRho * mg) + (uOmr * g0)'), st('d', 'ms1 - (mg1 * mg1)')] : [st('d', 'ms1')]),
      st('w1', 'w0 - ((uLr * g0) / (sqrt(d) + uEps))'),
    ],
    outputs: centered ? { w: 'w1', ms: 'ms1', mg: 'mg1' } : { w: 'w1', ms: 'ms1' },
  };
}

/** keras2.ts `denseMomentum`: TF's ApplyRMSProp / ApplyCenteredRMSProp (with optax's Nesterov momentum). */
function denseMomentumShader(centered: boolean, nesterov = false): ShaderForm {
  return {
    statements: [
      st('ms1', 'ms + (((g0 * g0) - ms) * uOmr)'),
      ...(centered
        ? [st('mg1', 'mg + ((g0 - mg) * uOmr)'), st('d', '(ms1 - (mg1 * mg1)) + uEps')]
        : [st('d', 'ms1 + uEps')]),
      st('inc', '(g0 * uLr) / sqrt(d)'),
      st('mom1', '(mom * uMu) + inc'),
      st('w1', nesterov ? 'w0 - (inc + (mom1 * uMu))' : 'w0 - mom1'),
    ],
    outputs: centered ? { w: 'w1', ms: 'ms1', mom: 'mom1', mg: 'mg1' } : { w: 'w1', ms: 'ms1', mom: 'mom1' },
  };
}

/**
 * One dense step of TF 2.4's rules over `[start, end)` of the state (no weight
 * decay; rules/dense.ts runs any flavor's step with it).
 */
export function denseStep(
  form: UpdateForm, s: StepScalars, g: Float32Array, st: DenseState, start = 0, end = g.length, gShift = 0,
): void {
  if (form.path === 'momentum') denseMomentum(s, form.centered, g, st, start, end, gShift);
  else densePlain(s, form.centered, g, st, start, end, gShift);
}

/**
 * keras2.ts `sparseMomentum`: TF's SparseApply[Centered]RMSProp. Its rsqrt is
 * `1/√d` in float64 rounded once; a GPU's `rsqrt` (WGSL `inverseSqrt`, GLSL
 * `inversesqrt`) is within 2 ULP of it (the GPU tolerance).
 */
function sparseMomentumShader(centered: boolean): ShaderForm {
  return {
    statements: [
      st('ms1', '(ms * uRho) + ((g0 * g0) * uOmr)'),
      ...(centered
        ? [st('mg1', '(mg * uRho) + (g0 * uOmr)'), st('d', '(ms1 + uEps) - (mg1 * mg1)')]
        : [st('d', 'ms1 + uEps')]),
      st('mom1', '(mom * uMu) + ((rsqrt(d) * uLr) * g0)'),
      st('w1', 'w0 - mom1'),
    ],
    outputs: centered ? { w: 'w1', ms: 'ms1', mom: 'mom1', mg: 'mg1' } : { w: 'w1', ms: 'ms1', mom: 'mom1' },
  };
}

/** TF 2.4's sparse momentum kernel: the rows of sparse modes 'keras2' and 'lazy' on the momentum path. */
export const TF_SPARSE_MOMENTUM: Pass = {
  name: 'keras2 sparse momentum',
  loop: sparseMomentum,
  ops: sparseMomentumOps,
  simd: simdCall('sparse', 'momentum', (s) => [s.lr, s.rho, s.oneMinusRho, s.momentum, s.epsilon]),
  shader: sparseMomentumShader,
};

export const KERAS2_MOMENTUM: Rule = {
  update: {
    name: 'keras2 momentum',
    loop: denseMomentum,
    ops: denseMomentumOps(false),
    simd: simdCall('keras2', 'momentum', (s) => [s.lr, s.oneMinusRho, s.momentum, s.epsilon]),
    shader: denseMomentumShader,
  },
  sparse: TF_SPARSE_MOMENTUM,
  // The dense kernel computes `ms + (0 − ms)·(1 − ρ)` for a zero gradient: a factor `1 − (1 − ρ)`.
  idleDecay: (s) => 1 - s.oneMinusRho,
};

/**
 * TF 2.4's momentum kernel with optax's Nesterov momentum (TF 2.4's RMSprop has
 * none). No sparse kernel of its own: sparse rows take this dense rule.
 */
export const KERAS2_NESTEROV: Rule = {
  update: {
    name: 'keras2 nesterov',
    loop: (s, centered, g, st, start, end, gShift) => denseMomentum(s, centered, g, st, start, end, gShift, true),
    ops: denseMomentumOps(true),
    simd: simdCall('keras2', 'nesterov', (s) => [s.lr, s.oneMinusRho, s.momentum, s.epsilon]),
    shader: (centered) => denseMomentumShader(centered, true),
  },
  idleDecay: KERAS2_MOMENTUM.idleDecay,
};

export const KERAS2_PLAIN: Rule = {
  update: {
    name: 'keras2 plain',
    loop: densePlain,
    ops: densePlainOps,
    simd: simdCall('keras2', 'plain', (s) => [s.lr, s.rho, s.oneMinusRho, s.epsilon]),
    shader: densePlainShader,
  },
  idleDecay: (s) => s.rho,
};

