/**
 * Per-row step counts of one variable, for sparse modes that defer work on rows
 * a step did not index. Row r's state reflects the variable's steps before
 * `last[r]`; the steps from `last[r]` to `step` are applied in closed form when
 * the row is next touched or read. Each step's decay and momentum factors are
 * recorded, so functions for rho or momentum are caught up exactly too.
 */
import { FactorHistory } from './factor_history.js';

export interface CatchUp {
  /** Product of the accumulators' decay factors over the missed steps. */
  readonly decay: number;
  /** Product of the momentum factors. */
  readonly muPow: number;
  /** Σ_j Π_{i≤j} μ_i: how far the momentum moves the variable over the missed steps. */
  readonly muSum: number;
}

function repeatedSquares(base: number): Float64Array {
  const out = new Float64Array(32);
  out[0] = base;
  for (let j = 1; j < 32; j++) out[j] = out[j - 1] * out[j - 1];
  return out;
}

/** `base^k` for 0 <= k < 2^31 from `repeatedSquares(base)`: one multiply per set bit of k. */
function power(squares: Float64Array, k: number): number {
  let result = 1;
  for (let j = 0; k !== 0; j++, k >>>= 1) if (k & 1) result *= squares[j];
  return result;
}

export class RowClock {
  /** Steps this variable has taken. */
  step = 0;
  readonly last: Int32Array;
  /** Each step's decay and momentum factors. */
  private readonly history = new FactorHistory();
  /** `decay^(2^j)` and `mu^(2^j)` of the first step, so a power costs a few multiplies (Math.pow costs ~100 ns). */
  private squares: { decay: Float64Array; mu: Float64Array } | null = null;

  constructor(readonly rows: number) {
    this.last = new Int32Array(rows);
  }

  /** Records the factors of the step being taken, then advances the count. */
  advance(decay: number, mu: number): void {
    this.squares ??= { decay: repeatedSquares(decay), mu: repeatedSquares(mu) };
    this.history.record(decay, mu);
    this.step++;
  }

  /** Reused by `factors`, which runs once per touched row: no allocation per call. */
  private readonly out = { decay: 1, muPow: 1, muSum: 0 };

  /** The combined factors of steps [from, to). The result is overwritten by the next call. */
  factors(from: number, to: number): CatchUp {
    const out = this.out;
    const k = to - from;
    if (k <= 0) {
      out.decay = 1; out.muPow = 1; out.muSum = 0;
    } else if (this.history.steps === null) {
      const mu = (this.history.first as readonly [number, number])[1];
      const sq = this.squares as { decay: Float64Array; mu: Float64Array };
      out.decay = power(sq.decay, k);
      out.muPow = power(sq.mu, k);
      out.muSum = mu === 1 ? k : mu === 0 ? 0 : (mu * (1 - out.muPow)) / (1 - mu);
    } else {
      let decay = 1;
      let muPow = 1;
      let muSum = 0;
      const [decays, mus] = this.history.steps;
      for (let t = from; t < to; t++) {
        decay *= decays[t];
        muPow *= mus[t];
        muSum += muPow;
      }
      out.decay = decay; out.muPow = muPow; out.muSum = muSum;
    }
    return out;
  }

  /** Marks every row current as of now (after a dense step or a full catch-up). */
  markAllCurrent(): void {
    this.last.fill(this.step);
  }
}
