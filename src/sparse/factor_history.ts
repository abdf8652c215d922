/**
 * Two factors per step (a decay and a momentum, or a learning rate and a
 * momentum), kept as the first step's pair while every step repeats it (the
 * usual case: constant hyperparameters) and as full per-step arrays once one
 * changes (schedules, hyperparameters given as functions).
 */
export class FactorHistory {
  /** The first step's pair; null before any step. */
  first: readonly [number, number] | null = null;
  /** Every step's pair, once they stopped being all equal to the first. */
  steps: readonly [number[], number[]] | null = null;
  private count = 0;

  record(a: number, b: number): void {
    if (this.first === null) this.first = [a, b];
    if (this.steps === null && (a !== this.first[0] || b !== this.first[1])) {
      this.steps = [new Array<number>(this.count).fill(this.first[0]), new Array<number>(this.count).fill(this.first[1])];
    }
    if (this.steps !== null) {
      this.steps[0].push(a);
      this.steps[1].push(b);
    }
    this.count++;
  }
}
