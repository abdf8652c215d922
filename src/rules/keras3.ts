/**
 * Keras 3's RMSprop (`keras/src/optimizers/rmsprop.py`, `update_step`) as float32
 * loops: one formula for every path, epsilon inside the square root always.
 * ρ, μ, ε are Python floats multiplied into float32 tensors (rounded to float32),
 * `1 − ρ` is computed in double and rounded once (s.oneMinusRho, hyper.ts).
 * Decoupled weight decay runs before, in dense.ts, as Keras 3's base optimizer does.
 */
// Module-local on purpose: an imported binding is a getter per call in transpiled code.
const f32 = Math.fround;
import type { DenseState, StepScalars } from './types.js';

/**
 *   ms  = ρ·ms + (1 − ρ)·g²
 *   mg  = ρ·mg + (1 − ρ)·g                       (centered)
 *   d   = (ms − mg²) + ε  |  ms + ε
 *   inc = (lr·g) / √d
 *   mom = μ·mom + inc;  w −= mom                  (momentum > 0)
 *   w  −= inc                                     (otherwise)
 */
export function keras3Step(
  s: StepScalars, momentumPath: boolean, centered: boolean, g: Float32Array, st: DenseState,
  start = 0, end = g.length, gShift = 0,
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
      w[i] = f32(w[i] - mo);
    } else {
      w[i] = f32(w[i] - inc);
    }
  }
}
