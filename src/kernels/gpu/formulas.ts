/**
 * The dense update of every flavor as shader statements, shared by the WebGL
 * (GLSL ES 3.00) and WebGPU (WGSL) kernels: one table keyed by flavor × path ×
 * centering, each entry the op order of its rule in src/rules (keras2.ts,
 * keras3.ts, pytorch.ts, tfjs.ts), fully parenthesized so no compiler may
 * regroup it. Expressions use only what both languages spell alike: + − · /,
 * unary minus, `sqrt`, `min`, `max`, float literals with a point, and the
 * helper `fmad(a, b, c)` = a·b + c (WGSL's `fma`; GLSL ES 3.00 has none, so
 * there it is a product and a sum a compiler may or may not contract).
 *
 * Names a statement may read:
 * - per element: `g` (the gradient as given), `w`, `ms`, `mom`, `mg` (the state
 *   before the step);
 * - per step (uniforms): `uLr`, `uRho`, `uOmr` (1 − ρ as the flavor rounds it),
 *   `uMu`, `uEps`, `uWd`, `uNegLr` (−lr), and for clipping `uLo`, `uHi`, `uCn`,
 *   `uGc` (src/clipping/scalar.ts's FoldedClip);
 * - per variable, when clipping needs norms: `cS` (Σx² of the gradient clipped by
 *   value) and `cScale` (clip_by_global_norm's factor).
 * No TF.js import: the emitters in ../webgl and ../webgpu turn statements into code.
 */
import { FLAVOR_SPECS, type Flavor } from '../../rules/flavors.js';
import type { DensePath, StepScalars } from '../../rules/types.js';

/** `name = expr`. */
export interface Statement {
  readonly name: string;
  readonly expr: string;
}

/** The state a step writes, each from one statement. */
export interface Outputs {
  readonly w: string;
  readonly ms: string;
  readonly mom?: string;
  readonly mg?: string;
}

export type StateName = keyof Outputs;

/**
 * One rule over `g0` (the gradient the rule sees) and `w0` (the weight before
 * the update): the prologue defines both (see `prologue`).
 */
export interface Formula {
  readonly statements: readonly Statement[];
  readonly outputs: Outputs;
}

const s = (name: string, expr: string): Statement => ({ name, expr });

/** keras2.ts `densePlain`: ms = ρ·ms + (1 − ρ)·g², w −= (lr·g)/(√d + ε). */
function keras2Plain(centered: boolean): Formula {
  return {
    statements: [
      s('ms1', '(uRho * ms) + (uOmr * (g0 * g0))'),
      ...(centered ? [s('mg1', '(uRho * mg) + (uOmr * g0)'), s('d', 'ms1 - (mg1 * mg1)')] : [s('d', 'ms1')]),
      s('w1', 'w0 - ((uLr * g0) / (sqrt(d) + uEps))'),
    ],
    outputs: centered ? { w: 'w1', ms: 'ms1', mg: 'mg1' } : { w: 'w1', ms: 'ms1' },
  };
}

/** keras2.ts `denseMomentum`: TF's ApplyRMSProp / ApplyCenteredRMSProp. */
function keras2Momentum(centered: boolean): Formula {
  return {
    statements: [
      s('ms1', 'ms + (((g0 * g0) - ms) * uOmr)'),
      ...(centered
        ? [s('mg1', 'mg + ((g0 - mg) * uOmr)'), s('d', '(ms1 - (mg1 * mg1)) + uEps')]
        : [s('d', 'ms1 + uEps')]),
      s('mom1', '(mom * uMu) + ((g0 * uLr) / sqrt(d))'),
      s('w1', 'w0 - mom1'),
    ],
    outputs: centered ? { w: 'w1', ms: 'ms1', mom: 'mom1', mg: 'mg1' } : { w: 'w1', ms: 'ms1', mom: 'mom1' },
  };
}

/** keras3.ts: one formula, ε inside the square root; the momentum buffer only on the momentum path. */
function keras3(momentum: boolean, centered: boolean): Formula {
  const head = [
    s('ms1', '(uRho * ms) + (uOmr * (g0 * g0))'),
    ...(centered
      ? [s('mg1', '(uRho * mg) + (uOmr * g0)'), s('d', '(ms1 - (mg1 * mg1)) + uEps')]
      : [s('d', 'ms1 + uEps')]),
    s('inc', '(uLr * g0) / sqrt(d)'),
  ];
  const tail = momentum ? [s('mom1', '(uMu * mom) + inc'), s('w1', 'w0 - mom1')] : [s('w1', 'w0 - inc')];
  return {
    statements: [...head, ...tail],
    outputs: { w: 'w1', ms: 'ms1', ...(momentum ? { mom: 'mom1' } : {}), ...(centered ? { mg: 'mg1' } : {}) },
  };
}

/** pytorch.ts: ε after the square root, lr applied to the momentum buffer, PyTorch's fused multiply-adds. */
function pytorch(momentum: boolean, centered: boolean): Formula {
  const head = [
    s('ms1', 'fmad(uOmr * g0, g0, ms * uRho)'),
    ...(centered
      ? [s('mg1', 'fmad(g0, uOmr, mg * uRho)'), s('avg', 'sqrt(fmad(-mg1, mg1, ms1)) + uEps')]
      : [s('avg', 'sqrt(ms1) + uEps')]),
  ];
  const tail = momentum
    ? [s('mom1', '(mom * uMu) + (g0 / avg)'), s('w1', 'fmad(mom1, uNegLr, w0)')]
    : [s('w1', 'w0 + ((uNegLr * g0) / avg)')];
  return {
    statements: [...head, ...tail],
    outputs: { w: 'w1', ms: 'ms1', ...(momentum ? { mom: 'mom1' } : {}), ...(centered ? { mg: 'mg1' } : {}) },
  };
}

/** tfjs.ts: TF.js's momentum form (always), its centered sign corrected. */
function tfjs(centered: boolean): Formula {
  return {
    statements: [
      s('ms1', '(ms * uRho) + ((g0 * g0) * uOmr)'),
      ...(centered
        ? [s('mg1', '(mg * uRho) + (g0 * uOmr)'), s('d', 'ms1 - ((mg1 * mg1) - uEps)')]
        : [s('d', 'ms1 + uEps')]),
      s('mom1', '(mom * uMu) + ((g0 * uLr) / sqrt(d))'),
      s('w1', 'w0 - mom1'),
    ],
    outputs: centered ? { w: 'w1', ms: 'ms1', mom: 'mom1', mg: 'mg1' } : { w: 'w1', ms: 'ms1', mom: 'mom1' },
  };
}

type ByCentering = { readonly uncentered: Formula; readonly centered: Formula };

/**
 * Every flavor × path × centering. TF.js always keeps a momentum buffer, so its
 * flavor has no plain path (the optimizer never asks for one: FlavorSpec.momentumSlot).
 */
export const FORMULAS: { readonly [F in Flavor]: { readonly [P in DensePath]: ByCentering | null } } = {
  keras2: {
    plain: { uncentered: keras2Plain(false), centered: keras2Plain(true) },
    momentum: { uncentered: keras2Momentum(false), centered: keras2Momentum(true) },
  },
  keras3: {
    plain: { uncentered: keras3(false, false), centered: keras3(false, true) },
    momentum: { uncentered: keras3(true, false), centered: keras3(true, true) },
  },
  pytorch: {
    plain: { uncentered: pytorch(false, false), centered: pytorch(false, true) },
    momentum: { uncentered: pytorch(true, false), centered: pytorch(true, true) },
  },
  tfjs: {
    plain: null,
    momentum: { uncentered: tfjs(false), centered: tfjs(true) },
  },
};

/** Weight decay as the step applies it: none, Keras 3's decoupled pass, or PyTorch's coupled L2. */
export type DecayForm = 'none' | 'decoupled' | 'coupled';

/** What the gradient goes through before the rule: TF 2.4's clipping, folded (clipping.ts's FoldedClip). */
export interface ClipForm {
  /** clip_by_value with bounds `uLo`, `uHi`. */
  readonly value: boolean;
  /** clip_by_norm with `uCn`, from the variable's `cS`. */
  readonly norm: boolean;
  /** clip_by_global_norm, as the factor `cScale`. */
  readonly global: boolean;
}

export const NO_CLIP: ClipForm = { value: false, norm: false, global: false };

/** Whether the step needs Σx² of each gradient (clipnorm or globalClipnorm). */
export function needsNorms(c: ClipForm): boolean {
  return c.norm || c.global;
}

/**
 * The statements before the rule: the clipped gradient `gc`
 * (`((max(min(g, hi), lo)·cn)/dn)·scale`, each factor only when set, which is
 * bit-identical to TF's unit factors), then `g0` and `w0` with weight decay.
 */
export function prologue(clip: ClipForm, decay: DecayForm): Statement[] {
  let gc = 'g';
  const out: Statement[] = [];
  const then = (name: string, expr: string): void => { out.push(s(name, expr)); gc = name; };
  if (clip.value) then('gv', `max(min(${gc}, uHi), uLo)`);
  if (clip.norm) { out.push(s('cDn', 'clipDivisor(cS, uCn)')); then('gn', `(${gc} * uCn) / cDn`); }
  if (clip.global) then('gs', `${gc} * cScale`);
  // PyTorch: g += wd·w (add(param, alpha=wd), one rounding); Keras 3: w −= (w·wd)·lr before the rule.
  out.push(s('g0', decay === 'coupled' ? `fmad(w, uWd, ${gc})` : gc));
  out.push(s('w0', decay === 'decoupled' ? 'w - ((w * uWd) * uLr)' : 'w'));
  return out;
}

/**
 * clip_by_global_norm's factor from the per-gradient sums, as statements run
 * once per step: each gradient's Σx² after clip_by_norm (`(cn/dn)²·Σx²`, the
 * norm of the clipped gradient, when clipnorm is set), halved and summed as
 * TF's l2_loss terms, then `c·min(1/N, 1/c) + (N − N)`. `cHalf` accumulates
 * over the gradients; the emitters loop `GLOBAL_TERM` and finish with `GLOBAL_SCALE`.
 */
export function globalTerm(norm: boolean): Statement[] {
  return norm
    ? [s('cDn', 'clipDivisor(cS, uCn)'), s('cF', 'uCn / cDn'), s('cL2', 'cS * (cF * cF)'), s('cTerm', 'cL2 / 2.0')]
    : [s('cTerm', 'cS / 2.0')];
}

export const GLOBAL_SCALE: readonly Statement[] = [
  s('cNorm', 'sqrt(cHalf * 2.0)'),
  s('cScaleOut', '(uGc * min(1.0 / cNorm, 1.0 / uGc)) + (cNorm - cNorm)'),
];

/** The uniforms a step sets, in this order (their values: `uniformValues`). */
export const UNIFORMS = ['uLr', 'uRho', 'uOmr', 'uMu', 'uEps', 'uWd', 'uNegLr', 'uLo', 'uHi', 'uCn', 'uGc'] as const;
export type UniformName = (typeof UNIFORMS)[number];

/** The state and inputs an element of the step reads. */
export const ELEMENT_INPUTS = ['g', 'w', 'ms', 'mom', 'mg'] as const;
export type ElementInput = (typeof ELEMENT_INPUTS)[number];

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/g;

/** Identifiers an expression reads. */
export function identifiers(expr: string): string[] {
  return expr.match(IDENT) ?? [];
}

/**
 * The statements needed for `targets`, in order: what a WebGL program that
 * writes one state tensor computes (each program recomputes what it needs).
 */
export function closure(statements: readonly Statement[], targets: readonly string[]): Statement[] {
  const byName = new Map(statements.map((st) => [st.name, st]));
  const needed = new Set<string>();
  const visit = (name: string): void => {
    const st = byName.get(name);
    if (st === undefined || needed.has(name)) return;
    needed.add(name);
    for (const id of identifiers(st.expr)) visit(id);
  };
  for (const t of targets) visit(t);
  return statements.filter((st) => needed.has(st.name));
}

/** Free names the statements read (inputs, uniforms, per-variable clip values, helpers). */
export function freeNames(statements: readonly Statement[]): Set<string> {
  const defined = new Set<string>();
  const free = new Set<string>();
  for (const st of statements) {
    for (const id of identifiers(st.expr)) if (!defined.has(id)) free.add(id);
    defined.add(st.name);
  }
  return free;
}

/** The complete statement list of a step: prologue then rule. Null for a form the flavor has no rule for. */
export function stepStatements(
  flavor: Flavor, path: DensePath, centered: boolean, clip: ClipForm, decay: DecayForm,
): { statements: Statement[]; outputs: Outputs } | null {
  const byCentering = FORMULAS[flavor][path];
  if (byCentering === null) return null;
  const f = centered ? byCentering.centered : byCentering.uncentered;
  return { statements: [...prologue(clip, decay), ...f.statements], outputs: f.outputs };
}

/** What `uniformValues` needs of a folded clip (src/clipping/scalar.ts's FoldedClip). */
export interface ClipBounds {
  readonly lo: number;
  readonly hi: number;
  readonly clipnorm: number | null;
  readonly globalClipnorm: number | null;
}

/** The step's uniforms in `UNIFORMS` order (all float32 already: StepScalars and FoldedClip are). */
export function uniformValues(s: StepScalars, clip: ClipBounds | null): number[] {
  return [
    s.lr, s.rho, s.oneMinusRho, s.momentum, s.epsilon, s.weightDecay ?? 0, -s.lr,
    clip?.lo ?? -Infinity, clip?.hi ?? Infinity, clip?.clipnorm ?? 1, clip?.globalClipnorm ?? 1,
  ];
}

/** The clip form of a folded clip. */
export function clipForm(clip: ClipBounds | null): ClipForm {
  if (clip === null) return NO_CLIP;
  return {
    value: clip.lo !== -Infinity || clip.hi !== Infinity,
    norm: clip.clipnorm !== null,
    global: clip.globalClipnorm !== null,
  };
}

/** How this step applies weight decay (dense.ts's `hasDecoupledDecay`, and PyTorch's coupled form). */
export function decayForm(flavor: Flavor, s: StepScalars): DecayForm {
  if ((s.weightDecay ?? 0) === 0) return 'none';
  return FLAVOR_SPECS[flavor].weightDecay;
}
