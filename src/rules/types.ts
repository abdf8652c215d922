/**
 * Types shared by the update rules. Rules are pure arithmetic over float32
 * arrays: no TF.js import, no allocation. Kernels decide where the arrays live.
 */

/** Per-step scalars, already float32-rounded as TF 2.4 rounds them. */
export interface StepScalars {
  /** The learning rate of this step (schedule and legacy decay applied). */
  readonly lr: number;
  readonly rho: number;
  /** `1 - rho` computed in float32 from the float32 `rho` (0.100000024 for 0.9). */
  readonly oneMinusRho: number;
  readonly momentum: number;
  readonly epsilon: number;
}

/**
 * Which TF 2.4 dense path a step takes: `'momentum'` is the C++ kernel
 * (`ResourceApply[Centered]RMSProp`, epsilon inside the square root), chosen when
 * momentum > 0 or is a function; `'plain'` is the Python path of momentum == 0
 * (epsilon outside the square root).
 */
export type DensePath = 'momentum' | 'plain';

export interface UpdateForm {
  readonly path: DensePath;
  readonly centered: boolean;
}

/** The state a dense rule updates in place. `mom` exists on the momentum path, `mg` when centered. */
export interface DenseState {
  readonly w: Float32Array;
  readonly ms: Float32Array;
  readonly mom?: Float32Array;
  readonly mg?: Float32Array;
}
