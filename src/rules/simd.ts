/**
 * How a pass is found in the SIMD modules of wasm-src/: each module exports one
 * function per path and centered form (`plain`, `plainCentered`, `momentum`,
 * `momentumCentered`), all over the same table of entries.
 */
import type { DensePath, SimdCall, SimdModule, StepScalars } from './types.js';

export function simdCall(module: SimdModule, path: DensePath, args: (s: StepScalars) => number[]): SimdCall {
  const centered = `${path}Centered`;
  return { module, fn: (c) => (c ? centered : path), args, exports: [path, centered] };
}

/** The arguments of every flavor module's export but TF 2.4's: `(lr, ρ, 1 − ρ, μ, ε, weight decay)`. */
export const FULL_ARGS = (s: StepScalars): number[] => [s.lr, s.rho, s.oneMinusRho, s.momentum, s.epsilon, s.weightDecay ?? 0];
