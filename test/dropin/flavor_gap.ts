/**
 * How far apart `tf.train.rmsprop` and the default flavor ('keras2', TF 2.4) may
 * end up when both are fed the same gradients: the tolerance is derived, not
 * guessed. Both are followed in float64, element by element, with their
 * documented arithmetic (the only differences: where epsilon sits, and how
 * `1 − ρ` is rounded):
 *
 *   tf.train.rmsprop         ms = ρ·ms + (1 − ρ)·g²         (1 − ρ: double, rounded once)
 *                            mom = μ·mom + lr·g/√(ms + ε);   w −= mom   (μ = 0 too)
 *   'keras2', momentum > 0   ms = (1 − c)·ms + c·g²          (c = 1 − ρ in float32 from float32 ρ)
 *                            mom = μ·mom + lr·g/√(ms + ε);   w −= mom
 *   'keras2', momentum 0     ms = ρ·ms + c·g²;               w −= lr·g/(√ms + ε)
 *
 * |w_keras2 − w_tfjs| in float32 is then at most |difference of the float64
 * models| plus how far each float32 run can be from its own float64 model,
 * bounded step by step with u = 2⁻²⁴ (one rounding):
 * - ms: the previous relative error carries over (scaled by ≤ 1), plus at most
 *   2u (ρ·ms + c·g²: g², one product, the sum) or 4u + 2u·c/(1 − c) (the
 *   (g² − ms)·c form, whose subtraction may cancel): 5u per step covers both
 *   for ρ ≥ 0.8, so δms ≤ 5u·steps.
 * - the step v = lr·g/denominator: δv ≤ δms/2 + 4u (g·lr, + ε, √, ÷; the plain
 *   path's √ then + ε); 5u is used.
 * - mom: e ← μ·e + |v|·δv + u·(μ·|mom_old| + |mom_new|); w: e_w ← e_w + e_mom + u·|w_new|.
 * The bounds are evaluated on the float64 values, which differ from the float32
 * ones only at second order; the final rounding bound is doubled to cover that.
 */
import type { TfjsRMSpropSettings } from './programs.js';

const f32 = Math.fround;
const U = 2 ** -24;

interface Track {
  readonly w: Float64Array;
  readonly ms: Float64Array;
  readonly mom: Float64Array;
  /** Bound on |w_float32 − w|. */
  readonly ew: Float64Array;
  /** Bound on |mom_float32 − mom|. */
  readonly emom: Float64Array;
}

function track(initial: Float32Array): Track {
  const n = initial.length;
  return { w: Float64Array.from(initial), ms: new Float64Array(n), mom: new Float64Array(n), ew: new Float64Array(n), emom: new Float64Array(n) };
}

/** mom = μ·mom + v, w −= mom, for element i, with the rounding bounds of both (v has relative error ≤ dv). */
function momentumStep(s: Track, i: number, v: number, mu: number, dv: number): void {
  const old = s.mom[i];
  s.mom[i] = mu * old + v;
  s.emom[i] = mu * s.emom[i] + Math.abs(v) * dv + U * (mu * Math.abs(old) + Math.abs(s.mom[i]));
  s.w[i] -= s.mom[i];
  s.ew[i] += s.emom[i] + U * Math.abs(s.w[i]);
}

export class FlavorGap {
  private readonly tfjs: Track[];
  private readonly keras2: Track[];
  private steps = 0;
  private readonly lr: number;
  private readonly rho: number;
  private readonly mu: number;
  private readonly eps: number;
  private readonly cTfjs: number;
  private readonly cKeras2: number;

  constructor(initial: readonly Float32Array[], s: TfjsRMSpropSettings, epsilon = 1e-7) {
    if (s.rho < 0.8) throw new Error('FlavorGap: the rounding bound is derived for rho >= 0.8');
    this.tfjs = initial.map(track);
    this.keras2 = initial.map(track);
    this.lr = f32(s.learningRate);
    this.rho = f32(s.rho);
    this.mu = f32(s.momentum);
    this.eps = f32(epsilon);
    this.cTfjs = f32(1 - s.rho);
    this.cKeras2 = f32(1 - this.rho);
  }

  /** One step of both, with the gradients (float32, as both optimizers received them) of every variable. */
  step(grads: readonly Float32Array[]): void {
    this.steps++;
    const dms = 5 * U * this.steps;
    const dv = dms / 2 + 5 * U;
    const { lr, rho, mu, eps } = this;
    grads.forEach((g, k) => {
      const t = this.tfjs[k];
      const q = this.keras2[k];
      for (let i = 0; i < g.length; i++) {
        const gi = g[i];
        // tf.train.rmsprop
        t.ms[i] = rho * t.ms[i] + this.cTfjs * gi * gi;
        momentumStep(t, i, (lr * gi) / Math.sqrt(t.ms[i] + eps), mu, dv);
        // 'keras2'
        if (mu > 0) {
          q.ms[i] = (1 - this.cKeras2) * q.ms[i] + this.cKeras2 * gi * gi;
          momentumStep(q, i, (lr * gi) / Math.sqrt(q.ms[i] + eps), mu, dv);
        } else {
          q.ms[i] = rho * q.ms[i] + this.cKeras2 * gi * gi;
          const vk = (lr * gi) / (Math.sqrt(q.ms[i]) + eps);
          q.w[i] -= vk;
          q.ew[i] += Math.abs(vk) * dv + U * Math.abs(q.w[i]);
        }
      }
    });
  }

  /** Per variable, per element: |w_keras2 − w_tfjs| may not exceed this. */
  tolerance(): Float64Array[] {
    return this.tfjs.map((t, k) => {
      const q = this.keras2[k];
      return t.w.map((w, i) => Math.abs(q.w[i] - w) + 2 * (t.ew[i] + q.ew[i]));
    });
  }

  /** Per variable, per element: the float64 models' difference alone (what the epsilon placement and 1 − ρ cause). */
  modelGap(): Float64Array[] {
    return this.tfjs.map((t, k) => t.w.map((w, i) => Math.abs(this.keras2[k].w[i] - w)));
  }
}
