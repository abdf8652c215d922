/** `tf.keras.optimizers.schedules.PolynomialDecay` (TF 2.4). */
import { LearningRateSchedule, registerBuiltinSchedule, type ScheduleConfig } from './learning_rate_schedule.js';
import { add, div, f32, mul, pow, sub } from './float32.js';
import { checkStep, OptionReader } from './options.js';

export interface PolynomialDecayOptions {
  /** The learning rate at step 0; >= 0. */
  initialLearningRate: number;
  /** Steps to go from the initial to the end learning rate; > 0. */
  decaySteps: number;
  /** Default 0.0001; >= 0. */
  endLearningRate?: number;
  /** Default 1 (linear); >= 0. */
  power?: number;
  /** Restart after `decaySteps`, each cycle as long as the multiple of `decaySteps` just above the step. Default false. */
  cycle?: boolean;
  /** Kept in the config, as Keras does. Default null. */
  name?: string | null;
}

const KEYS = ['initialLearningRate', 'decaySteps', 'endLearningRate', 'power', 'cycle', 'name'] as const;

/** `(lr0 − end) · (1 − step / decaySteps)^power + end`, the step clamped to `decaySteps` unless `cycle`. */
export class PolynomialDecay extends LearningRateSchedule {
  static get className(): string { return 'PolynomialDecay'; }

  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly endLearningRate: number;
  readonly power: number;
  readonly cycle: boolean;
  readonly name: string | null;

  constructor(options: PolynomialDecayOptions) {
    super();
    const o = new OptionReader('PolynomialDecay', options as unknown as Record<string, unknown>, KEYS);
    this.initialLearningRate = o.number('initialLearningRate', { min: 0 });
    this.decaySteps = o.number('decaySteps', { above: 0 });
    this.endLearningRate = o.number('endLearningRate', { min: 0 }, 0.0001);
    // A negative power would give (1 − 1)^power = inf at the end of the decay.
    this.power = o.number('power', { min: 0 }, 1.0);
    this.cycle = o.boolean('cycle', false);
    this.name = o.name();
  }

  valueAt(step: number): number {
    checkStep('PolynomialDecay', step);
    const lr0 = f32(this.initialLearningRate);
    const end = f32(this.endLearningRate);
    let t = f32(step);
    let decaySteps = f32(this.decaySteps);
    if (this.cycle) {
      // The first multiple of decaySteps at or above the step; 1 at step 0.
      const multiplier = t === 0 ? 1 : Math.ceil(div(t, decaySteps));
      decaySteps = mul(decaySteps, multiplier);
    } else {
      t = Math.min(t, decaySteps);
    }
    const p = div(t, decaySteps);
    return add(mul(sub(lr0, end), pow(sub(1, p), f32(this.power))), end);
  }

  /** Keras's `cls(**config)`: the constructor validates the config. */
  static override fromConfig(config: ScheduleConfig): PolynomialDecay {
    return new PolynomialDecay(config as unknown as PolynomialDecayOptions);
  }

  getConfig(): ScheduleConfig {
    return {
      initialLearningRate: this.initialLearningRate,
      decaySteps: this.decaySteps,
      endLearningRate: this.endLearningRate,
      power: this.power,
      cycle: this.cycle,
      name: this.name,
    };
  }
}

registerBuiltinSchedule(PolynomialDecay);
