/**
 * The learning rate of a step as TF 2.4's `_decayed_lr` gives it: a number, a
 * schedule read at the iteration count before the increment, or a function
 * called every step, then the legacy `decay` dividing by `1 + decay·step`, all
 * in float32 (TF keeps hyperparameters in float32 variables). Values a function
 * or schedule returns are checked here, before any state changes.
 */
import { f32 } from '../util/f32.js';
import { show } from '../util/config_keys.js';
import { isLearningRateSchedule } from '../schedules/learning_rate_schedule.js';
import type { LearningRate, NumberOrFn } from './options.js';

/** The scalars every Keras optimizer's step has: the learning rate and the weight decay, float32. */
export interface BaseScalars {
  readonly lr: number;
  /** Absent or 0 means none. */
  readonly weightDecay?: number;
}

/** The value of a hyperparameter this step: a function is called and its result checked. */
export function readHyper(where: string, name: string, value: NumberOrFn, lo: number, hi: number): number {
  if (typeof value === 'number') return value;
  const v = value();
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) {
    const range = hi === Infinity ? `a finite number >= ${lo}` : `a number in [${lo}, ${hi}]`;
    throw new RangeError(`${where}: the \`${name}\` function must return ${range}, got ${show(v)}`);
  }
  return v;
}

/** The learning rate at `step` before float32 rounding of the decay. */
export function learningRateAt(where: string, lr: LearningRate, step: number): number {
  if (typeof lr === 'number') return lr;
  if (isLearningRateSchedule(lr)) {
    // Any finite value, negative included: TF applies what a schedule gives
    // (NoisyLinearCosineDecay with Keras's defaults dips below 0 now and then).
    const v = lr.valueAt(step);
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new RangeError(
        `${where}: the learning-rate schedule ${lr.getClassName()} gave ${show(v)} at step ${step}; ` +
        'expected a finite number',
      );
    }
    return v;
  }
  return readHyper(where, 'learningRate', lr, 0, Infinity);
}

/** The step's learning rate (schedule, function, legacy decay) and weight decay, in float32. */
export function baseScalarsAt(
  where: string, h: { readonly learningRate: LearningRate; readonly decay: number; readonly weightDecay: number }, step: number,
): BaseScalars {
  const given = learningRateAt(where, h.learningRate, step);
  let lr = f32(given);
  if (!Number.isFinite(lr)) {
    throw new RangeError(
      `${where}: the learning rate at step ${step} is ${given}, beyond float32's range (about ±3.4e38), which TF computes in`,
    );
  }
  if (h.decay > 0) {
    lr = f32(lr / f32(1 + f32(f32(h.decay) * f32(step))));
  }
  return { lr, weightDecay: f32(h.weightDecay) };
}
