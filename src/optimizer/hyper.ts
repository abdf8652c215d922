/**
 * Resolves the per-step scalars as TF 2.4's `_prepare_local` and `_decayed_lr` do:
 * hyperparameters are float32 variables, functions are called every step, a
 * schedule is read at the iteration count before the increment, and the legacy
 * `decay` divides by `1 + decay·step` in float32. Values a function or schedule
 * returns are checked here, before any state changes. The one flavor-dependent
 * scalar is `1 − ρ` (see FlavorSpec.oneMinusRho).
 */
import { f32 } from '../util/f32.js';
import { show } from '../util/config_keys.js';
import { isLearningRateSchedule } from '../schedules/learning_rate_schedule.js';
import { FLAVOR_SPECS, type Flavor } from '../rules/flavors.js';
import type { StepScalars } from '../rules/types.js';
import type { LearningRate, NumberOrFn } from './options.js';

export interface HyperSource {
  readonly learningRate: LearningRate;
  readonly rho: NumberOrFn;
  readonly momentum: NumberOrFn;
  readonly epsilon: number;
  readonly decay: number;
  /** Absent means 'keras2'. */
  readonly flavor?: Flavor;
  /** Absent means 0. */
  readonly weightDecay?: number;
}

function read(name: string, value: NumberOrFn, lo: number, hi: number): number {
  if (typeof value === 'number') return value;
  const v = value();
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) {
    const range = hi === Infinity ? `a finite number >= ${lo}` : `a number in [${lo}, ${hi}]`;
    throw new RangeError(`RMSprop: the \`${name}\` function must return ${range}, got ${show(v)}`);
  }
  return v;
}

/** The learning rate at `step` before float32 rounding of the decay. */
export function learningRateAt(lr: LearningRate, step: number): number {
  if (typeof lr === 'number') return lr;
  if (isLearningRateSchedule(lr)) {
    // Any finite value, negative included: TF applies what a schedule gives
    // (NoisyLinearCosineDecay with Keras's defaults dips below 0 now and then).
    const v = lr.valueAt(step);
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new RangeError(
        `RMSprop: the learning-rate schedule ${lr.getClassName()} gave ${show(v)} at step ${step}; ` +
        'expected a finite number',
      );
    }
    return v;
  }
  return read('learningRate', lr, 0, Infinity);
}

export function resolveStepScalars(h: HyperSource, step: number): StepScalars {
  let lr = f32(learningRateAt(h.learningRate, step));
  if (h.decay > 0) {
    lr = f32(lr / f32(1 + f32(f32(h.decay) * f32(step))));
  }
  const rhoGiven = read('rho', h.rho, 0, 1);
  const rho = f32(rhoGiven);
  const momentum = f32(read('momentum', h.momentum, 0, 1));
  // TF 2.4 subtracts the float32 ρ in float32 (0.100000024 for 0.9); Keras 3
  // (`1 - rho` in Python), PyTorch (`1 - alpha` in Python, then cast by the
  // kernel) and TF.js (`1 - decay` in JS, then a float32 scalar) subtract in double.
  const oneMinusRho = FLAVOR_SPECS[h.flavor ?? 'keras2'].oneMinusRho === 'float32-rho' ? f32(1 - rho) : f32(1 - rhoGiven);
  return { lr, rho, oneMinusRho, momentum, epsilon: f32(h.epsilon), weightDecay: f32(h.weightDecay ?? 0) };
}
