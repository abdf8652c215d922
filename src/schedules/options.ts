/**
 * Validation of schedule options, shared by the built-in schedules. Everything is
 * checked at construction (which `fromConfig` goes through too), and each error
 * names the class, the argument and the value. Keras 2.4 checks almost nothing
 * and returns inf or NaN later; we refuse such values up front.
 */
import { show } from '../util/config_keys.js';
import { float32Problem } from '../util/f32.js';

export interface NumberRule {
  /** Inclusive lower bound. */
  min?: number;
  /** Exclusive lower bound. */
  above?: number;
}

export class OptionReader {
  constructor(
    private readonly where: string,
    private readonly options: Readonly<Record<string, unknown>>,
    known: readonly string[],
  ) {
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new TypeError(`${where}: expected an options object, got ${show(options)}`);
    }
    const allowed = new Set(known);
    for (const key of Object.keys(options)) {
      if (!allowed.has(key)) {
        throw new TypeError(`${where}: unknown option \`${key}\` (= ${show(options[key])}); expected some of ${known.join(', ')}`);
      }
    }
  }

  private has(key: string): boolean {
    return this.options[key] !== undefined;
  }

  /** A finite number; `fallback` when absent (required when there is none). */
  number(key: string, rule: NumberRule = {}, fallback?: number): number {
    if (!this.has(key)) {
      if (fallback !== undefined) return fallback;
      throw new TypeError(`${this.where}: \`${key}\` is required, got undefined`);
    }
    return checkNumber(this.where, key, this.options[key], rule);
  }

  /** A finite number, or null when absent or null. */
  optionalNumber(key: string, rule: NumberRule = {}): number | null {
    const v = this.options[key];
    return v == null ? null : checkNumber(this.where, key, v, rule);
  }

  boolean(key: string, fallback: boolean): boolean {
    if (!this.has(key)) return fallback;
    const v = this.options[key];
    if (typeof v !== 'boolean') throw new TypeError(`${this.where}: \`${key}\` must be a boolean, got ${show(v)}`);
    return v;
  }

  /** Keras's `name`: a string or null (the default, as Keras 2.4 stores it). */
  name(): string | null {
    const v = this.options.name;
    if (v == null) return null;
    if (typeof v !== 'string') throw new TypeError(`${this.where}: \`name\` must be a string or null, got ${show(v)}`);
    return v;
  }

  numberArray(key: string, rule: NumberRule = {}): number[] {
    const v = this.options[key];
    if (!Array.isArray(v)) throw new TypeError(`${this.where}: \`${key}\` must be an array of numbers, got ${show(v)}`);
    return v.map((x, i) => checkNumber(this.where, `${key}[${i}]`, x, rule));
  }
}

export function checkNumber(where: string, key: string, value: unknown, rule: NumberRule): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`${where}: \`${key}\` must be a finite number, got ${show(value)}`);
  }
  if (rule.above !== undefined && !(value > rule.above)) {
    throw new RangeError(`${where}: \`${key}\` must be > ${rule.above}, got ${value}`);
  }
  if (rule.min !== undefined && !(value >= rule.min)) {
    throw new RangeError(`${where}: \`${key}\` must be >= ${rule.min}, got ${value}`);
  }
  const problem = float32Problem(value);
  if (problem !== null) throw new RangeError(`${where}: \`${key}\` = ${value} ${problem}`);
  return value === 0 ? 0 : value;
}

/** The optimizer passes iteration counts; anything else is a caller's mistake. */
export function checkStep(where: string, step: number): void {
  if (typeof step !== 'number' || !Number.isFinite(step) || step < 0) {
    throw new RangeError(`${where}.valueAt: \`step\` must be a finite number >= 0, got ${show(step)}`);
  }
}
