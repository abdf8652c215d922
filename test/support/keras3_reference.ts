/**
 * An independent reference for Keras 3's base-optimizer training features
 * around RMSprop, in float64 (`round` the identity) or float32 (`round` =
 * Math.fround after every operation, in the frameworks' operation order),
 * written from the sources, not from src/:
 *
 * keras/src/optimizers/base_optimizer.py (Keras 3.15):
 *   apply():  `grads = [g if g is None else g / scale for g in grads]`
 *   _backend_apply_gradients():
 *     `is_update_step = (self._iterations + 1) % self.gradient_accumulation_steps == 0`
 *     update step: `grads = [(g + acc_g) / steps for g, acc_g in zip(grads, acc_grads)]`,
 *       `grads = self._clip_gradients(grads)`, `self._apply_weight_decay(trainable_variables)`,
 *       `self._backend_update_step(...)`, `self._backend_reset_gradient_accumulators()` (every accumulator)
 *     otherwise: `new_g_accs = [(g + acc_g) for g, acc_g in zip(grads, acc_grads)]`
 *     then `self._update_model_variables_moving_average(self._trainable_variables)` and, when
 *     `(self.iterations + 1) % self.ema_overwrite_frequency == 0`, `var.assign(average_var)`;
 *     finally `self._iterations.assign_add(1)`
 *   iterations: `ops.floor_divide(self._iterations, self.gradient_accumulation_steps)`
 *   _update_model_variables_moving_average():
 *     `momentum = ops.cast(not_first_step, var.dtype) * self.ema_momentum`,
 *     `average.assign(momentum * average + (1 - momentum) * var)`, `not_first_step = iterations != 0`
 *   _get_current_learning_rate(): `self._learning_rate(self._iterations)` (the raw count)
 *   _apply_weight_decay(): `variable.assign(variable - variable * wd * lr)`
 *
 * optax (alias.py `rmsprop`): `chain(scale_by_rms(...), scale_by_learning_rate(lr),
 * trace(decay=momentum, nesterov=nesterov))`; _accumulation.py `trace`:
 *   `f = lambda g, t: g + decay * t; new_trace = f(updates, state.trace);
 *    updates = f(updates, new_trace) if nesterov else new_trace`
 * applied here to each flavor's own momentum buffer (`s` its scaled step):
 * `mom = μ·mom + s; w −= s + μ·mom`.
 *
 * The RMSprop steps are the frameworks' (TF 2.4 training_ops / rmsprop.py, Keras 3
 * rmsprop.py, tf.train.rmsprop, torch.optim.RMSprop with its multiply-adds rounded
 * separately here).
 */
import type { Flavor } from '../../src/index.js';

export interface ReferenceConfig {
  readonly flavor: Flavor;
  readonly rho: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly centered: boolean;
  readonly nesterov: boolean;
  /** The learning rate at a raw call count (Keras evaluates schedules at `_iterations`). */
  readonly lrAt: (step: number) => number;
  readonly weightDecay: number;
  readonly clipnorm: number | null;
  readonly clipvalue: number | null;
  readonly globalClipnorm: number | null;
  readonly useEma: boolean;
  readonly emaMomentum: number;
  readonly emaOverwriteFrequency: number | null;
  readonly gradientAccumulationSteps: number | null;
  readonly lossScaleFactor: number | null;
}

export const REFERENCE_DEFAULTS: ReferenceConfig = {
  flavor: 'keras2', rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false, nesterov: false, lrAt: () => 0.001,
  weightDecay: 0, clipnorm: null, clipvalue: null, globalClipnorm: null, useEma: false, emaMomentum: 0.99,
  emaOverwriteFrequency: null, gradientAccumulationSteps: null, lossScaleFactor: null,
};

type Round = (x: number) => number;

export class Keras3Reference {
  readonly w: number[][];
  readonly ms: number[][];
  readonly mom: number[][];
  readonly mg: number[][];
  readonly avg: number[][];
  readonly acc: number[][];
  /** Keras's `_iterations`. */
  calls = 0;
  private readonly momentumPath: boolean;

  constructor(readonly c: ReferenceConfig, initial: readonly (readonly number[])[], private readonly R: Round) {
    this.w = initial.map((v) => v.map(R));
    const zeros = (): number[][] => initial.map((v) => v.map(() => 0));
    this.ms = zeros(); this.mom = zeros(); this.mg = zeros(); this.avg = zeros(); this.acc = zeros();
    this.momentumPath = c.momentum > 0 || c.flavor === 'tfjs';
  }

  /** Keras 3's public `iterations`. */
  get iterations(): number {
    const steps = this.c.gradientAccumulationSteps;
    return steps === null ? this.calls : Math.floor(this.calls / steps);
  }

  /** One `apply_gradients` call; `null` leaves a variable out of it. */
  call(grads: ReadonlyArray<readonly number[] | null>): void {
    const { R, c } = this;
    const scale = c.lossScaleFactor;
    const g0 = grads.map((g) => (g === null ? null : g.map((x) => R(scale === null ? R(x) : R(x) / R(scale)))));
    const steps = c.gradientAccumulationSteps;
    if (steps !== null && (this.calls + 1) % steps !== 0) {
      g0.forEach((g, i) => { if (g !== null) this.acc[i] = g.map((x, j) => R(x + this.acc[i][j])); });
    } else {
      const mean = steps === null ? g0 : g0.map((g, i) => (g === null ? null : g.map((x, j) => R(R(x + this.acc[i][j]) / steps))));
      if (steps !== null) this.acc.forEach((a) => a.fill(0));
      const clipped = this.clip(mean);
      const lr = R(c.lrAt(this.calls));
      clipped.forEach((g, i) => { if (g !== null) this.update(i, g, lr); });
    }
    if (c.useEma) {
      const iterations = this.iterations;
      const m = iterations !== 0 ? R(c.emaMomentum) : 0;
      const omm = R(1 - m);
      this.avg.forEach((a, i) => { for (let j = 0; j < a.length; j++) a[j] = R(R(m * a[j]) + R(omm * this.w[i][j])); });
      const f = c.emaOverwriteFrequency;
      if (f !== null && (iterations + 1) % f === 0) this.avg.forEach((a, i) => { this.w[i] = [...a]; });
    }
    this.calls++;
  }

  /** Keras's `_clip_gradients` (one kind at a time in these tests; sums of squares in float64). */
  private clip(grads: Array<number[] | null>): Array<number[] | null> {
    const { R, c } = this;
    const sumSq = (g: number[]): number => g.reduce((s, x) => s + x * x, 0);
    if (c.clipnorm !== null) {
      const cn = R(c.clipnorm);
      return grads.map((g) => {
        if (g === null) return null;
        const norm = R(Math.sqrt(R(sumSq(g))));
        return g.map((x) => R(R(x * cn) / Math.max(norm, cn)));
      });
    }
    if (c.globalClipnorm !== null) {
      const gcn = R(c.globalClipnorm);
      const norm = R(Math.sqrt(R(grads.reduce((s, g) => s + (g === null ? 0 : sumSq(g)), 0))));
      const scale = R(gcn * Math.min(R(1 / norm), R(1 / gcn)));
      return grads.map((g) => (g === null ? null : g.map((x) => R(x * scale))));
    }
    if (c.clipvalue !== null) {
      const v = R(c.clipvalue);
      return grads.map((g) => (g === null ? null : g.map((x) => Math.min(Math.max(x, -v), v))));
    }
    return grads;
  }

  private update(i: number, g: number[], lr: number): void {
    const { R, c } = this;
    const w = this.w[i]; const ms = this.ms[i]; const mom = this.mom[i]; const mg = this.mg[i];
    const rho = R(c.rho); const mu = R(c.momentum); const eps = R(c.epsilon); const wd = R(c.weightDecay);
    if (wd !== 0 && c.flavor !== 'pytorch') for (let j = 0; j < w.length; j++) w[j] = R(w[j] - R(R(w[j] * wd) * lr));
    // The framework's float32 `1 − ρ`: TF 2.4 subtracts the float32 ρ, the others round the double difference.
    const omr = c.flavor === 'keras2' ? R(1 - rho) : R(1 - c.rho);
    for (let j = 0; j < w.length; j++) {
      let gj = g[j];
      switch (c.flavor) {
        case 'keras2': {
          if (!this.momentumPath) {
            ms[j] = R(R(rho * ms[j]) + R(omr * R(gj * gj)));
            let d = ms[j];
            if (c.centered) { mg[j] = R(R(rho * mg[j]) + R(omr * gj)); d = R(ms[j] - R(mg[j] * mg[j])); }
            w[j] = R(w[j] - R(R(lr * gj) / R(R(Math.sqrt(d)) + eps)));
          } else {
            ms[j] = R(ms[j] + R(R(R(gj * gj) - ms[j]) * omr));
            let d: number;
            if (c.centered) { mg[j] = R(mg[j] + R(R(gj - mg[j]) * omr)); d = R(R(ms[j] - R(mg[j] * mg[j])) + eps); } else d = R(ms[j] + eps);
            const s = R(R(gj * lr) / R(Math.sqrt(d)));
            this.momentumStep(w, mom, j, s, mu);
          }
          break;
        }
        case 'keras3': {
          ms[j] = R(R(rho * ms[j]) + R(omr * R(gj * gj)));
          let d: number;
          if (c.centered) { mg[j] = R(R(rho * mg[j]) + R(omr * gj)); d = R(R(ms[j] - R(mg[j] * mg[j])) + eps); } else d = R(ms[j] + eps);
          const inc = R(R(lr * gj) / R(Math.sqrt(d)));
          if (this.momentumPath) this.momentumStep(w, mom, j, inc, mu);
          else w[j] = R(w[j] - inc);
          break;
        }
        case 'tfjs': {
          ms[j] = R(R(ms[j] * rho) + R(R(gj * gj) * omr));
          let d: number;
          if (c.centered) { mg[j] = R(R(mg[j] * rho) + R(gj * omr)); d = R(ms[j] - R(R(mg[j] * mg[j]) - eps)); } else d = R(ms[j] + eps);
          this.momentumStep(w, mom, j, R(R(gj * lr) / R(Math.sqrt(d))), mu);
          break;
        }
        case 'pytorch': {
          if (wd !== 0) gj = R(gj + R(w[j] * wd));
          ms[j] = R(R(ms[j] * rho) + R(R(omr * gj) * gj));
          let avg: number;
          if (c.centered) { mg[j] = R(R(mg[j] * rho) + R(gj * omr)); avg = R(Math.sqrt(R(ms[j] - R(mg[j] * mg[j])))); } else avg = R(Math.sqrt(ms[j]));
          avg = R(avg + eps);
          if (this.momentumPath) {
            const s = R(gj / avg);
            mom[j] = R(R(mom[j] * mu) + s);
            w[j] = R(w[j] - R(lr * (c.nesterov ? R(s + R(mu * mom[j])) : mom[j])));
          } else {
            w[j] = R(w[j] + R(R(-lr * gj) / avg));
          }
          break;
        }
      }
    }
  }

  /** `mom = μ·mom + s; w −= mom`, or optax's Nesterov `w −= s + μ·mom`. */
  private momentumStep(w: number[], mom: number[], j: number, s: number, mu: number): void {
    const { R } = this;
    mom[j] = R(R(mu * mom[j]) + s);
    w[j] = R(w[j] - (this.c.nesterov ? R(s + R(mu * mom[j])) : mom[j]));
  }
}

export const float32: Round = Math.fround;
export const float64: Round = (x) => x;
