/**
 * The pieces a rule is defined with: how a pass is found in the SIMD modules of
 * wasm-src/ (each exports one function per rule key and centered form: `plain`,
 * `plainCentered`, `momentum`, `momentumCentered`, `nesterov`,
 * `nesterovCentered`, all over the same table of entries; a flavor's `_ema`
 * module exports the same names with the EMA folded in), and the rule of a
 * flavor whose module takes the full argument list.
 */
import type { DenseState, OpChain, Rule, RuleKey, ShaderForm, SimdCall, SimdModule, Statement, StepScalars } from './types.js';

/** A statement of a shader form: `name = expr`. */
export const st = (name: string, expr: string): Statement => ({ name, expr });

/** The flavor modules' twins with the EMA folded in (wasm-src/<flavor>_ema.ts). */
const WITH_EMA: Partial<Record<SimdModule, SimdModule>> = { keras2: 'keras2_ema', keras3: 'keras3_ema', tfjs: 'tfjs_ema', pytorch: 'pytorch_ema' };

export function simdCall(module: SimdModule, key: RuleKey, args: (s: StepScalars) => number[]): SimdCall {
  const centered = `${key}Centered`;
  const fn = (c: boolean): string => (c ? centered : key);
  const exports = [key, centered];
  const ema = WITH_EMA[module];
  return { module, fn, args, exports, ...(ema === undefined ? {} : { withEma: { module: ema, fn, exports } }) };
}

/** The arguments of every flavor module's export but TF 2.4's: `(lr, ρ, 1 − ρ, μ, ε, weight decay)`. */
export const FULL_ARGS = (s: StepScalars): number[] => [s.lr, s.rho, s.oneMinusRho, s.momentum, s.epsilon, s.weightDecay ?? 0];

/**
 * A flavor's loops, with the path as a flag (keras3.ts, pytorch.ts, tfjs.ts),
 * and Nesterov momentum as another (only read on the momentum path).
 */
export type FlavorStep = (
  s: StepScalars, momentumPath: boolean, centered: boolean, g: Float32Array, st: DenseState, start: number, end: number, gShift: number,
  nesterov?: boolean,
) => void;

/**
 * The rule of a flavor whose SIMD module takes `FULL_ARGS` on every export, for
 * one rule key. Such flavors compute `ρ·ms + (1 − ρ)·g²` on every path, so a row
 * with a zero gradient decays by ρ.
 */
export function flavorRule(
  module: SimdModule, key: RuleKey, step: FlavorStep, ops: (momentumPath: boolean, nesterov: boolean) => OpChain,
  shader: (momentumPath: boolean, centered: boolean, nesterov: boolean) => ShaderForm,
): Rule {
  const momentumPath = key !== 'plain';
  const nesterov = key === 'nesterov';
  return {
    update: {
      name: `${module} ${key}`,
      loop: nesterov
        ? (s, centered, g, st, start, end, gShift) => step(s, true, centered, g, st, start, end, gShift, true)
        : (s, centered, g, st, start, end, gShift) => step(s, momentumPath, centered, g, st, start, end, gShift),
      ops: ops(momentumPath, nesterov),
      simd: simdCall(module, key, FULL_ARGS),
      shader: (centered) => shader(momentumPath, centered, nesterov),
    },
    idleDecay: (s) => s.rho,
  };
}
