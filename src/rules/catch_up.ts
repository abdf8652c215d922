/**
 * The closed-form catch-up of steps a row of a table sat out (a sparse step did
 * not index it, and its sparse mode defers that work): every such step had a
 * zero gradient, so the accumulators only decay and, on the momentum path, the
 * momentum keeps moving the variable. The factors come from the row's clock
 * (sparse/row_clock.ts); this is the arithmetic on the row's elements.
 */
// Module-local on purpose: an imported binding is a getter per call in transpiled code.
const f32 = Math.fround;
import type { DenseState } from './types.js';

/**
 * Catch-up of `n` elements from `offset`: the accumulators scale by `decay`;
 * with `moving` (the momentum path of 'dense-equivalent'), the momentum scales
 * by `muPow` while the variable moves by `mom·muSum` (the dense rule's
 * `mom ← mom·μ; w ← w − mom` with g = 0, summed).
 */
export function catchUpRow(
  st: DenseState, offset: number, n: number, decay: number, moving: boolean, muPow: number, muSum: number,
): void {
  const { w, ms } = st;
  const mg = st.mg;
  const mom = st.mom;
  for (let j = 0; j < n; j++) {
    const i = offset + j;
    ms[i] = f32(ms[i] * decay);
    if (mg !== undefined) mg[i] = f32(mg[i] * decay);
    if (moving && mom !== undefined) {
      const m = mom[i];
      if (muSum !== 0) w[i] = f32(w[i] - m * muSum);
      mom[i] = f32(m * muPow);
    }
  }
}
