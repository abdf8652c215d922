/** `tf.keras.optimizers.schedules.InverseTimeDecay` (TF 2.4). */
import { LearningRateSchedule, registerBuiltinSchedule, type ScheduleConfig } from './learning_rate_schedule.js';
import { add, div, f32, mul } from './float32.js';
import { checkStep, OptionReader } from './options.js';

export interface InverseTimeDecayOptions {
  /** The learning rate at step 0; >= 0. */
  initialLearningRate: number;
  /** The time unit of the decay; > 0. */
  decaySteps: number;
  /** >= 0 (a negative rate would make the denominator reach 0). */
  decayRate: number;
  /** Decay in whole intervals (`floor(step / decaySteps)`). Default false. */
  staircase?: boolean;
  /** Kept in the config, as Keras does. Default null. */
  name?: string | null;
}

const KEYS = ['initialLearningRate', 'decaySteps', 'decayRate', 'staircase', 'name'] as const;

/** `lr0 / (1 + decayRate · step / decaySteps)`, the ratio floored when `staircase`. */
export class InverseTimeDecay extends LearningRateSchedule {
  static get className(): string { return 'InverseTimeDecay'; }

  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly decayRate: number;
  readonly staircase: boolean;
  readonly name: string | null;

  constructor(options: InverseTimeDecayOptions) {
    super();
    const o = new OptionReader('InverseTimeDecay', options as unknown as Record<string, unknown>, KEYS);
    this.initialLearningRate = o.number('initialLearningRate', { min: 0 });
    this.decaySteps = o.number('decaySteps', { above: 0 });
    this.decayRate = o.number('decayRate', { min: 0 });
    this.staircase = o.boolean('staircase', false);
    this.name = o.name();
  }

  valueAt(step: number): number {
    checkStep('InverseTimeDecay', step);
    let p = div(f32(step), f32(this.decaySteps));
    if (this.staircase) p = Math.floor(p);
    return div(f32(this.initialLearningRate), add(1, mul(f32(this.decayRate), p)));
  }

  /** Keras's `cls(**config)`: the constructor validates the config. */
  static override fromConfig(config: ScheduleConfig): InverseTimeDecay {
    return new InverseTimeDecay(config as unknown as InverseTimeDecayOptions);
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

registerBuiltinSchedule(InverseTimeDecay);
