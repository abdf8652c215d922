/**
 * The pieces a rule is defined with: how a pass is found in the SIMD modules of
 * wasm-src/ (each exports one function per path and centered form: `plain`,
 * `plainCentered`, `momentum`, `momentumCentered`, all over the same table of
 * entries), and the rule of a flavor whose module takes the full argument list.
 */
import type { DenseState, DensePath, OpChain, Rule, ShaderForm, SimdCall, SimdModule, Statement, StepScalars } from './types.js';

/** A statement of a shader form: `name = expr`. */
export const st = (name: string, expr: string): Statement => ({ name, expr });

export function simdCall(module: SimdModule, path: DensePath, args: (s: StepScalars) => number[]): SimdCall {
  const centered = `${path}Centered`;
  return { module, fn: (c) => (c ? centered : path), args, exports: [path, centered] };
}

/** The arguments of every flavor module's export but TF 2.4's: `(lr, ρ, 1 − ρ, μ, ε, weight decay)`. */
export const FULL_ARGS = (s: StepScalars): number[] => [s.lr, s.rho, s.oneMinusRho, s.momentum, s.epsilon, s.weightDecay ?? 0];

/** A flavor's loops, with the path as a flag (keras3.ts, pytorch.ts, tfjs.ts). */
export type FlavorStep = (
  s: StepScalars, momentumPath: boolean, centered: boolean, g: Float32Array, st: DenseState, start: number, end: number, gShift: number,
) => void;

/**
 * The rule of a flavor whose SIMD module takes `FULL_ARGS` on every export, for
 * one path. Such flavors compute `ρ·ms + (1 − ρ)·g²` on every path, so a row
 * with a zero gradient decays by ρ.
 */
export function flavorRule(
  module: SimdModule, path: DensePath, step: FlavorStep, ops: (momentumPath: boolean) => OpChain,
  shader: (momentumPath: boolean, centered: boolean) => ShaderForm,
): Rule {
  const momentumPath = path === 'momentum';
  return {
    update: {
      name: `${module} ${path}`,
      loop: (s, centered, g, st, start, end, gShift) => step(s, momentumPath, centered, g, st, start, end, gShift),
      ops: ops(momentumPath),
      simd: simdCall(module, path, FULL_ARGS),
      shader: (centered) => shader(momentumPath, centered),
    },
    idleDecay: (s) => s.rho,
  };
}
