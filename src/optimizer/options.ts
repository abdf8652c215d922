/**
 * The options every Keras optimizer shares (Keras's `base_optimizer` arguments
 * that TF 2.4 has, plus Keras 3's `weight_decay`): their types, defaults and
 * checks. Every check runs at construction and names the option and the value;
 * nothing here touches TF.js. A subclass adds its own options and checks.
 */
import { show } from '../util/config_keys.js';
import { float32Problem } from '../util/f32.js';
import { NON_FINITE_POLICIES, type NonFinitePolicy } from './non_finite.js';
import {
  deserialize as deserializeSchedule, isLearningRateSchedule, isSerializedSchedule, LearningRateSchedule,
  type SerializedSchedule,
} from '../schedules/learning_rate_schedule.js';
import { resolveTrainingOptions, TRAINING_OPTION_KEYS, type TrainingOptions, type TrainingResolved } from './training_options.js';

/** A hyperparameter that may be re-read every step, as Keras allows. */
export type NumberOrFn = number | (() => number);
export type LearningRate = number | LearningRateSchedule | (() => number);

export interface BaseOptions extends TrainingOptions {
  /** Default 0.001. A number, a `LearningRateSchedule` (evaluated at the step before the increment), or a function called every step. */
  learningRate?: LearningRate | SerializedSchedule;
  /** Keras's deprecated alias of `learningRate`; wins over it when both are given, as in Keras. */
  lr?: LearningRate | SerializedSchedule;
  /** The optimizer's name. Default: the class name ('RMSprop'). */
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
   * Default 0 (none). Decoupled, as Keras 3 (`w −= w·weightDecay·lr` before each
   * update), in every flavor except 'pytorch', where it is PyTorch's coupled L2
   * (`g += weightDecay·w`). Finite and >= 0.
   */
  weightDecay?: number | null;
  /**
   * What a step does when a gradient holds NaN or ±Infinity. Default
   * 'propagate' (Keras: they flow into the variables and slots); 'skip' (the
   * step changes nothing, and `skippedSteps` counts it: static loss scaling);
   * 'error' (it throws, naming the variable, before any change).
   */
  nonFinite?: NonFinitePolicy;
}

/** The shared options after defaults and checks. */
export interface BaseResolved {
  readonly learningRate: LearningRate;
  readonly name: string;
  readonly clipnorm: number | null;
  readonly clipvalue: number | null;
  readonly globalClipnorm: number | null;
  readonly decay: number;
  readonly weightDecay: number;
  readonly nonFinite: NonFinitePolicy;
  /** Keras 3's EMA of the weights, gradient accumulation and loss scaling (training_options.ts). */
  readonly training: TrainingResolved;
}

export const BASE_OPTION_KEYS = [
  'learningRate', 'lr', 'name', 'clipnorm', 'clipvalue', 'globalClipnorm', 'decay', 'weightDecay', 'nonFinite',
  ...TRAINING_OPTION_KEYS,
] as const;

export const BASE_DEFAULTS = { learningRate: 0.001, decay: 0, weightDecay: 0 } as const;

/** A finite number in [lo, hi] that float32 can hold (−0 becomes 0). */
export function checkNumber(where: string, name: string, value: unknown, lo: number, hi: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`${where}: \`${name}\` must be a finite number, got ${show(value)}`);
  }
  if (value < lo || value > hi) {
    const range = hi === Infinity ? `>= ${lo}` : `in [${lo}, ${hi}]`;
    throw new RangeError(`${where}: \`${name}\` must be ${range}, got ${value}`);
  }
  const problem = float32Problem(value);
  if (problem !== null) throw new RangeError(`${where}: \`${name}\` = ${value} ${problem}`);
  // −0 passes every range check but is not 0 everywhere (1/−0 is −∞ in clip_by_global_norm).
  return value === 0 ? 0 : value;
}

export function checkNumberOrFn(where: string, name: string, value: unknown, lo: number, hi: number): NumberOrFn {
  if (typeof value === 'function') return value as () => number;
  return checkNumber(where, name, value, lo, hi);
}

function checkOptionalNonNegative(where: string, name: string, value: unknown): number | null {
  return value == null ? null : checkNumber(where, name, value, 0, Infinity);
}

export function checkLearningRate(where: string, name: string, value: unknown): LearningRate {
  if (typeof value === 'function') return value as () => number;
  if (isLearningRateSchedule(value)) return value;
  // A serialized schedule, as getConfig writes it and Keras's from_config reads it.
  if (isSerializedSchedule(value)) return deserializeSchedule(value);
  if (typeof value === 'number') return checkNumber(where, name, value, 0, Infinity);
  throw new TypeError(
    `${where}: \`${name}\` must be a number, a LearningRateSchedule or a function, got ${show(value)}`,
  );
}

/** Whether `value` is an object literal (or made by `Object.create(null)`), not an array, Map or class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Checks that `options` is an object of known keys (`known`, in the order listed in the error). */
export function checkOptionsObject(where: string, options: unknown, known: readonly string[]): Record<string, unknown> {
  if (options != null && !isPlainObject(options)) {
    throw new TypeError(`${where}: options must be a plain object ({...}), got ${show(options)}`);
  }
  const o = (options ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) {
      throw new TypeError(
        `${where}: unknown option ${show(key)} (value ${show(o[key])}); known options: ${known.join(', ')}`,
      );
    }
  }
  return o;
}

/** The shared options of `o` with Keras's defaults; throws, naming the option, before anything is built. */
export function resolveBaseOptions(where: string, o: Readonly<Record<string, unknown>>, defaultName: string): BaseResolved {
  const lrGiven = o.lr !== undefined ? o.lr : o.learningRate;
  const lrName = o.lr !== undefined ? 'lr' : 'learningRate';
  const learningRate = lrGiven === undefined ? BASE_DEFAULTS.learningRate : checkLearningRate(where, lrName, lrGiven);
  const weightDecay = o.weightDecay == null ? BASE_DEFAULTS.weightDecay : checkNumber(where, 'weightDecay', o.weightDecay, 0, Infinity);
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name === '')) {
    throw new TypeError(`${where}: \`name\` must be a non-empty string, got ${show(o.name)}`);
  }
  const clipnorm = checkOptionalNonNegative(where, 'clipnorm', o.clipnorm);
  const clipvalue = checkOptionalNonNegative(where, 'clipvalue', o.clipvalue);
  const globalClipnorm = checkOptionalNonNegative(where, 'globalClipnorm', o.globalClipnorm);
  if (clipnorm !== null && globalClipnorm !== null) {
    throw new TypeError(
      `${where}: cannot accept both \`clipnorm\` (${clipnorm}) and \`globalClipnorm\` (${globalClipnorm}); ` +
      'pass one of them',
    );
  }
  const decay = o.decay == null ? BASE_DEFAULTS.decay : checkNumber(where, 'decay', o.decay, 0, Infinity);
  if (o.nonFinite !== undefined && !(NON_FINITE_POLICIES as readonly unknown[]).includes(o.nonFinite)) {
    throw new TypeError(
      `${where}: \`nonFinite\` must be one of ${NON_FINITE_POLICIES.map((p) => `'${p}'`).join(', ')}, got ${show(o.nonFinite)}`,
    );
  }
  const training = resolveTrainingOptions(where, o);
  return {
    learningRate, name: (o.name as string | undefined) ?? defaultName, clipnorm, clipvalue, globalClipnorm, decay, weightDecay,
    nonFinite: (o.nonFinite as NonFinitePolicy | undefined) ?? 'propagate', training,
  };
}
