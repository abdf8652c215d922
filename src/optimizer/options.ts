/**
 * The options of `RMSprop`: their types, Keras defaults, and validation. Every
 * check runs at construction and names the option and the value; nothing here
 * touches TF.js.
 */
import { BACKEND_EPSILON } from '../util/f32.js';
import { camelCaseKeys, show } from '../util/config_keys.js';
import { FLAVORS, FLAVOR_SPECS, type Flavor } from '../rules/flavors.js';
import { SPARSE_MODES, type SparseMode } from '../sparse/sparse_update.js';
import {
  deserialize as deserializeSchedule, isLearningRateSchedule, isSerializedSchedule, LearningRateSchedule,
  type SerializedSchedule,
} from '../schedules/learning_rate_schedule.js';

/** A hyperparameter that may be re-read every step, as Keras allows. */
export type NumberOrFn = number | (() => number);
export type LearningRate = number | LearningRateSchedule | (() => number);

export interface RMSpropOptions {
  /** Default 0.001. A number, a `LearningRateSchedule` (evaluated at the step before the increment), or a function called every step. */
  learningRate?: LearningRate | SerializedSchedule;
  /** Keras's deprecated alias of `learningRate`; wins over it when both are given, as in Keras. */
  lr?: LearningRate | SerializedSchedule;
  /** Discounting factor of the squared-gradient average. Default 0.9. In [0, 1]. */
  rho?: NumberOrFn;
  /** Default 0. In [0, 1]. A value > 0, or any function (even one returning 0), selects TF 2.4's momentum path. */
  momentum?: NumberOrFn;
  /**
   * Default 1e-7. With the 'keras2' flavor 0 or null also mean 1e-7, as in TF 2.4
   * (`epsilon or backend.epsilon()`); the other flavors keep 0, as their frameworks do.
   */
  epsilon?: number | null;
  /** Normalize by the estimated variance of the gradient. Default false. */
  centered?: boolean;
  /** Default 'RMSprop'. */
  name?: string;
  /** Clip each gradient to this L2 norm. */
  clipnorm?: number | null;
  /** Clip each gradient element to [-clipvalue, clipvalue]. */
  clipvalue?: number | null;
  /** Clip all gradients together to this global L2 norm. Not together with `clipnorm`. */
  globalClipnorm?: number | null;
  /** Legacy inverse-time decay: lr / (1 + decay * step). Default 0. */
  decay?: number;
  /**
   * What an `IndexedSlices` gradient does to rows it does not index. Default
   * 'keras2' (TF 2.4 per path); 'lazy' (only indexed rows, every path);
   * 'dense-equivalent' (as applying the densified gradient).
   */
  sparseMode?: SparseMode;
  /**
   * Whose RMSprop arithmetic to reproduce, for porting. Default 'keras2'
   * (TensorFlow 2.4); 'keras3' (Keras 3), 'pytorch' (torch.optim.RMSprop),
   * 'tfjs' (tf.train.rmsprop, centered form corrected). See docs/porting.md.
   */
  flavor?: Flavor;
  /**
   * Default 0 (none). Decoupled, as Keras 3 (`w −= w·weightDecay·lr` before each
   * update), in every flavor except 'pytorch', where it is PyTorch's coupled L2
   * (`g += weightDecay·w`). Finite and >= 0.
   */
  weightDecay?: number | null;
}

/** Options after defaults and validation. */
export interface ResolvedOptions {
  readonly learningRate: LearningRate;
  readonly rho: NumberOrFn;
  readonly momentum: NumberOrFn;
  readonly epsilon: number;
  readonly centered: boolean;
  readonly name: string;
  readonly clipnorm: number | null;
  readonly clipvalue: number | null;
  readonly globalClipnorm: number | null;
  readonly decay: number;
  readonly sparseMode: SparseMode;
  readonly flavor: Flavor;
  readonly weightDecay: number;
}

export const DEFAULTS = {
  learningRate: 0.001,
  rho: 0.9,
  momentum: 0,
  epsilon: 1e-7,
  centered: false,
  name: 'RMSprop',
  decay: 0,
  sparseMode: 'keras2',
  flavor: 'keras2',
  weightDecay: 0,
} as const;

const KNOWN = new Set([
  'learningRate', 'lr', 'rho', 'momentum', 'epsilon', 'centered', 'name',
  'clipnorm', 'clipvalue', 'globalClipnorm', 'decay', 'sparseMode', 'flavor', 'weightDecay',
]);

const where = 'RMSprop';

function checkNumber(name: string, value: unknown, lo: number, hi: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`${where}: \`${name}\` must be a finite number, got ${show(value)}`);
  }
  if (value < lo || value > hi) {
    const range = hi === Infinity ? `>= ${lo}` : `in [${lo}, ${hi}]`;
    throw new RangeError(`${where}: \`${name}\` must be ${range}, got ${value}`);
  }
  return value;
}

function checkNumberOrFn(name: string, value: unknown, lo: number, hi: number): NumberOrFn {
  if (typeof value === 'function') return value as () => number;
  return checkNumber(name, value, lo, hi);
}

function checkOptionalNonNegative(name: string, value: unknown): number | null {
  return value == null ? null : checkNumber(name, value, 0, Infinity);
}

export function checkLearningRate(name: string, value: unknown): LearningRate {
  if (typeof value === 'function') return value as () => number;
  if (isLearningRateSchedule(value)) return value;
  // A serialized schedule, as getConfig writes it and Keras's from_config reads it.
  if (isSerializedSchedule(value)) return deserializeSchedule(value);
  if (typeof value === 'number') return checkNumber(name, value, 0, Infinity);
  throw new TypeError(
    `${where}: \`${name}\` must be a number, a LearningRateSchedule or a function, got ${show(value)}`,
  );
}

/** Applies the Keras defaults and checks every option; throws before anything is built. */
export function resolveOptions(options: RMSpropOptions | undefined): ResolvedOptions {
  if (options != null && (typeof options !== 'object' || Array.isArray(options))) {
    throw new TypeError(`${where}: options must be an object, got ${show(options)}`);
  }
  const o = (options ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) {
      throw new TypeError(
        `${where}: unknown option ${show(key)} (value ${show(o[key])}); ` +
        `known options: ${[...KNOWN].join(', ')}`,
      );
    }
  }
  const lrGiven = o.lr !== undefined ? o.lr : o.learningRate;
  const lrName = o.lr !== undefined ? 'lr' : 'learningRate';
  const learningRate = lrGiven === undefined ? DEFAULTS.learningRate : checkLearningRate(lrName, lrGiven);
  const rho = o.rho === undefined ? DEFAULTS.rho : checkNumberOrFn('rho', o.rho, 0, 1);
  const momentum = o.momentum === undefined ? DEFAULTS.momentum : checkNumberOrFn('momentum', o.momentum, 0, 1);
  if (o.flavor !== undefined && !(FLAVORS as readonly unknown[]).includes(o.flavor)) {
    throw new TypeError(`${where}: \`flavor\` must be one of ${FLAVORS.map((f) => `'${f}'`).join(', ')}, got ${show(o.flavor)}`);
  }
  const flavor = (o.flavor as Flavor | undefined) ?? DEFAULTS.flavor;
  // TF 2.4: `epsilon or backend.epsilon()`; Keras 3, PyTorch and TF.js keep 0.
  const epsilon = o.epsilon == null || (o.epsilon === 0 && FLAVOR_SPECS[flavor].zeroEpsilonIsDefault)
    ? BACKEND_EPSILON : checkNumber('epsilon', o.epsilon, 0, Infinity);
  const weightDecay = o.weightDecay == null ? DEFAULTS.weightDecay : checkNumber('weightDecay', o.weightDecay, 0, Infinity);
  if (o.centered !== undefined && typeof o.centered !== 'boolean') {
    throw new TypeError(`${where}: \`centered\` must be a boolean, got ${show(o.centered)}`);
  }
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name === '')) {
    throw new TypeError(`${where}: \`name\` must be a non-empty string, got ${show(o.name)}`);
  }
  const clipnorm = checkOptionalNonNegative('clipnorm', o.clipnorm);
  const clipvalue = checkOptionalNonNegative('clipvalue', o.clipvalue);
  const globalClipnorm = checkOptionalNonNegative('globalClipnorm', o.globalClipnorm);
  if (clipnorm !== null && globalClipnorm !== null) {
    throw new TypeError(
      `${where}: cannot accept both \`clipnorm\` (${clipnorm}) and \`globalClipnorm\` (${globalClipnorm}); ` +
      'pass one of them',
    );
  }
  const decay = o.decay == null ? DEFAULTS.decay : checkNumber('decay', o.decay, 0, Infinity);
  if (o.sparseMode !== undefined && !(SPARSE_MODES as readonly unknown[]).includes(o.sparseMode)) {
    throw new TypeError(`${where}: \`sparseMode\` must be one of ${SPARSE_MODES.map((m) => `'${m}'`).join(', ')}, got ${show(o.sparseMode)}`);
  }
  return {
    learningRate, rho, momentum, epsilon,
    centered: (o.centered as boolean | undefined) ?? DEFAULTS.centered,
    name: (o.name as string | undefined) ?? DEFAULTS.name,
    clipnorm, clipvalue, globalClipnorm, decay,
    sparseMode: (o.sparseMode as SparseMode | undefined) ?? DEFAULTS.sparseMode,
    flavor, weightDecay,
  };
}

/**
 * Keys that Keras 3 (and Keras 2.11+) write into an optimizer config. They are
 * accepted by `fromConfig` while they hold their inert default, so a config
 * written by a newer Keras loads; an active value is an error, never ignored.
 */
const INERT_KERAS_KEYS: Readonly<Record<string, (v: unknown) => boolean>> = {
  useEma: (v) => v == null || v === false,
  emaMomentum: () => true,
  emaOverwriteFrequency: (v) => v == null,
  lossScaleFactor: (v) => v == null || v === 1,
  gradientAccumulationSteps: (v) => v == null || v === 1,
  jitCompile: () => true,
  isLegacyOptimizer: () => true,
};

/**
 * Turns a config (camelCase from `getConfig`, or snake_case from Python Keras,
 * possibly with TF.js's injected `customObjects`) into constructor options.
 */
export function optionsFromConfig(config: Readonly<Record<string, unknown>>): RMSpropOptions {
  const c = camelCaseKeys(config, 'RMSprop.fromConfig');
  delete c.customObjects;
  for (const [key, isInert] of Object.entries(INERT_KERAS_KEYS)) {
    if (!(key in c)) continue;
    if (!isInert(c[key])) {
      throw new TypeError(`RMSprop.fromConfig: \`${key}\` = ${show(c[key])} is not supported by this optimizer`);
    }
    delete c[key];
  }
  for (const key of ['clipnorm', 'clipvalue', 'globalClipnorm'] as const) {
    if (c[key] === null) delete c[key];
  }
  for (const key of ['learningRate', 'lr'] as const) {
    if (isSerializedSchedule(c[key])) c[key] = deserializeSchedule(c[key]);
  }
  return c as RMSpropOptions;
}
