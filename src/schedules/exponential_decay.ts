/** `tf.keras.optimizers.schedules.ExponentialDecay` (TF 2.4). */
import { LearningRateSchedule, registerBuiltinSchedule, type ScheduleConfig } from './learning_rate_schedule.js';
import { div, f32, mul, pow } from './float32.js';
import { checkStep, OptionReader } from './options.js';

export interface ExponentialDecayOptions {
  /** The learning rate at step 0; >= 0. */
  initialLearningRate: number;
  /** Steps per factor of `decayRate`; > 0. */
  decaySteps: number;
  /** Factor per `decaySteps`; >= 0. */
  decayRate: number;
  /** Decay in whole intervals (`floor(step / decaySteps)`). Default false. */
  staircase?: boolean;
  /** Kept in the config, as Keras does. Default null. */
  name?: string | null;
}

const KEYS = ['initialLearningRate', 'decaySteps', 'decayRate', 'staircase', 'name'] as const;

/** `lr0 · decayRate^(step / decaySteps)`, the exponent floored when `staircase`. */
export class ExponentialDecay extends LearningRateSchedule {
  static get className(): string { return 'ExponentialDecay'; }

  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly decayRate: number;
  readonly staircase: boolean;
  readonly name: string | null;

  constructor(options: ExponentialDecayOptions) {
    super();
    const o = new OptionReader('ExponentialDecay', options as unknown as Record<string, unknown>, KEYS);
    this.initialLearningRate = o.number('initialLearningRate', { min: 0 });
    this.decaySteps = o.number('decaySteps', { above: 0 });
    this.decayRate = o.number('decayRate', { min: 0 });
    this.staircase = o.boolean('staircase', false);
    this.name = o.name();
  }

  valueAt(step: number): number {
    checkStep('ExponentialDecay', step);
    let p = div(f32(step), f32(this.decaySteps));
    if (this.staircase) p = Math.floor(p);
    return mul(f32(this.initialLearningRate), pow(f32(this.decayRate), p));
  }

  /** Keras's `cls(**config)`: the constructor validates the config. */
  static override fromConfig(config: ScheduleConfig): ExponentialDecay {
    return new ExponentialDecay(config as unknown as ExponentialDecayOptions);
  }

  getConfig(): ScheduleConfig {
    return {
      initialLearningRate: this.initialLearningRate,
      decaySteps: this.decaySteps,
      decayRate: this.decayRate,
      staircase: this.staircase,
      name: this.name,
    };
  }
}

registerBuiltinSchedule(ExponentialDecay);
