/** `tf.keras.experimental.LinearCosineDecay` (TF 2.4). */
import { LearningRateSchedule, registerBuiltinSchedule, type ScheduleConfig } from './learning_rate_schedule.js';
import { add, div, f32, halfCosine, mul, sub } from './float32.js';
import { checkStep, OptionReader } from './options.js';

export interface LinearCosineDecayOptions {
  /** The learning rate at step 0 (with the defaults, about 1.001×); >= 0. */
  initialLearningRate: number;
  /** Steps to decay over; > 0. */
  decaySteps: number;
  /** Periods of the cosine part over `decaySteps`. Default 0.5. */
  numPeriods?: number;
  /** Added to the linear part. Default 0; >= 0. */
  alpha?: number;
  /** Added to the product, a floor of `beta · lr0`. Default 0.001; >= 0. */
  beta?: number;
  /** Kept in the config, as Keras does. Default null. */
  name?: string | null;
}

const KEYS = ['initialLearningRate', 'decaySteps', 'numPeriods', 'alpha', 'beta', 'name'] as const;

/** `(α + linear) · 0.5·(1 + cos(2π · numPeriods · t'/D)) + β`, times lr0 (t' the step clamped to D). */
export function linearCosine(
  lr0: number, decaySteps: number, clampedStep: number, numPeriods: number, alpha: number, beta: number, linear: number,
): number {
  const fraction = mul(mul(2, numPeriods), div(clampedStep, decaySteps));
  return mul(lr0, add(mul(add(alpha, linear), halfCosine(fraction)), beta));
}

/**
 * `lr0 · ((α + (D − t')/D) · 0.5 · (1 + cos(2π · numPeriods · t'/D)) + β)`, with
 * `t' = min(step, D)`: a linear decay times a cosine.
 */
export class LinearCosineDecay extends LearningRateSchedule {
  static get className(): string { return 'LinearCosineDecay'; }

  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly numPeriods: number;
  readonly alpha: number;
  readonly beta: number;
  readonly name: string | null;

  constructor(options: LinearCosineDecayOptions) {
    super();
    const o = new OptionReader('LinearCosineDecay', options as unknown as Record<string, unknown>, KEYS);
    this.initialLearningRate = o.number('initialLearningRate', { min: 0 });
    this.decaySteps = o.number('decaySteps', { above: 0 });
    this.numPeriods = o.number('numPeriods', {}, 0.5);
    // With alpha, beta >= 0 the rate never goes below 0.
    this.alpha = o.number('alpha', { min: 0 }, 0.0);
    this.beta = o.number('beta', { min: 0 }, 0.001);
    this.name = o.name();
  }

  valueAt(step: number): number {
    checkStep('LinearCosineDecay', step);
    const decaySteps = f32(this.decaySteps);
    const t = Math.min(f32(step), decaySteps);
    const linear = div(sub(decaySteps, t), decaySteps);
    return linearCosine(
      f32(this.initialLearningRate), decaySteps, t, f32(this.numPeriods), f32(this.alpha), f32(this.beta), linear,
    );
  }

  /** Keras's `cls(**config)`: the constructor validates the config. */
  static override fromConfig(config: ScheduleConfig): LinearCosineDecay {
    return new LinearCosineDecay(config as unknown as LinearCosineDecayOptions);
  }

  getConfig(): ScheduleConfig {
    return {
      initialLearningRate: this.initialLearningRate,
      decaySteps: this.decaySteps,
      numPeriods: this.numPeriods,
      alpha: this.alpha,
      beta: this.beta,
      name: this.name,
    };
  }
}

registerBuiltinSchedule(LinearCosineDecay);
