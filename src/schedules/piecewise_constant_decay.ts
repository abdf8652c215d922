/** `tf.keras.optimizers.schedules.PiecewiseConstantDecay` (TF 2.4). */
import { show } from '../util/config_keys.js';
import { LearningRateSchedule, registerBuiltinSchedule, type ScheduleConfig } from './learning_rate_schedule.js';
import { f32 } from './float32.js';
import { checkStep, OptionReader } from './options.js';

export interface PiecewiseConstantDecayOptions {
  /** Strictly increasing steps where the value changes. */
  boundaries: number[];
  /** One more than `boundaries`; each >= 0. */
  values: number[];
  /** Kept in the config, as Keras does. Default null. */
  name?: string | null;
}

const KEYS = ['boundaries', 'values', 'name'] as const;

/**
 * `values[0]` while `step <= boundaries[0]`, `values[i]` while
 * `boundaries[i-1] < step <= boundaries[i]`, `values[last]` after the last
 * boundary: intervals are left-open and right-closed, as in Keras. The values
 * come out as float32 (Keras gives int32 for Python ints; a learning rate is a
 * float here).
 */
export class PiecewiseConstantDecay extends LearningRateSchedule {
  static get className(): string { return 'PiecewiseConstantDecay'; }

  readonly boundaries: readonly number[];
  readonly values: readonly number[];
  readonly name: string | null;

  constructor(options: PiecewiseConstantDecayOptions) {
    super();
    const where = 'PiecewiseConstantDecay';
    const o = new OptionReader(where, options as unknown as Record<string, unknown>, KEYS);
    const boundaries = o.numberArray('boundaries');
    const values = o.numberArray('values', { min: 0 });
    if (boundaries.length !== values.length - 1) {
      throw new RangeError(
        `${where}: the length of \`boundaries\` should be 1 less than the length of \`values\`; ` +
        `got ${boundaries.length} boundaries ${show(boundaries)} and ${values.length} values ${show(values)}`,
      );
    }
    for (let i = 1; i < boundaries.length; i++) {
      if (!(boundaries[i] > boundaries[i - 1])) {
        throw new RangeError(
          `${where}: \`boundaries\` must be strictly increasing, got boundaries[${i - 1}] = ${boundaries[i - 1]} ` +
          `then boundaries[${i}] = ${boundaries[i]}`,
        );
      }
    }
    this.boundaries = Object.freeze(boundaries);
    this.values = Object.freeze(values);
    this.name = o.name();
  }

  valueAt(step: number): number {
    checkStep('PiecewiseConstantDecay', step);
    // Keras casts the boundaries to the step's dtype: the optimizer's step is an
    // int64, so a fractional boundary is truncated; a fractional step (only from
    // direct calls) compares in float32.
    const integral = Number.isInteger(step);
    const x = integral ? step : f32(step);
    const cast = integral ? Math.trunc : f32;
    let i = 0;
    while (i < this.boundaries.length && x > cast(this.boundaries[i])) i++;
    return f32(this.values[i]);
  }

  /** Keras's `cls(**config)`: the constructor validates the config. */
  static override fromConfig(config: ScheduleConfig): PiecewiseConstantDecay {
    return new PiecewiseConstantDecay(config as unknown as PiecewiseConstantDecayOptions);
  }

  getConfig(): ScheduleConfig {
    return { boundaries: [...this.boundaries], values: [...this.values], name: this.name };
  }
}

registerBuiltinSchedule(PiecewiseConstantDecay);
