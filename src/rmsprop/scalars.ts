/**
 * RMSprop's per-step scalars as TF 2.4's `_prepare_local` makes them:
 * hyperparameters are float32 variables and functions are called every step,
 * checked before any state changes. The one flavor-dependent scalar is `1 − ρ`
 * (see FlavorSpec.oneMinusRho).
 */
import { f32 } from '../util/f32.js';
import { FLAVOR_SPECS, type Flavor } from '../rules/flavors.js';
import type { StepScalars } from '../rules/types.js';
import { baseScalarsAt, readHyper, type BaseScalars } from '../optimizer/learning_rate.js';
import type { LearningRate, NumberOrFn } from '../optimizer/options.js';

export interface HyperSource {
  readonly rho: NumberOrFn;
  readonly momentum: NumberOrFn;
  readonly epsilon: number;
  /** Absent means 'keras2'. */
  readonly flavor?: Flavor;
}

/** The step's scalars from the shared ones (learning rate, weight decay) and RMSprop's hyperparameters. */
export function rmspropScalars(base: BaseScalars, h: HyperSource): StepScalars {
  const rhoGiven = readHyper('RMSprop', 'rho', h.rho, 0, 1);
  const rho = f32(rhoGiven);
  const momentum = f32(readHyper('RMSprop', 'momentum', h.momentum, 0, 1));
  // TF 2.4 subtracts the float32 ρ in float32 (0.100000024 for 0.9); Keras 3
  // (`1 - rho` in Python), PyTorch (`1 - alpha` in Python, then cast by the
  // kernel) and TF.js (`1 - decay` in JS, then a float32 scalar) subtract in double.
  const oneMinusRho = FLAVOR_SPECS[h.flavor ?? 'keras2'].oneMinusRho === 'float32-rho' ? f32(1 - rho) : f32(1 - rhoGiven);
  return { lr: base.lr, rho, oneMinusRho, momentum, epsilon: f32(h.epsilon), weightDecay: base.weightDecay ?? 0 };
}

/** All of a step's scalars at `step` from the options (the learning rate first, as TF reads them). */
export function resolveStepScalars(
  h: HyperSource & { readonly learningRate: LearningRate; readonly decay: number; readonly weightDecay?: number }, step: number,
): StepScalars {
  return rmspropScalars(baseScalarsAt('RMSprop', { ...h, weightDecay: h.weightDecay ?? 0 }, step), h);
}
