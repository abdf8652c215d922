/**
 * Keras 3's base-optimizer training options (`use_ema`, `ema_momentum`,
 * `ema_overwrite_frequency`, `gradient_accumulation_steps`,
 * `loss_scale_factor`): their types, defaults and checks, run at construction,
 * naming the option and the value. Keras's `null`/`false` defaults mean off.
 */
import { show } from '../util/config_keys.js';

export interface TrainingOptions {
  /** Keep an exponential moving average of the weights. Default false. */
  useEma?: boolean | null;
  /** The average's momentum: `avg = m·avg + (1 − m)·w`. Default 0.99; in [0, 1] (checked when `useEma` is on, as in Keras). */
  emaMomentum?: number | null;
  /**
   * Every this many optimizer steps (`iterations`), the weights are set to their
   * averages. Default null: never during training (`finalizeVariableValues()`
   * does it at the end). A positive integer (checked when `useEma` is on, as in Keras).
   */
  emaOverwriteFrequency?: number | null;
  /**
   * Average the gradients of this many calls and apply them as one update
   * (an integer >= 2); default null: every call updates.
   */
  gradientAccumulationSteps?: number | null;
  /** `minimize` multiplies the loss by it and every gradient is divided by it (> 0); default null: none. */
  lossScaleFactor?: number | null;
}

export interface TrainingResolved {
  readonly useEma: boolean;
  readonly emaMomentum: number;
  readonly emaOverwriteFrequency: number | null;
  readonly gradientAccumulationSteps: number | null;
  readonly lossScaleFactor: number | null;
}

export const TRAINING_OPTION_KEYS = ['useEma', 'emaMomentum', 'emaOverwriteFrequency', 'gradientAccumulationSteps', 'lossScaleFactor'] as const;

export const TRAINING_DEFAULTS: TrainingResolved = {
  useEma: false, emaMomentum: 0.99, emaOverwriteFrequency: null, gradientAccumulationSteps: null, lossScaleFactor: null,
};

function isNumber(v: unknown): v is number {
  return typeof v === 'number' && !Number.isNaN(v);
}

/** The training options of `o` with Keras's defaults; throws, naming the option, before anything is built. */
export function resolveTrainingOptions(where: string, o: Readonly<Record<string, unknown>>): TrainingResolved {
  if (o.useEma != null && typeof o.useEma !== 'boolean') {
    throw new TypeError(`${where}: \`useEma\` must be a boolean, got ${show(o.useEma)}`);
  }
  const useEma = o.useEma === true;
  let emaMomentum = TRAINING_DEFAULTS.emaMomentum;
  if (o.emaMomentum != null) {
    if (!isNumber(o.emaMomentum)) throw new TypeError(`${where}: \`emaMomentum\` must be a number, got ${show(o.emaMomentum)}`);
    if (useEma && !(o.emaMomentum >= 0 && o.emaMomentum <= 1)) {
      throw new RangeError(`${where}: \`emaMomentum\` must be in [0, 1], got ${o.emaMomentum}`);
    }
    emaMomentum = o.emaMomentum;
  }
  let emaOverwriteFrequency: number | null = null;
  if (o.emaOverwriteFrequency != null) {
    const f = o.emaOverwriteFrequency;
    if (!isNumber(f)) throw new TypeError(`${where}: \`emaOverwriteFrequency\` must be a positive integer or null, got ${show(f)}`);
    if (useEma && !(Number.isSafeInteger(f) && f >= 1)) {
      throw new RangeError(`${where}: \`emaOverwriteFrequency\` must be a positive integer or null, got ${f}`);
    }
    emaOverwriteFrequency = f;
  }
  let gradientAccumulationSteps: number | null = null;
  if (o.gradientAccumulationSteps != null && o.gradientAccumulationSteps !== false) {
    const n = o.gradientAccumulationSteps;
    if (!(isNumber(n) && Number.isSafeInteger(n) && n >= 2)) {
      throw new RangeError(`${where}: \`gradientAccumulationSteps\` must be an integer >= 2 or null, got ${show(n)}`);
    }
    gradientAccumulationSteps = n;
  }
  let lossScaleFactor: number | null = null;
  if (o.lossScaleFactor != null) {
    const x = o.lossScaleFactor;
    // Keras divides float32 gradients by it: its float32 value must be a finite non-zero number too.
    if (!(isNumber(x) && Number.isFinite(x) && x > 0 && Math.fround(x) > 0 && Number.isFinite(Math.fround(x)))) {
      throw new RangeError(`${where}: \`lossScaleFactor\` must be a finite number > 0 (in float32 too) or null, got ${show(x)}`);
    }
    lossScaleFactor = x;
  }
  return { useEma, emaMomentum, emaOverwriteFrequency, gradientAccumulationSteps, lossScaleFactor };
}

/** The options' `getConfig` keys, camelCase: only those that differ from Keras's defaults. */
export function trainingConfig(t: TrainingResolved): Record<string, number | boolean> {
  const out: Record<string, number | boolean> = {};
  if (t.useEma) {
    out.useEma = true;
    out.emaMomentum = t.emaMomentum;
    if (t.emaOverwriteFrequency !== null) out.emaOverwriteFrequency = t.emaOverwriteFrequency;
  }
  if (t.gradientAccumulationSteps !== null) out.gradientAccumulationSteps = t.gradientAccumulationSteps;
  if (t.lossScaleFactor !== null) out.lossScaleFactor = t.lossScaleFactor;
  return out;
}
