/**
 * TF 2.4's dense RMSprop arithmetic, written as plain loops over float32 arrays.
 * This is the readable reference every kernel is tested against, and the cpu
 * backend's in-place implementation. Each line keeps TF's operation order and
 * rounds to float32 after every operation, as TF's float32 kernels do.
 */
// A module-local binding: an imported one is a property read per call in
// CommonJS builds and transpiled tests, which costs more than the arithmetic.
const f32 = Math.fround;
import type { DenseState, StepScalars, UpdateForm } from './types.js';

/**
 * The momentum path, `ApplyRMSProp` / `ApplyCenteredRMSProp` (training_ops.cc):
 *   ms  += (g² − ms)·(1 − ρ)
 *   mg  += (g − mg)·(1 − ρ)                  (centered)
 *   d    = (ms − mg²) + ε  |  ms + ε
 *   mom  = mom·μ + (g·lr) / √d
 *   w   −= mom
 */
export function denseMomentum(
  s: StepScalars, centered: boolean, g: Float32Array, st: DenseState, start = 0, end = g.length, gShift = 0,
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
    const mo = f32(f32(mom[i] * momentum) + f32(f32(gi * lr) / f32(Math.sqrt(d))));
    mom[i] = mo;
    w[i] = f32(w[i] - mo);
  }
}

/**
 * The momentum == 0 path, Python ops in `_resource_apply_dense`:
 *   ms  = ρ·ms + (1 − ρ)·g²
 *   mg  = ρ·mg + (1 − ρ)·g                   (centered)
 *   d   = ms − mg²  |  ms
 *   w  −= (lr·g) / (√d + ε)
 * `preDecay` (sparse modes only) first scales ms and mg by the decay of the
 * steps a row sat out, in the same pass.
 */
export function densePlain(
  s: StepScalars, centered: boolean, g: Float32Array, st: DenseState, start = 0, end = g.length, gShift = 0,
  preDecay = 1,
): void {
  const { w, ms } = st;
  const mg = st.mg as Float32Array;
  const { lr, rho, oneMinusRho, epsilon } = s;
  const scale = preDecay !== 1;
  for (let i = start; i < end; i++) {
    const gi = g[i + gShift];
    const m = f32(f32(rho * (scale ? f32(ms[i] * preDecay) : ms[i])) + f32(oneMinusRho * f32(gi * gi)));
    ms[i] = m;
    let d = m;
    if (centered) {
      const a = f32(f32(rho * (scale ? f32(mg[i] * preDecay) : mg[i])) + f32(oneMinusRho * gi));
      mg[i] = a;
      d = f32(m - f32(a * a));
    }
    w[i] = f32(w[i] - f32(f32(lr * gi) / f32(f32(Math.sqrt(d)) + epsilon)));
  }
}

/**
 * One dense step of the given form over `[start, end)` of the state. The
 * gradient of element `i` is `g[i + gShift]`, so one row of a table can be
 * updated from a gradient that holds only that row.
 */
export function denseStep(
  form: UpdateForm, s: StepScalars, g: Float32Array, st: DenseState, start = 0, end = g.length, gShift = 0,
): void {
  if (form.path === 'momentum') denseMomentum(s, form.centered, g, st, start, end, gShift);
  else densePlain(s, form.centered, g, st, start, end, gShift);
}
