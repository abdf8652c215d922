/**
 * A step as shader statements, shared by the WebGL (GLSL ES 3.00) and WebGPU
 * (WGSL) kernels: the clipping and weight-decay prologue, then the shader form
 * of the rule (each flavor's rule file in src/rules, by the rule table), each the
 * op order of its loops, fully parenthesized so no compiler may regroup it. Expressions use only what both languages spell alike: + − · /,
 * unary minus, `sqrt`, `min`, `max`, float literals with a point, and the
 * helpers `fmad(a, b, c)` = a·b + c (WGSL's `fma`; GLSL ES 3.00 has none, so
 * there it is a product and a sum a compiler may or may not contract),
 * `rsqrt(a)` = 1/√a (WGSL `inverseSqrt`, GLSL `inversesqrt`) and, for the
 * catch-up of sparse rows, `moveBy(w, m, s)` = `s ≠ 0 ? w − m·s : w`.
 *
 * Names a statement may read:
 * - per element: `g` (the gradient as given), `w`, `ms`, `mom`, `mg` (the state
 *   before the step);
 * - per step (uniforms): `uLr`, `uRho`, `uOmr` (1 − ρ as the flavor rounds it),
 *   `uMu`, `uEps`, `uWd`, `uNegLr` (−lr), and for clipping `uLo`, `uHi`, `uCn`,
 *   `uGc` (src/clipping/scalar.ts's FoldedClip);
 * - per variable, when clipping needs norms: `cS` (Σx² of the gradient clipped by
 *   value) and `cScale` (clip_by_global_norm's factor);
 * - per row of a sparse step that catches up (`rowStatements`): `wIn`, `msIn`,
 *   `momIn`, `mgIn` (the stored state) and the row's factors `rDecay`, `rMuPow`,
 *   `rMuSum` (src/rules/catch_up.ts), from which the catch-up defines `w`, `ms`,
 *   `mom`, `mg`.
 * No TF.js import: the emitters in ../webgl and ../webgpu turn statements into code.
 */
import { FLAVOR_SPECS, type Flavor } from '../../rules/flavors.js';
import { rowUpdate, ruleKeyOf, ruleOf, type RowRule } from '../../rules/table.js';
import type { RowCatchUp, ShaderForm, Statement, StepScalars, UpdateForm } from '../../rules/types.js';
import type { Around } from '../../rules/training.js';
import type { RowJob } from '../types.js';

export type { ShaderForm as Formula, Statement } from '../../rules/types.js';

/** The state a step writes, each from one statement. */
export type Outputs = ShaderForm['outputs'];

export type StateName = keyof Outputs;

const s = (name: string, expr: string): Statement => ({ name, expr });

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

/**
 * The complete statement list of a step: prologue then the rule's shader form
 * (the rule table's, rules/table.ts). Null for a form whose rule has none.
 */
export function stepStatements(
  form: UpdateForm, clip: ClipForm, decay: DecayForm,
): { statements: Statement[]; outputs: Outputs } | null {
  // TF.js always keeps a momentum buffer: the optimizer never asks its flavor for the plain path.
  if (form.flavor === 'tfjs' && form.path === 'plain') return null;
  const shader = ruleOf(form).update.shader;
  if (shader === undefined) return null;
  const f = shader(form.centered);
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

/**
 * What a row of a sparse step catches up before its passes (rules/catch_up.ts,
 * by the sparse mode's deferral): nothing; the accumulators' decay; or also the
 * momentum that kept moving the variable ('dense-equivalent' with momentum).
 */
export type CatchUpForm = 'none' | 'decay' | 'moving';

/** The catch-up a job's factors ask for (sparse/sparse_steps.ts makes them). */
export function catchUpFormOf(c: RowCatchUp | null): CatchUpForm {
  if (c === null) return 'none';
  return c.muPow !== null && c.muSum !== null ? 'moving' : 'decay';
}

/** State a row step writes, each from one statement (a catch-up only writes what it changes). */
export type RowOutputs = Partial<Record<StateName, string>>;

/**
 * rules/catch_up.ts `catchUpRow` as statements over the stored state (`wIn` …)
 * and the row's factors, defining the state the row's passes read.
 */
export function catchUpStatements(form: CatchUpForm, centered: boolean): Statement[] {
  if (form === 'none') return [];
  return [
    s('ms', 'msIn * rDecay'),
    ...(centered ? [s('mg', 'mgIn * rDecay')] : []),
    // The variable moves by the momentum before it decays (catchUpRow reads `m` first).
    ...(form === 'moving' ? [s('w', 'moveBy(wIn, momIn, rMuSum)'), s('mom', 'momIn * rMuPow')] : []),
  ];
}

/**
 * The statements of the rows of one sparse step (a `RowJob`): each row's
 * catch-up, then, when the step has gradient rows (`values`), the weight-decay
 * prologue and the shader form of the row's update pass (rules/table.ts's
 * `rowUpdate`: TF 2.4's sparse kernel for `'sparse'` rows where the rule has
 * one). Null for a form whose pass has no shader form.
 */
export function rowStatements(
  form: UpdateForm, row: RowRule, decay: DecayForm, catchUp: CatchUpForm, values: boolean,
): { statements: Statement[]; outputs: RowOutputs } | null {
  const { centered } = form;
  if (form.flavor === 'tfjs' && form.path === 'plain') return null;
  const head = catchUpStatements(catchUp, centered);
  if (!values) {
    const outputs: RowOutputs = {};
    for (const st of head) outputs[st.name as StateName] = st.name;
    return { statements: head, outputs };
  }
  const shader = rowUpdate(form, row).shader;
  if (shader === undefined) return null;
  const f = shader(centered);
  return { statements: [...head, ...prologue(NO_CLIP, decay), ...f.statements], outputs: f.outputs };
}

/** The statements of a row kernel's job (null when its form has no shader form). */
export function jobStatements(job: RowJob): ReturnType<typeof rowStatements> {
  const flavor = job.form.flavor ?? 'keras2';
  const decay = job.values === null ? 'none' : decayForm(flavor, job.s);
  return rowStatements(job.form, job.rule, decay, catchUpFormOf(job.catchUp), job.values !== null);
}

/**
 * Keras 3's passes around the rule (rules/training.ts) as a fused GPU step runs
 * them: the gradient made from the raw `gIn` (loss scale, then the window's
 * mean), the accumulation on accumulating calls, the EMA of the weights after.
 */
export interface AroundForm {
  readonly phase: 'update' | 'accumulate';
  /** `g ← gIn / uLsf` first. */
  readonly unscale: boolean;
  /** On an update call: `g ← (g + acc) / uSteps; acc ← 0`. */
  readonly combine: boolean;
  /** `ema ← uEmaM·ema + uEmaOm·w` after the update or the accumulation; `w ← ema` with `overwrite`. */
  readonly ema: boolean;
  readonly overwrite: boolean;
}

/** The state a step with Keras 3's passes writes, each from one statement: the rule's, the accumulator, the average. */
export type AroundOutputs = Partial<Record<StateName | 'acc' | 'ema', string>>;

/** Uniforms of Keras 3's passes (after the rule's: WGSL only), and their values for a call. */
export const AROUND_UNIFORMS = ['uLsf', 'uSteps', 'uEmaM', 'uEmaOm'] as const;

export function aroundUniformValues(s: StepScalars): number[] {
  return [s.lossScaleFactor ?? 1, s.accumulationSteps ?? 1, s.emaMomentum ?? 0, s.emaOneMinus ?? 1];
}

/**
 * The statements of one call with Keras 3's passes in rules/training.ts's
 * order and float32 operations: `g / scale`, `(g + acc) / steps` (the
 * accumulator then written as 0.0), the rule's statements (`step`, on an update
 * call), or `g + acc` (an accumulating call), then `m·ema + (1 − m)·w` of the
 * weights the call leaves. The gradient buffer is read as `gIn` when a
 * statement makes `g` from it.
 */
export function aroundStatements(
  step: { statements: readonly Statement[]; outputs: Outputs } | null, a: AroundForm,
): { statements: Statement[]; outputs: AroundOutputs } {
  const out: Statement[] = [];
  let g = 'gIn';
  if (a.unscale) { out.push(s('gU', `${g} / uLsf`)); g = 'gU'; }
  if (a.phase === 'update' && a.combine) { out.push(s('gM', `(${g} + acc) / uSteps`)); g = 'gM'; }
  if (g !== 'gIn') out.push(s('g', g));
  const outputs: AroundOutputs = {};
  let w = 'w';
  if (a.phase === 'update') {
    if (step === null) throw new Error('RMSprop: an update call needs the rule\'s statements');
    out.push(...step.statements);
    Object.assign(outputs, step.outputs);
    w = step.outputs.w;
    if (a.combine) outputs.acc = '0.0';
  } else {
    out.push(s('accSum', 'g + acc'));
    outputs.acc = 'accSum';
  }
  if (a.ema) {
    out.push(s('emaNew', `(uEmaM * ema) + (uEmaOm * ${w})`));
    outputs.ema = 'emaNew';
    if (a.overwrite) outputs.w = 'emaNew';
  }
  return { statements: out, outputs };
}

/** Keras 3's passes of a call as the shaders run them. */
export function aroundForm(a: Around): AroundForm {
  return {
    phase: a.phase, unscale: a.unscale !== null, combine: a.combineSteps !== null, ema: a.ema !== null, overwrite: a.ema?.overwrite ?? false,
  };
}

/** A cache-key part for a call's passes ('' without). */
export function aroundKey(a: Around | null): string {
  if (a === null) return '';
  const f = aroundForm(a);
  return `|${f.phase}${f.unscale}${f.combine}${f.ema}${f.overwrite}`;
}

/**
 * What one call of a fused GPU kernel runs per element: the rule's statements,
 * with Keras 3's passes around them when the call has them.
 */
export function callStatements(
  form: UpdateForm, clip: ClipForm, decay: DecayForm, around: Around | null,
): { statements: readonly Statement[]; outputs: AroundOutputs } {
  const a = around === null ? null : aroundForm(around);
  const flavor = form.flavor ?? 'keras2';
  const rule = a?.phase === 'accumulate' ? null : stepStatements(form, clip, decay);
  if (rule === null && a?.phase !== 'accumulate') throw new Error(`RMSprop: no ${flavor} rule for the ${ruleKeyOf(form)} path`);
  if (a === null) return rule as NonNullable<typeof rule>;
  // The optimizer base makes the call's gradient before kernels whose clipping reads it (optimizer/training.ts).
  if (needsNorms(clip) && (a.unscale || a.combine)) throw new Error('RMSprop: the clipping norms need the call\'s gradient made before the kernel');
  return aroundStatements(rule, a);
}
