/**
 * Keras 3's `exclude_from_weight_decay(var_list, var_names)`: which variables
 * step without weight decay. A variable is excluded when it is listed, or when
 * any pattern is found in its name (Python's `re.search`: anywhere, unanchored).
 */
import * as tf from '@tensorflow/tfjs-core';
import { show } from '../util/config_keys.js';

/** What `RMSprop.excludeFromWeightDecay` takes (Keras 3's `var_list` and `var_names`). */
export interface WeightDecayExclusions {
  /** Variables that never decay. */
  varList?: readonly tf.Variable[];
  /**
   * Searched for in each variable's name; a string is a regular expression
   * source, as in Keras (`['bias']` excludes every variable with "bias" in its name).
   */
  varNames?: ReadonlyArray<string | RegExp>;
}

export interface DecayExclusion {
  readonly variables: ReadonlySet<tf.Variable>;
  readonly patterns: readonly RegExp[];
}

const KEYS: Record<string, keyof WeightDecayExclusions> = {
  varList: 'varList', varNames: 'varNames', var_list: 'varList', var_names: 'varNames',
};

/** Checks `value` and compiles it; throws, naming the argument, on anything else. */
export function parseExclusions(where: string, value: unknown): DecayExclusion {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${where}: expected {varList?, varNames?}, got ${show(value)}`);
  }
  for (const key of Object.keys(value)) {
    const known = KEYS[key];
    if (known === undefined) throw new TypeError(`${where}: unknown argument ${show(key)}; expected varList and/or varNames`);
    if (known !== key) throw new TypeError(`${where}: ${show(key)} is Python's spelling; pass ${known}`);
  }
  const { varList = [], varNames = [] } = value as { varList?: unknown; varNames?: unknown };
  if (!Array.isArray(varList)) throw new TypeError(`${where}: varList must be an array of tf.Variable, got ${show(varList)}`);
  varList.forEach((v, i) => {
    if (!(v instanceof tf.Variable)) throw new TypeError(`${where}: varList[${i}] must be a tf.Variable, got ${show(v)}`);
  });
  if (!Array.isArray(varNames)) throw new TypeError(`${where}: varNames must be an array of strings, got ${show(varNames)}`);
  const patterns = varNames.map((p, i) => {
    // A global or sticky RegExp keeps state between tests; the search needs none.
    if (p instanceof RegExp) return new RegExp(p.source, p.flags.replace(/[gy]/g, ''));
    if (typeof p !== 'string') throw new TypeError(`${where}: varNames[${i}] must be a string or RegExp, got ${show(p)}`);
    try {
      return new RegExp(p);
    } catch (e) {
      throw new SyntaxError(`${where}: varNames[${i}] (${show(p)}) is not a valid regular expression: ${(e as Error).message}`);
    }
  });
  return { variables: new Set(varList as tf.Variable[]), patterns };
}

export function isExcluded(exclusion: DecayExclusion, variable: tf.Variable): boolean {
  return exclusion.variables.has(variable) || exclusion.patterns.some((p) => p.test(variable.name));
}
