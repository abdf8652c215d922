/**
 * Row arithmetic that has no dense twin: TF 2.4's sparse kernel, and the
 * closed-form catch-up of steps a row sat out. Loops over `[offset, offset + n)`
 * of full-table arrays. TF's Python scatter path (momentum == 0) computes the
 * same values as the dense plain rule on the indexed rows, so it is that rule
 * (rules/keras2.ts with `gShift`). Which form each mode uses is in sparse_update.ts.
 */
// A module-local binding: an imported one is a property read per call in
// CommonJS builds and transpiled tests, which costs more than the arithmetic.
const f32 = Math.fround;
import type { DenseState, StepScalars } from '../rules/types.js';

/**
 * `SparseApply[Centered]RMSProp` (TF 2.4's sparse kernel, momentum path):
 *   ms  = ms·ρ + g²·(1 − ρ)
 *   mg  = mg·ρ + g·(1 − ρ)                    (centered)
 *   d   = (ms + ε) − mg²  |  ms + ε           (ε added before mg² is subtracted)
 *   mom = mom·μ + rsqrt(d)·lr·g               (left to right)
 *   w  −= mom
 */
export function sparseKernelRow(
  s: StepScalars, centered: boolean, st: DenseState, offset: number, g: Float32Array, gOffset: number, n: number,
): void {
  const { w, ms } = st;
  const mom = st.mom as Float32Array;
  const mg = st.mg as Float32Array;
  const { lr, rho, oneMinusRho, momentum, epsilon } = s;
  for (let j = 0; j < n; j++) {
    const i = offset + j;
    const gi = g[gOffset + j];
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

/**
 * Catch-up of `n` elements for steps in which the row had a zero gradient, in
 * closed form: the accumulators scale by `decay`, and on the momentum path the
 * momentum scales by `muPow` while the variable moves by `mom·muSum`
 * (the dense algorithm's `mom ← mom·μ; w ← w − mom` with g = 0).
 */
export function catchUpRow(
  st: DenseState, offset: number, n: number, decay: number, momentumPath: boolean, muPow: number, muSum: number,
): void {
  const { w, ms } = st;
  const mg = st.mg;
  const mom = st.mom;
  for (let j = 0; j < n; j++) {
    const i = offset + j;
    ms[i] = f32(ms[i] * decay);
    if (mg !== undefined) mg[i] = f32(mg[i] * decay);
    if (momentumPath && mom !== undefined) {
      const m = mom[i];
      if (muSum !== 0) w[i] = f32(w[i] - m * muSum);
      mom[i] = f32(m * muPow);
    }
  }
}
