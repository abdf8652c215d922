/**
 * Types shared by the update rules. Rules are pure arithmetic over float32
 * arrays: no TF.js import, no allocation. Kernels decide where the arrays live.
 */

import type { Flavor } from './flavors.js';

/** Per-step scalars, already float32-rounded as the flavor's framework rounds them. */
export interface StepScalars {
  /** The learning rate of this step (schedule and legacy decay applied). */
  readonly lr: number;
  readonly rho: number;
  /**
   * `1 - rho` as the flavor's framework computes it: TF 2.4 in float32 from the
   * float32 `rho` (0.100000024 for 0.9); Keras 3, PyTorch and TF.js in double
   * from the given rho, rounded once (0.1 for 0.9).
   */
  readonly oneMinusRho: number;
  readonly momentum: number;
  readonly epsilon: number;
  /** float32 weight decay; absent or 0 means none. Decoupled or coupled by flavor (flavors.ts). */
  readonly weightDecay?: number;
}

/**
 * Which TF 2.4 dense path a step takes: `'momentum'` is the C++ kernel
 * (`ResourceApply[Centered]RMSProp`, epsilon inside the square root), chosen when
 * momentum > 0 or is a function; `'plain'` is the Python path of momentum == 0
 * (epsilon outside the square root).
 */
export type DensePath = 'momentum' | 'plain';

export interface UpdateForm {
  /** `'momentum'` when the variable has a momentum slot (always for 'tfjs'). */
  readonly path: DensePath;
  readonly centered: boolean;
  /** Whose arithmetic; absent means 'keras2'. */
  readonly flavor?: Flavor;
}

/** The state a dense rule updates in place. `mom` exists on the momentum path, `mg` when centered. */
export interface DenseState {
  readonly w: Float32Array;
  readonly ms: Float32Array;
  readonly mom?: Float32Array;
  readonly mg?: Float32Array;
}
