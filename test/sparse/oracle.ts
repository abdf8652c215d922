/**
 * The three sparse modes written from their definitions, step by step over the
 * whole table, in float64: an oracle independent of the deferred, row-wise
 * implementation (no closed forms, no per-row clocks, no float32 rounding).
 */
export interface OracleConfig {
  lr: number; rho: number; momentum: number; epsilon: number; centered: boolean; momentumPath: boolean;
}
export interface OracleState { w: Float64Array; ms: Float64Array; mom: Float64Array; mg: Float64Array }
export type Mode = 'keras2' | 'lazy' | 'dense-equivalent';

export function newState(init: ArrayLike<number>): OracleState {
  const n = init.length;
  return { w: Float64Array.from(init), ms: new Float64Array(n), mom: new Float64Array(n), mg: new Float64Array(n) };
}

/** Duplicates summed, unique rows in order of first appearance. */
function dedup(indices: readonly number[], values: ArrayLike<number>, rowSize: number): Map<number, Float64Array> {
  const rows = new Map<number, Float64Array>();
  indices.forEach((r, i) => {
    let acc = rows.get(r);
    if (!acc) { acc = new Float64Array(rowSize); rows.set(r, acc); }
    for (let j = 0; j < rowSize; j++) acc[j] += values[i * rowSize + j];
  });
  return rows;
}

export function step(
  mode: Mode, c: OracleConfig, st: OracleState, rowSize: number, indices: readonly number[], values: ArrayLike<number>,
): void {
  const { lr, rho, momentum: mu, epsilon: eps, centered } = c;
  const rows = dedup(indices, values, rowSize);
  const nRows = st.w.length / rowSize;
  if (mode === 'dense-equivalent') {
    // The dense algorithm on the densified gradient.
    for (let r = 0; r < nRows; r++) {
      const g = rows.get(r);
      for (let j = 0; j < rowSize; j++) {
        const i = r * rowSize + j;
        const gi = g ? g[j] : 0;
        if (c.momentumPath) {
          st.ms[i] += (gi * gi - st.ms[i]) * (1 - rho);
          if (centered) st.mg[i] += (gi - st.mg[i]) * (1 - rho);
          const d = centered ? st.ms[i] - st.mg[i] ** 2 + eps : st.ms[i] + eps;
          st.mom[i] = st.mom[i] * mu + (gi * lr) / Math.sqrt(d);
          st.w[i] -= st.mom[i];
        } else {
          st.ms[i] = rho * st.ms[i] + (1 - rho) * gi * gi;
          if (centered) st.mg[i] = rho * st.mg[i] + (1 - rho) * gi;
          const d = centered ? st.ms[i] - st.mg[i] ** 2 : st.ms[i];
          st.w[i] -= (lr * gi) / (Math.sqrt(d) + eps);
        }
      }
    }
    return;
  }
  if (!c.momentumPath && mode === 'keras2') {
    // TF 2.4's Python path: every row's accumulators decay, then the indexed rows add.
    for (let i = 0; i < st.ms.length; i++) { st.ms[i] *= rho; st.mg[i] *= rho; }
  }
  for (const [r, g] of rows) {
    for (let j = 0; j < rowSize; j++) {
      const i = r * rowSize + j;
      const gi = g[j];
      if (c.momentumPath) {
        // TF 2.4's sparse kernel.
        st.ms[i] = st.ms[i] * rho + gi * gi * (1 - rho);
        if (centered) st.mg[i] = st.mg[i] * rho + gi * (1 - rho);
        const d = centered ? st.ms[i] + eps - st.mg[i] ** 2 : st.ms[i] + eps;
        st.mom[i] = st.mom[i] * mu + (lr * gi) / Math.sqrt(d);
        st.w[i] -= st.mom[i];
      } else {
        if (mode === 'keras2') {
          st.ms[i] += gi * gi * (1 - rho);
          if (centered) st.mg[i] += gi * (1 - rho);
        } else {
          st.ms[i] = rho * st.ms[i] + (1 - rho) * gi * gi;
          if (centered) st.mg[i] = rho * st.mg[i] + (1 - rho) * gi;
        }
        const d = centered ? st.ms[i] - st.mg[i] ** 2 : st.ms[i];
        st.w[i] -= (lr * gi) / (Math.sqrt(d) + eps);
      }
    }
  }
}
