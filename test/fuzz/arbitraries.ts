/**
 * What the fuzz tests draw: optimizer configurations (every option, flavor,
 * sparse mode, schedule, clipping, non-finite policy, weight decay) and
 * streams of gradients (shapes, float32 magnitudes from denormals to the top of
 * the range, zeros, IndexedSlices with repeated rows, null gradients, NaN and
 * ±Infinity). Everything drawn is plain data, so a counterexample prints as
 * it is and shrinks: a case is built from it afresh for each run.
 */
import * as fc from 'fast-check';
import { IndexedSlices, schedules, type RMSpropOptions } from '../../src/index.js';
import { TILE_ELEMENTS } from '../../src/kernels/simd/tiles.js';
import { tf } from '../support/tf.js';

const f32 = Math.fround;
export const F32_MAX = 3.4028234663852886e38;
const MIN_NORMAL = 2 ** -126;
const MIN_DENORMAL = 2 ** -149;

const signed = (arb: fc.Arbitrary<number>): fc.Arbitrary<number> =>
  fc.tuple(fc.boolean(), arb).map(([negative, x]) => (negative ? -x : x));

/** 10^e for e in [lo, hi], as float32 (never past float32's largest value). */
const decades = (lo: number, hi: number): fc.Arbitrary<number> =>
  fc.double({ min: lo, max: hi, noNaN: true }).map((e) => Math.min(f32(10 ** e), F32_MAX));

/**
 * A finite float32: zeros of both signs, denormals, 1e-30 to 1e30 (most of
 * them), up to float32's largest value, and the edges of the normal range.
 */
export const finite32: fc.Arbitrary<number> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(0, -0, 1, -1, 0.5, -2) },
  { weight: 2, arbitrary: signed(fc.integer({ min: 1, max: 2 ** 23 - 1 }).map((k) => k * MIN_DENORMAL)) },
  { weight: 8, arbitrary: signed(decades(-30, 30)) },
  { weight: 1, arbitrary: signed(decades(30, 38.6)) },
  { weight: 1, arbitrary: fc.constantFrom(F32_MAX, -F32_MAX, MIN_NORMAL, -MIN_NORMAL) },
);

export const nonFinite: fc.Arbitrary<number> = fc.constantFrom(NaN, Infinity, -Infinity);

// ---- configurations ---------------------------------------------------------------------------

export type ScheduleSpec =
  | { className: 'ExponentialDecay' | 'InverseTimeDecay'; config: { initialLearningRate: number; decaySteps: number; decayRate: number; staircase: boolean } }
  | { className: 'PiecewiseConstantDecay'; config: { boundaries: number[]; values: number[] } }
  | { className: 'PolynomialDecay'; config: { initialLearningRate: number; decaySteps: number; endLearningRate: number; power: number; cycle: boolean } }
  | { className: 'CosineDecay'; config: { initialLearningRate: number; decaySteps: number; alpha: number } }
  | { className: 'CosineDecayRestarts'; config: { initialLearningRate: number; firstDecaySteps: number; tMul: number; mMul: number; alpha: number } }
  | { className: 'LinearCosineDecay'; config: { initialLearningRate: number; decaySteps: number; numPeriods: number; alpha: number; beta: number } }
  | { className: 'NoisyLinearCosineDecay'; config: { initialLearningRate: number; decaySteps: number; initialVariance: number; varianceDecay: number; seed: number } };

const rate = decades(-6, 0);
const steps = fc.integer({ min: 1, max: 20 });
/** A double in [lo, hi] float32 can use: one that would round to 0 is 0 (the options refuse it, rightly). */
const double32 = (lo: number, hi: number): fc.Arbitrary<number> =>
  fc.double({ min: lo, max: hi, noNaN: true }).map((x) => (f32(x) === 0 ? 0 : x));
const unit = double32(0, 1);

export const scheduleSpec: fc.Arbitrary<ScheduleSpec> = fc.oneof(
  fc.record({
    className: fc.constantFrom('ExponentialDecay' as const, 'InverseTimeDecay' as const),
    config: fc.record({ initialLearningRate: rate, decaySteps: steps, decayRate: double32(0, 2), staircase: fc.boolean() }),
  }),
  fc.tuple(fc.integer({ min: 0, max: 3 }), rate).map(([n, lr]) => ({
    className: 'PiecewiseConstantDecay' as const,
    config: { boundaries: Array.from({ length: n }, (_, i) => i + 1), values: Array.from({ length: n + 1 }, (_, i) => lr / (i + 1)) },
  })),
  fc.record({
    className: fc.constant('PolynomialDecay' as const),
    config: fc.record({ initialLearningRate: rate, decaySteps: steps, endLearningRate: decades(-8, -4), power: double32(0, 3), cycle: fc.boolean() }),
  }),
  fc.record({ className: fc.constant('CosineDecay' as const), config: fc.record({ initialLearningRate: rate, decaySteps: steps, alpha: unit }) }),
  fc.record({
    className: fc.constant('CosineDecayRestarts' as const),
    // tMul < 1 ends the restarts after firstDecaySteps / (1 − tMul) steps, past which the schedule throws (as documented).
    config: fc.record({ initialLearningRate: rate, firstDecaySteps: steps, tMul: double32(1, 3), mMul: unit, alpha: unit }),
  }),
  fc.record({
    className: fc.constant('LinearCosineDecay' as const),
    config: fc.record({ initialLearningRate: rate, decaySteps: steps, numPeriods: double32(0, 3), alpha: unit, beta: unit }),
  }),
  fc.record({
    className: fc.constant('NoisyLinearCosineDecay' as const),
    // Seeded: the two runs a property compares must draw the same noise.
    config: fc.record({ initialLearningRate: rate, decaySteps: steps, initialVariance: unit, varianceDecay: unit, seed: fc.integer({ min: 0, max: 1000 }) }),
  }),
);

/** A hyperparameter as a number, or as a function returning that number (called every step). */
export type Hyper = number | { fn: number };

export type LrSpec = { number: number } | { fn: number } | { schedule: ScheduleSpec } | { serialized: ScheduleSpec };

/** RMSpropOptions as data; `options()` builds the real ones. Absent keys are left out of the options. */
export interface ConfigSpec {
  lr?: LrSpec;
  /** Spell the learning rate `lr`, Keras's alias. */
  lrAlias?: boolean;
  rho?: Hyper;
  momentum?: Hyper;
  epsilon?: number | null;
  centered?: boolean;
  clipvalue?: number | null;
  clipnorm?: number | null;
  globalClipnorm?: number | null;
  decay?: number;
  weightDecay?: number | null;
  sparseMode?: 'keras2' | 'lazy' | 'dense-equivalent';
  flavor?: 'keras2' | 'keras3' | 'pytorch' | 'tfjs';
  nonFinite?: 'propagate' | 'skip' | 'error';
  // Keras 3's training features and optax's Nesterov momentum.
  useEma?: boolean;
  emaMomentum?: number;
  emaOverwriteFrequency?: number | null;
  gradientAccumulationSteps?: number | null;
  lossScaleFactor?: number | null;
  nesterov?: boolean;
}

/** Whether the options take the momentum path (where `nesterov` is allowed): rmsprop/options.ts's rule. */
export function momentumPath(c: ConfigSpec): boolean {
  const m = c.momentum;
  return c.flavor === 'tfjs' || (m !== undefined && (typeof m !== 'number' || m > 0));
}

const hyper = (value: fc.Arbitrary<number>): fc.Arbitrary<Hyper> =>
  fc.oneof({ weight: 4, arbitrary: value }, { weight: 1, arbitrary: value.map((v) => ({ fn: v })) });

/** A clipping bound: 0 and −0 included (they clip everything to 0), tiny to large. */
const clipBound = fc.oneof(fc.constantFrom(0, -0, null), decades(-20, 20));

export const configSpec: fc.Arbitrary<ConfigSpec> = fc.record({
  lr: fc.oneof(
    { weight: 4, arbitrary: fc.oneof(fc.constant(0), decades(-8, 1)).map((v) => ({ number: v })) },
    { weight: 1, arbitrary: decades(-8, 0).map((v) => ({ fn: v })) },
    { weight: 2, arbitrary: scheduleSpec.map((s) => ({ schedule: s })) },
    { weight: 1, arbitrary: scheduleSpec.map((s) => ({ serialized: s })) },
  ),
  lrAlias: fc.boolean(),
  rho: hyper(fc.oneof(fc.constantFrom(0, 0.9, 0.99, 1), unit)),
  momentum: hyper(fc.oneof(fc.constantFrom(0, 0.5, 0.9, 1), unit)),
  epsilon: fc.oneof(fc.constantFrom(null, 0, 1e-7), decades(-30, 0)),
  centered: fc.boolean(),
  clipvalue: clipBound,
  // Keras refuses clipnorm with globalClipnorm: one of them at most (see the chain below).
  clipnorm: clipBound,
  decay: fc.oneof(fc.constant(0), decades(-6, 0)),
  weightDecay: fc.oneof(fc.constantFrom(null, 0), decades(-6, 0)),
  sparseMode: fc.constantFrom('keras2' as const, 'lazy' as const, 'dense-equivalent' as const),
  flavor: fc.constantFrom('keras2' as const, 'keras3' as const, 'pytorch' as const, 'tfjs' as const),
  nonFinite: fc.constantFrom('propagate' as const, 'skip' as const, 'error' as const),
  useEma: fc.boolean(),
  emaMomentum: fc.oneof(fc.constantFrom(0, 0.5, 0.99, 1), unit),
  emaOverwriteFrequency: fc.constantFrom(null, 1, 2, 3),
  gradientAccumulationSteps: fc.constantFrom(null, 2, 3),
  lossScaleFactor: fc.oneof(fc.constantFrom(null, 0.5, 2, 1024), decades(-3, 3)),
  nesterov: fc.boolean(),
}, { requiredKeys: [] }).chain((c) => fc.boolean().map((global) => {
  // Nesterov momentum only where the momentum path is on (elsewhere it is refused: rejections.test.ts).
  const spec = c.nesterov === true && !momentumPath(c) ? { ...c, nesterov: false } : c;
  // Move clipnorm to globalClipnorm half the time, so both are drawn but never together.
  if (!global || !('clipnorm' in spec)) return spec;
  const { clipnorm, ...rest } = spec;
  return { ...rest, globalClipnorm: clipnorm };
}));

export function buildSchedule(s: ScheduleSpec): schedules.LearningRateSchedule {
  return schedules.deserialize({ className: s.className, config: { ...s.config } });
}

/** The real options of a spec: functions and schedules made anew, so two runs share nothing. */
export function options(c: ConfigSpec, extra: RMSpropOptions = {}): RMSpropOptions {
  const o: Record<string, unknown> = {};
  const value = (h: Hyper): number | (() => number) => (typeof h === 'number' ? h : () => h.fn);
  if (c.lr !== undefined) {
    const lr = 'number' in c.lr ? c.lr.number
      : 'fn' in c.lr ? (() => { const v = (c.lr as { fn: number }).fn; return () => v; })()
        : 'schedule' in c.lr ? buildSchedule(c.lr.schedule)
          : { className: c.lr.serialized.className, config: { ...c.lr.serialized.config } };
    o[c.lrAlias ? 'lr' : 'learningRate'] = lr;
  }
  if (c.rho !== undefined) o.rho = value(c.rho);
  if (c.momentum !== undefined) o.momentum = value(c.momentum);
  for (const k of [
    'epsilon', 'centered', 'clipvalue', 'clipnorm', 'globalClipnorm', 'decay', 'weightDecay', 'sparseMode', 'flavor', 'nonFinite',
    'useEma', 'emaMomentum', 'emaOverwriteFrequency', 'gradientAccumulationSteps', 'lossScaleFactor', 'nesterov',
  ] as const) {
    if (c[k] !== undefined) o[k] = c[k];
  }
  return { ...(o as RMSpropOptions), ...extra };
}

export const hasNormClipping = (c: ConfigSpec): boolean => c.clipnorm != null || c.globalClipnorm != null;

// ---- variables and gradient streams ----------------------------------------------------------

/** Shapes of every rank up to 3 with small dimensions, and now and then one longer than a SIMD tile. */
export const shape: fc.Arbitrary<number[]> = fc.oneof(
  { weight: 12, arbitrary: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 0, maxLength: 3 }) },
  { weight: 3, arbitrary: fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 9 })).map(([a, b]) => [a, b]) },
  { weight: 1, arbitrary: fc.constantFrom([TILE_ELEMENTS + 5], [3, Math.ceil(TILE_ELEMENTS / 3) + 7]).map((s) => [...s]) },
);

/**
 * A variable's initial values as an offset into the value pool (see `fill`);
 * `shared`: its buffer is shared with a tensor that stays alive, so no kernel
 * may write it in place (the fallbacks run).
 */
export interface VariableSpec { shape: number[]; offset: number; shared: boolean }

/** Elements of a gradient (or of the IndexedSlices values) set to NaN or ±Infinity. */
export interface Poison { at: number; value: number }

export type GradSpec =
  | { kind: 'null' }
  /** A tensor, or (asArray) the nested arrays of numbers Keras also accepts. */
  | { kind: 'dense'; offset: number; asArray: boolean; poison: Poison[] }
  /** Rows (taken modulo the variable's first dimension, so repeats are common) and their values. */
  | { kind: 'slices'; rows: number[]; offset: number; poison: Poison[] };

export interface StepSpec {
  /** [variable index, gradient]: a subset of the variables, in any order. */
  entries: Array<[number, GradSpec]>;
  /** The call form: Keras's pairs, or TF.js's `{name: tensor}` or `{name, tensor}[]` (dense tensors only, no nulls). */
  form: 'pairs' | 'map' | 'list';
  /** Bring deferred rows up to date first (what getSlot, getWeights and embeddingLookup do). */
  finalizeFirst: boolean;
}

export interface StreamSpec {
  variables: VariableSpec[];
  /** The first variable steps without weight decay (`excludeFromWeightDecay`). */
  excludeFirst: boolean;
  /** Finite float32 values that fill variables and gradients, cyclically. */
  pool: number[];
  steps: StepSpec[];
}

const poison = (withNonFinite: boolean): fc.Arbitrary<Poison[]> => withNonFinite
  ? fc.oneof({ weight: 3, arbitrary: fc.constant<Poison[]>([]) }, { weight: 1, arbitrary: fc.array(fc.record({ at: fc.nat(), value: nonFinite }), { minLength: 1, maxLength: 3 }) })
  : fc.constant([]);

const grad = (withNonFinite: boolean): fc.Arbitrary<GradSpec> => fc.oneof(
  { weight: 1, arbitrary: fc.constant({ kind: 'null' as const }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('dense' as const), offset: fc.nat(), asArray: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }), poison: poison(withNonFinite) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('slices' as const), rows: fc.array(fc.nat({ max: 50 }), { minLength: 0, maxLength: 8 }), offset: fc.nat(), poison: poison(withNonFinite) }) },
);

/** A stream of 1 to `maxSteps` steps over 1 to 4 variables; `withNonFinite` poisons some gradients. */
export function streamSpec(withNonFinite: boolean, maxSteps = 5): fc.Arbitrary<StreamSpec> {
  return fc.record({
    variables: fc.array(fc.record({ shape, offset: fc.nat(), shared: fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }) }), { minLength: 1, maxLength: 4 }),
    excludeFirst: fc.boolean(),
    pool: fc.array(finite32, { minLength: 1, maxLength: 24 }),
    steps: fc.array(fc.record({
      entries: fc.array(fc.tuple(fc.nat(), grad(withNonFinite)), { minLength: 1, maxLength: 5 }),
      form: fc.oneof({ weight: 8, arbitrary: fc.constant('pairs' as const) }, { weight: 1, arbitrary: fc.constantFrom('map' as const, 'list' as const) }),
      finalizeFirst: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    }), { minLength: 1, maxLength: maxSteps }),
  }).map(normalizeStream);
}

/**
 * Makes every drawn stream a valid one: entries name existing variables once
 * per step, IndexedSlices only on variables of rank >= 1, at least one gradient
 * per step, the named form only where it can express the step.
 */
function normalizeStream(s: StreamSpec): StreamSpec {
  const n = s.variables.length;
  const steps = s.steps.map((step) => {
    const seen = new Set<number>();
    const entries: Array<[number, GradSpec]> = [];
    for (const [v, g] of step.entries) {
      const k = v % n;
      if (seen.has(k)) continue;
      seen.add(k);
      const scalar = s.variables[k].shape.length === 0;
      entries.push([k, g.kind === 'slices' && scalar ? { kind: 'dense', offset: g.offset, asArray: false, poison: g.poison } : g]);
    }
    if (entries.every(([, g]) => g.kind === 'null')) entries[0] = [entries[0][0], { kind: 'dense', offset: 0, asArray: false, poison: [] }];
    const named = entries.every(([, g]) => g.kind === 'dense' && !g.asArray);
    return { entries, form: named ? step.form : 'pairs' as const, finalizeFirst: step.finalizeFirst };
  });
  return { ...s, steps };
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** `n` values from the pool, starting at `offset`, with the poison written in (positions modulo n). */
export function fill(pool: readonly number[], n: number, offset: number, poisoned: readonly Poison[] = []): Float32Array {
  const out = new Float32Array(n);
  const p = pool.length;
  for (let i = 0; i < n; i++) out[i] = pool[(offset + i * 7 + (i >> 3)) % p];
  if (n > 0) for (const { at, value } of poisoned) out[at % n] = value;
  return out;
}

/** Whether a gradient spec holds NaN or ±Infinity (the pool is finite, and float32). */
export function isPoisoned(g: GradSpec, variableShape: readonly number[]): boolean {
  if (g.kind === 'null' || g.poison.length === 0) return false;
  const n = g.kind === 'dense' ? sizeOf(variableShape) : g.rows.length * sizeOf(variableShape.slice(1));
  return n > 0;
}

/** What one step's call gets: the argument of applyGradients, and the tensors to dispose after it. */
export interface BuiltStep {
  arg: Parameters<import('../../src/index.js').RMSprop['applyGradients']>[0];
  tensors: tf.Tensor[];
  /** Host copies of each gradient's values (dense, or of the IndexedSlices), to check nothing wrote them. */
  grads: Array<{ tensor: tf.Tensor; values: Float32Array }>;
  poisoned: boolean;
}

export function buildStep(stream: StreamSpec, vars: readonly tf.Variable[], step: StepSpec): BuiltStep {
  const tensors: tf.Tensor[] = [];
  const grads: BuiltStep['grads'] = [];
  let poisoned = false;
  const pairs = step.entries.map(([k, g]) => {
    const v = vars[k];
    if (g.kind === 'null') return [null, v] as const;
    poisoned ||= isPoisoned(g, v.shape);
    if (g.kind === 'dense') {
      const values = fill(stream.pool, v.size, g.offset, g.poison);
      if (g.asArray) return [toNested(values, v.shape), v] as const;
      const t = tf.tensor(values, v.shape, 'float32');
      tensors.push(t);
      grads.push({ tensor: t, values: values.slice() });
      return [t, v] as const;
    }
    const rows = g.rows.map((r) => r % v.shape[0]);
    const rowShape = v.shape.slice(1);
    const values = fill(stream.pool, rows.length * sizeOf(rowShape), g.offset, g.poison);
    const t = tf.tensor(values, [rows.length, ...rowShape], 'float32');
    tensors.push(t);
    grads.push({ tensor: t, values: values.slice() });
    return [new IndexedSlices(t, rows), v] as const;
  });
  if (step.form === 'map') {
    const map: Record<string, tf.Tensor> = {};
    for (const [g, v] of pairs) map[v.name] = g as tf.Tensor;
    return { arg: map, tensors, grads, poisoned };
  }
  if (step.form === 'list') return { arg: pairs.map(([g, v]) => ({ name: v.name, tensor: g as tf.Tensor })), tensors, grads, poisoned };
  return { arg: pairs as unknown as BuiltStep['arg'], tensors, grads, poisoned };
}

function toNested(values: Float32Array, shape: readonly number[]): unknown {
  if (shape.length === 0) return values[0];
  const [d, ...rest] = shape;
  const step = sizeOf(rest);
  return Array.from({ length: d }, (_, i) => toNested(values.subarray(i * step, (i + 1) * step), rest));
}
