/** `tf.keras.experimental.CosineDecayRestarts` (TF 2.4), SGDR. */
import { LearningRateSchedule, registerBuiltinSchedule, type ScheduleConfig } from './learning_rate_schedule.js';
import { add, cos, div, f32, log, mul, PI_F32, pow, sub } from './float32.js';
import { checkStep, OptionReader } from './options.js';

export interface CosineDecayRestartsOptions {
  /** The learning rate at step 0; >= 0. */
  initialLearningRate: number;
  /** Steps of the first period; > 0. */
  firstDecaySteps: number;
  /** Each period is `tMul` times as long as the one before. Default 2; > 0. */
  tMul?: number;
  /** Each period starts at `mMul` times the previous start. Default 1; >= 0. */
  mMul?: number;
  /** The floor of each period as a fraction of `initialLearningRate` (not scaled by `mMul`). Default 0; >= 0. */
  alpha?: number;
  /** Kept in the config, as Keras does. Default null. */
  name?: string | null;
}

const KEYS = ['initialLearningRate', 'firstDecaySteps', 'tMul', 'mMul', 'alpha', 'name'] as const;

/**
 * Cosine decay restarted at the end of each period: period `i` lasts
 * `firstDecaySteps · tMul^i` steps and decays from `mMul^i` to `alpha`
 * (times `initialLearningRate`).
 *
 * As in TF, the period index is `floor(log(1 − f·(1 − tMul)) / log(tMul))` in
 * float32, so at the exact first step of a period the rounding of the logs may
 * put the step at the end of the previous period instead (not for `tMul` 1 or 2).
 */
export class CosineDecayRestarts extends LearningRateSchedule {
  static get className(): string { return 'CosineDecayRestarts'; }

  readonly initialLearningRate: number;
  readonly firstDecaySteps: number;
  readonly tMul: number;
  readonly mMul: number;
  readonly alpha: number;
  readonly name: string | null;

  constructor(options: CosineDecayRestartsOptions) {
    super();
    const o = new OptionReader('CosineDecayRestarts', options as unknown as Record<string, unknown>, KEYS);
    this.initialLearningRate = o.number('initialLearningRate', { min: 0 });
    this.firstDecaySteps = o.number('firstDecaySteps', { above: 0 });
    this.tMul = o.number('tMul', { above: 0 }, 2.0);
    this.mMul = o.number('mMul', { min: 0 }, 1.0);
    this.alpha = o.number('alpha', { min: 0 }, 0.0);
    this.name = o.name();
  }

  valueAt(step: number): number {
    checkStep('CosineDecayRestarts', step);
    const tMul = f32(this.tMul);
    const alpha = f32(this.alpha);
    let fraction = div(f32(step), f32(this.firstDecaySteps));
    let restart: number;
    if (tMul === 1) {
      restart = Math.floor(fraction);
      fraction = sub(fraction, restart);
    } else {
      const x = sub(1, mul(fraction, sub(1, tMul)));
      if (!(x > 0)) {
        // With tMul < 1 the periods add up to firstDecaySteps / (1 − tMul) steps;
        // TF returns NaN past them.
        throw new RangeError(
          `CosineDecayRestarts.valueAt: with \`tMul\` = ${this.tMul} < 1 the periods end at step ` +
          `${this.firstDecaySteps / (1 - this.tMul)} (firstDecaySteps / (1 − tMul)); step ${step} is past them`,
        );
      }
      restart = Math.floor(div(log(x), log(tMul)));
      const tMulI = pow(tMul, restart);
      const done = div(sub(1, tMulI), sub(1, tMul));
      fraction = div(sub(fraction, done), tMulI);
    }
    // `0.5 * m_mul**i * (1 + cos(pi * f))`, left to right as TF evaluates it.
    const cosine = mul(mul(0.5, pow(f32(this.mMul), restart)), add(1, cos(mul(PI_F32, fraction))));
    const decayed = add(mul(sub(1, alpha), cosine), alpha);
    return mul(f32(this.initialLearningRate), decayed);
  }

  /** Keras's `cls(**config)`: the constructor validates the config. */
  static override fromConfig(config: ScheduleConfig): CosineDecayRestarts {
    return new CosineDecayRestarts(config as unknown as CosineDecayRestartsOptions);
  }

  getConfig(): ScheduleConfig {
    return {
      initialLearningRate: this.initialLearningRate,
      firstDecaySteps: this.firstDecaySteps,
      tMul: this.tMul,
      mMul: this.mMul,
      alpha: this.alpha,
      name: this.name,
    };
  }
}

registerBuiltinSchedule(CosineDecayRestarts);
