/**
 * RMSprop's own options (the shared Keras ones are optimizer/options.ts): their
 * types, Keras defaults and checks, run at construction, naming the option and
 * the value; nothing here touches TF.js.
 */
import { show } from '../util/config_keys.js';
import { BACKEND_EPSILON } from '../util/f32.js';
import { FLAVORS, FLAVOR_SPECS, type Flavor } from '../rules/flavors.js';
import { SPARSE_MODES, type SparseMode } from '../sparse/modes.js';
import {
  BASE_OPTION_KEYS, checkNumber, checkNumberOrFn, checkOptionsObject, resolveBaseOptions,
  type BaseOptions, type BaseResolved, type NumberOrFn,
} from '../optimizer/options.js';

export type { LearningRate, NumberOrFn } from '../optimizer/options.js';

export interface RMSpropOptions extends BaseOptions {
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
   * optax's Nesterov momentum (`optax.rmsprop(..., nesterov=True)`):
   * `mom = μ·mom + s; w −= s + μ·mom`, `s` the flavor's scaled step. Default
   * false. Needs the momentum path (momentum > 0 or a function, or the 'tfjs' flavor).
   */
  nesterov?: boolean;
}

/** RMSprop's own options after defaults and checks. */
export interface RMSpropResolved {
  readonly rho: NumberOrFn;
  readonly momentum: NumberOrFn;
  readonly epsilon: number;
  readonly centered: boolean;
  readonly sparseMode: SparseMode;
  readonly flavor: Flavor;
  readonly nesterov: boolean;
  /** Whether the steps take the momentum path (a momentum slot): momentum > 0 or a function, or always ('tfjs'). */
  readonly momentumPath: boolean;
}

export const DEFAULTS = { rho: 0.9, momentum: 0, centered: false, sparseMode: 'keras2', flavor: 'keras2', nesterov: false } as const;

const where = 'RMSprop';

export const RMSPROP_OPTION_KEYS = [
  'learningRate', 'lr', 'rho', 'momentum', 'epsilon', 'centered', 'name',
  'clipnorm', 'clipvalue', 'globalClipnorm', 'decay', 'sparseMode', 'flavor', 'weightDecay', 'nonFinite', 'nesterov',
  'useEma', 'emaMomentum', 'emaOverwriteFrequency', 'gradientAccumulationSteps', 'lossScaleFactor',
] as const satisfies ReadonlyArray<string>;

// Every shared option is known: the list above only orders them for the error message.
BASE_OPTION_KEYS.forEach((k) => { if (!(RMSPROP_OPTION_KEYS as readonly string[]).includes(k)) throw new Error(`RMSprop: option list lacks ${k}`); });

/** Applies the Keras defaults and checks every option; throws before anything is built. */
export function resolveOptions(options: RMSpropOptions | undefined): { base: BaseResolved; own: RMSpropResolved } {
  const o = checkOptionsObject(where, options, RMSPROP_OPTION_KEYS);
  const base = resolveBaseOptions(where, o, 'RMSprop');
  const rho = o.rho === undefined ? DEFAULTS.rho : checkNumberOrFn(where, 'rho', o.rho, 0, 1);
  const momentum = o.momentum === undefined ? DEFAULTS.momentum : checkNumberOrFn(where, 'momentum', o.momentum, 0, 1);
  if (o.flavor !== undefined && !(FLAVORS as readonly unknown[]).includes(o.flavor)) {
    throw new TypeError(`${where}: \`flavor\` must be one of ${FLAVORS.map((f) => `'${f}'`).join(', ')}, got ${show(o.flavor)}`);
  }
  const flavor = (o.flavor as Flavor | undefined) ?? DEFAULTS.flavor;
  // TF 2.4: `epsilon or backend.epsilon()`; Keras 3, PyTorch and TF.js keep 0.
  const epsilon = o.epsilon == null || (o.epsilon === 0 && FLAVOR_SPECS[flavor].zeroEpsilonIsDefault)
    ? BACKEND_EPSILON : checkNumber(where, 'epsilon', o.epsilon, 0, Infinity);
  if (o.centered !== undefined && typeof o.centered !== 'boolean') {
    throw new TypeError(`${where}: \`centered\` must be a boolean, got ${show(o.centered)}`);
  }
  if (o.sparseMode !== undefined && !(SPARSE_MODES as readonly unknown[]).includes(o.sparseMode)) {
    throw new TypeError(`${where}: \`sparseMode\` must be one of ${SPARSE_MODES.map((m) => `'${m}'`).join(', ')}, got ${show(o.sparseMode)}`);
  }
  const momentumPath = typeof momentum === 'function' || momentum > 0 || FLAVOR_SPECS[flavor].momentumSlot === 'always';
  if (o.nesterov != null && typeof o.nesterov !== 'boolean') {
    throw new TypeError(`${where}: \`nesterov\` must be a boolean, got ${show(o.nesterov)}`);
  }
  const nesterov = (o.nesterov as boolean | null | undefined) ?? DEFAULTS.nesterov;
  if (nesterov && !momentumPath) {
    throw new RangeError(
      `${where}: \`nesterov\` = true needs the momentum path (momentum > 0 or a function), got momentum ${show(momentum)}`,
    );
  }
  return {
    base,
    own: {
      rho, momentum, epsilon, flavor, nesterov, momentumPath,
      centered: (o.centered as boolean | undefined) ?? DEFAULTS.centered,
      sparseMode: (o.sparseMode as SparseMode | undefined) ?? DEFAULTS.sparseMode,
    },
  };
}
