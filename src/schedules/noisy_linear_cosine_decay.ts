/**
 * `tf.keras.experimental.NoisyLinearCosineDecay` (TF 2.4), plus an optional
 * `seed` that makes the noise reproducible (TF's unseeded noise is not).
 */
import { LearningRateSchedule, registerBuiltinSchedule, type ScheduleConfig } from './learning_rate_schedule.js';
import { add, div, f32, mul, pow, sqrt, sub } from './float32.js';
import { linearCosine } from './linear_cosine_decay.js';
import { checkStep, OptionReader } from './options.js';
import { randomStandardNormal, seededStandardNormal } from './seeded_normal.js';
import { show } from '../util/config_keys.js';

export interface NoisyLinearCosineDecayOptions {
  /** The learning rate at step 0, before noise; >= 0. */
  initialLearningRate: number;
  /** Steps to decay over; > 0. */
  decaySteps: number;
  /** Variance of the noise at step 0. Default 1; >= 0. */
  initialVariance?: number;
  /** The variance falls as `1 / (1 + t')^varianceDecay`. Default 0.55. */
  varianceDecay?: number;
  /** Periods of the cosine part over `decaySteps`. Default 0.5. */
  numPeriods?: number;
  /** Added to the linear part. Default 0; >= 0. */
  alpha?: number;
  /** Added to the product. Default 0.001; >= 0. */
  beta?: number;
  /** Kept in the config, as Keras does. Default null. */
  name?: string | null;
  /**
   * Not in Keras: an integer in [0, 2^53 − 1] that makes the noise a fixed
   * function of (seed, step), so a run can be reproduced. Default null: fresh
   * noise on every call, as in TF.
   */
  seed?: number | null;
}

const KEYS = [
  'initialLearningRate', 'decaySteps', 'initialVariance', 'varianceDecay', 'numPeriods', 'alpha', 'beta', 'name', 'seed',
] as const;

/**
 * LinearCosineDecay with `N(0, σ)` added to the linear part, where
 * `σ = sqrt(initialVariance / (1 + t')^varianceDecay)` and `t' = min(step, D)`.
 *
 * With the Keras defaults (σ = 1 at first) the noise often makes the rate
 * negative; keep `initialVariance` small for a usable schedule.
 */
export class NoisyLinearCosineDecay extends LearningRateSchedule {
  static get className(): string { return 'NoisyLinearCosineDecay'; }

  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly initialVariance: number;
  readonly varianceDecay: number;
  readonly numPeriods: number;
  readonly alpha: number;
  readonly beta: number;
  readonly name: string | null;
  readonly seed: number | null;

  constructor(options: NoisyLinearCosineDecayOptions) {
    super();
    const where = 'NoisyLinearCosineDecay';
    const o = new OptionReader(where, options as unknown as Record<string, unknown>, KEYS);
    this.initialLearningRate = o.number('initialLearningRate', { min: 0 });
    this.decaySteps = o.number('decaySteps', { above: 0 });
    this.initialVariance = o.number('initialVariance', { min: 0 }, 1.0);
    this.varianceDecay = o.number('varianceDecay', {}, 0.55);
    this.numPeriods = o.number('numPeriods', {}, 0.5);
    this.alpha = o.number('alpha', { min: 0 }, 0.0);
    this.beta = o.number('beta', { min: 0 }, 0.001);
    this.name = o.name();
    this.seed = o.optionalNumber('seed');
    if (this.seed !== null && !(Number.isSafeInteger(this.seed) && this.seed >= 0)) {
      throw new RangeError(`${where}: \`seed\` must be an integer in [0, 2^53 − 1], got ${show(this.seed)}`);
    }
  }

  valueAt(step: number): number {
    checkStep('NoisyLinearCosineDecay', step);
    const decaySteps = f32(this.decaySteps);
    const t = Math.min(f32(step), decaySteps);
    const linear = div(sub(decaySteps, t), decaySteps);
    const variance = div(f32(this.initialVariance), pow(add(1, t), f32(this.varianceDecay)));
    const std = sqrt(variance);
    const z = f32(this.seed === null ? randomStandardNormal() : seededStandardNormal(this.seed, step));
    const noisyLinear = add(linear, mul(z, std));
    return linearCosine(
      f32(this.initialLearningRate), decaySteps, t, f32(this.numPeriods), f32(this.alpha), f32(this.beta), noisyLinear,
    );
  }

  /** Keras's `cls(**config)`: the constructor validates the config. */
  static override fromConfig(config: ScheduleConfig): NoisyLinearCosineDecay {
    return new NoisyLinearCosineDecay(config as unknown as NoisyLinearCosineDecayOptions);
  }

  getConfig(): ScheduleConfig {
    const config: ScheduleConfig = {
      initialLearningRate: this.initialLearningRate,
      decaySteps: this.decaySteps,
      initialVariance: this.initialVariance,
      varianceDecay: this.varianceDecay,
      numPeriods: this.numPeriods,
      alpha: this.alpha,
      beta: this.beta,
      name: this.name,
    };
    // Only when set: TF 2.4's `NoisyLinearCosineDecay(**config)` knows no `seed`.
    if (this.seed !== null) config.seed = this.seed;
    return config;
  }
}

registerBuiltinSchedule(NoisyLinearCosineDecay);
