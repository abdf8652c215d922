/**
 * Per-step weights of the momentum's motion a row clock has seen, for the
 * forms where an idle row's variable moves by `buf·Σ_j lr_j·Π_{i≤j} μ_i`, not
 * `buf·Σ_j Π_{i≤j} μ_i`: `lr_j` is the learning rate where the buffer excludes
 * it (PyTorch), times μ_j with Nesterov momentum. Kept per step only once the
 * weight or the momentum changes (schedules, functions).
 */
import { FactorHistory } from './factor_history.js';

export class LrTrack {
  private readonly history = new FactorHistory();

  record(lr: number, mu: number): void {
    this.history.record(lr, mu);
  }

  /** `Σ_{j=from}^{to−1} lr_j·Π_{i=from}^{j} μ_i`, given the clock's `muSum` for the same steps. */
  weightedMuSum(from: number, to: number, muSum: number): number {
    const { first, steps } = this.history;
    if (steps === null) return first === null ? 0 : first[0] * muSum;
    const [lrs, mus] = steps;
    let pow = 1;
    let sum = 0;
    for (let t = from; t < to; t++) {
      pow *= mus[t];
      sum += lrs[t] * pow;
    }
    return sum;
  }
}
