/**
 * Optimizer configs as Keras and TF.js write them: camelCase from `getConfig`,
 * or snake_case from Python Keras, possibly with TF.js's injected
 * `customObjects`, turned into constructor options.
 */
import { camelCaseKeys, show, snakeToCamel } from '../util/config_keys.js';
import { isPlainObject } from './options.js';
import { deserialize as deserializeSchedule, isSerializedSchedule } from '../schedules/learning_rate_schedule.js';

/**
 * Keys that Keras 3 (and Keras 2.11+) write into an optimizer config with no
 * meaning here; accepted by `fromConfig` so such a config loads. (Keras 3's
 * training options, `use_ema` to `gradient_accumulation_steps`, are options of
 * the base: training_options.ts.)
 */
const INERT_KERAS_KEYS: Readonly<Record<string, (v: unknown) => boolean>> = {
  jitCompile: () => true,
  isLegacyOptimizer: () => true,
};

/**
 * Constructor options from a config; `where` names the method in messages
 * (`RMSprop.fromConfig`), `known` the options the class takes (camelCase).
 * Checked before anything is built: a plain object, every key known in one of
 * its spellings, named as it was given.
 */
export function optionsFromConfig(where: string, config: unknown, known: readonly string[]): Record<string, unknown> {
  if (!isPlainObject(config)) {
    throw new TypeError(`${where}: \`config\` must be a plain object of options, got ${show(config)}`);
  }
  for (const key of Object.keys(config)) {
    const camel = snakeToCamel(key);
    if (camel !== 'customObjects' && !known.includes(camel) && !(camel in INERT_KERAS_KEYS)) {
      throw new TypeError(`${where}: \`config\` has an unknown option ${show(key)} (value ${show(config[key])}); known options: ${known.join(', ')}`);
    }
  }
  const c = camelCaseKeys(config, where);
  delete c.customObjects;
  for (const [key, isInert] of Object.entries(INERT_KERAS_KEYS)) {
    if (!(key in c)) continue;
    if (!isInert(c[key])) {
      throw new TypeError(`${where}: \`${key}\` = ${show(c[key])} is not supported by this optimizer`);
    }
    delete c[key];
  }
  for (const key of ['clipnorm', 'clipvalue', 'globalClipnorm'] as const) {
    if (c[key] === null) delete c[key];
  }
  for (const key of ['learningRate', 'lr'] as const) {
    if (isSerializedSchedule(c[key])) c[key] = deserializeSchedule(c[key]);
  }
  return c;
}
