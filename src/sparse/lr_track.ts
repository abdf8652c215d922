/**
 * Learning rates of the steps a row clock has seen, for the flavors whose
 * momentum buffer excludes the learning rate (PyTorch): an idle row's variable
 * then moves by `buf·Σ_j lr_j·Π_{i≤j} μ_i`, not `buf·Σ_j Π_{i≤j} μ_i`. Kept
 * per step only once the rate or the momentum changes (schedules, functions).
 */
export class LrTrack {
  private first: { lr: number; mu: number } | null = null;
  private history: { lrs: number[]; mus: number[] } | null = null;
  private steps = 0;

  record(lr: number, mu: number): void {
    if (this.first === null) this.first = { lr, mu };
    if (this.history === null && (lr !== this.first.lr || mu !== this.first.mu)) {
      this.history = { lrs: new Array<number>(this.steps).fill(this.first.lr), mus: new Array<number>(this.steps).fill(this.first.mu) };
    }
    if (this.history !== null) {
      this.history.lrs.push(lr);
      this.history.mus.push(mu);
    }
    this.steps++;
  }

  /** `Σ_{j=from}^{to−1} lr_j·Π_{i=from}^{j} μ_i`, given the clock's `muSum` for the same steps. */
  weightedMuSum(from: number, to: number, muSum: number): number {
    if (this.history === null) return this.first === null ? 0 : this.first.lr * muSum;
    const { lrs, mus } = this.history;
    let pow = 1;
    let sum = 0;
    for (let t = from; t < to; t++) {
      pow *= mus[t];
      sum += lrs[t] * pow;
    }
    return sum;
  }
}
