/**
 * `RMSprop.fromPyTorch`: `torch.optim.RMSprop`'s argument names, defaults and
 * checks, mapped onto our options with the 'pytorch' flavor. Accepts the
 * keyword arguments (`weightDecay` or PyTorch's `weight_decay`) and a
 * `state_dict()['param_groups'][0]` as JSON, whose bookkeeping keys
 * (`params`, `foreach`, `capturable`, `differentiable`, `initial_lr` written
 * by an lr scheduler) carry no arithmetic and are accepted. Also takes a list
 * of param groups with their variables, as far as one optimizer can hold them:
 * groups that differ only in weight decay, one value or zero (PyTorch's usual
 * decay / no-decay split), become an optimizer with `excludeFromWeightDecay`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { show } from '../util/config_keys.js';
import { float32Problem } from '../util/f32.js';
import type { LearningRate, RMSpropOptions } from './options.js';

/** PyTorch's constructor arguments, or a `param_groups` entry of its `state_dict` as JSON. */
export interface PyTorchParamGroup {
  /** Default 0.01. A number as in PyTorch; a schedule or function is also accepted (PyTorch's lr_scheduler has no JSON form). */
  lr?: LearningRate;
  /** Default 0.99: the smoothing constant (our `rho`). */
  alpha?: number;
  /** Default 1e-8, added after the square root. */
  eps?: number;
  /** Default 0. */
  momentum?: number;
  /** Default false. */
  centered?: boolean;
  /** Default 0: coupled L2, added to the gradient. */
  weightDecay?: number;
  /** PyTorch's spelling of `weightDecay`, as in a state_dict. */
  weight_decay?: number;
  /** Must be false: maximizing is not supported. */
  maximize?: boolean;
  /** Bookkeeping of a state_dict, accepted and ignored. */
  params?: readonly number[];
  foreach?: boolean | null;
  capturable?: boolean;
  differentiable?: boolean;
  /** Written by torch.optim.lr_scheduler; the current rate is `lr`. */
  initial_lr?: number;
}

/** Our options that PyTorch has no name for. */
export type PyTorchExtraOptions = Omit<
  RMSpropOptions,
  'learningRate' | 'lr' | 'rho' | 'momentum' | 'epsilon' | 'centered' | 'weightDecay' | 'flavor'
>;

export const PYTORCH_DEFAULTS = { lr: 0.01, alpha: 0.99, eps: 1e-8, momentum: 0, centered: false, weightDecay: 0 } as const;

const KNOWN = new Set([
  'lr', 'alpha', 'eps', 'momentum', 'centered', 'weightDecay', 'weight_decay',
  'maximize', 'params', 'foreach', 'capturable', 'differentiable', 'initial_lr',
]);
const IGNORED_FLAGS = ['foreach', 'capturable', 'differentiable'] as const;

const where = 'RMSprop.fromPyTorch';

function nonNegative(name: string, value: unknown, label: string): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`${where}: \`${name}\` must be a number, got ${show(value)}`);
  }
  // PyTorch's own checks: `if not 0.0 <= lr: raise ValueError(f"Invalid learning rate: {lr}")`, ...
  if (!(value >= 0)) throw new RangeError(`${where}: invalid ${label} \`${name}\` = ${value}; it must be >= 0`);
  if (!Number.isFinite(value)) throw new RangeError(`${where}: \`${name}\` must be finite, got ${value}`);
  const problem = float32Problem(value);
  if (problem !== null) throw new RangeError(`${where}: \`${name}\` = ${value} ${problem}`);
  return value;
}

/** Checks a PyTorch param group and returns the equivalent constructor options; throws before anything is built. */
export function pytorchOptions(group: PyTorchParamGroup, extra: PyTorchExtraOptions): RMSpropOptions {
  if (group === null || typeof group !== 'object' || Array.isArray(group)) {
    throw new TypeError(`${where}: expected PyTorch's arguments or a state_dict param group as an object, got ${show(group)}`);
  }
  if (extra === null || typeof extra !== 'object' || Array.isArray(extra)) {
    throw new TypeError(`${where}: \`extra\` must be an object of RMSprop options, got ${show(extra)}`);
  }
  const g = group as Record<string, unknown>;
  for (const key of Object.keys(g)) {
    if (!KNOWN.has(key)) {
      throw new TypeError(
        `${where}: unknown key ${show(key)} (value ${show(g[key])}); known keys: ${[...KNOWN].join(', ')}`,
      );
    }
  }
  for (const key of ['learningRate', 'lr', 'rho', 'momentum', 'epsilon', 'centered', 'weightDecay', 'flavor']) {
    if (key in (extra as Record<string, unknown>)) {
      throw new TypeError(`${where}: \`extra.${key}\` is not allowed; pass PyTorch's name in the first argument`);
    }
  }
  let lr: LearningRate = PYTORCH_DEFAULTS.lr;
  if (g.lr !== undefined) {
    lr = typeof g.lr === 'number' ? nonNegative('lr', g.lr, 'learning rate') : (g.lr as LearningRate);
  }
  const alpha = g.alpha === undefined ? PYTORCH_DEFAULTS.alpha : nonNegative('alpha', g.alpha, 'alpha value');
  if (alpha > 1) throw new RangeError(`${where}: \`alpha\` must be in [0, 1], got ${alpha}`);
  const eps = g.eps === undefined ? PYTORCH_DEFAULTS.eps : nonNegative('eps', g.eps, 'epsilon value');
  const momentum = g.momentum === undefined ? PYTORCH_DEFAULTS.momentum : nonNegative('momentum', g.momentum, 'momentum value');
  if (g.weightDecay !== undefined && g.weight_decay !== undefined && g.weightDecay !== g.weight_decay) {
    throw new TypeError(
      `${where}: \`weightDecay\` (${show(g.weightDecay)}) and \`weight_decay\` (${show(g.weight_decay)}) disagree; pass one`,
    );
  }
  const wdGiven = g.weightDecay ?? g.weight_decay;
  const weightDecay = wdGiven === undefined ? PYTORCH_DEFAULTS.weightDecay
    : nonNegative(g.weightDecay !== undefined ? 'weightDecay' : 'weight_decay', wdGiven, 'weight_decay value');
  if (g.centered !== undefined && typeof g.centered !== 'boolean') {
    throw new TypeError(`${where}: \`centered\` must be a boolean, got ${show(g.centered)}`);
  }
  if (g.maximize !== undefined && g.maximize !== false) {
    throw new TypeError(`${where}: \`maximize\` = ${show(g.maximize)} is not supported; negate the loss instead`);
  }
  for (const flag of IGNORED_FLAGS) {
    const v = g[flag];
    if (v !== undefined && v !== null && typeof v !== 'boolean') {
      throw new TypeError(`${where}: \`${flag}\` must be a boolean or null, got ${show(v)}`);
    }
  }
  if (g.params !== undefined && !Array.isArray(g.params)) {
    throw new TypeError(`${where}: \`params\` must be an array (a state_dict's parameter ids), got ${show(g.params)}`);
  }
  if (g.initial_lr !== undefined) nonNegative('initial_lr', g.initial_lr, 'learning rate');
  return {
    ...extra,
    learningRate: lr,
    rho: alpha,
    epsilon: eps,
    momentum,
    centered: (g.centered as boolean | undefined) ?? PYTORCH_DEFAULTS.centered,
    weightDecay,
    flavor: 'pytorch',
  };
}

/** A param group with its variables, as passed to `torch.optim.RMSprop([...])`. */
export interface PyTorchVariableGroup extends Omit<PyTorchParamGroup, 'params'> {
  params: readonly tf.Variable[];
}

const SHARED_OPTIONS = ['learningRate', 'rho', 'epsilon', 'momentum', 'centered'] as const;

/**
 * Options for one optimizer equivalent to PyTorch's param `groups` (each
 * group's keys over `defaults`), and the variables it must exclude from weight
 * decay. Throws, before anything is built, when the groups need more than one
 * optimizer: any difference but weight decay, or two non-zero weight decays.
 */
export function pytorchGroupsOptions(
  groups: readonly PyTorchVariableGroup[], defaults: PyTorchParamGroup, extra: PyTorchExtraOptions,
): { options: RMSpropOptions; excluded: tf.Variable[] } {
  if (groups.length === 0) throw new TypeError(`${where}: the list of param groups is empty`);
  if (defaults === null || typeof defaults !== 'object' || Array.isArray(defaults) || 'params' in defaults) {
    throw new TypeError(`${where}: the defaults after a list of param groups must be an object without \`params\`, got ${show(defaults)}`);
  }
  const seen = new Map<tf.Variable, number>();
  const resolved = groups.map((group, i) => {
    if (group === null || typeof group !== 'object' || !Array.isArray(group.params)) {
      throw new TypeError(`${where}: groups[${i}] must be {params: tf.Variable[], ...}, got ${show(group)}`);
    }
    group.params.forEach((v, j) => {
      if (!(v instanceof tf.Variable)) throw new TypeError(`${where}: groups[${i}].params[${j}] must be a tf.Variable, got ${show(v)}`);
      const other = seen.get(v);
      if (other !== undefined) throw new Error(`${where}: variable ${show(v.name)} is in groups[${other}] and groups[${i}]`);
      seen.set(v, i);
    });
    const { params, ...keys } = group;
    return { params, options: pytorchOptions({ ...defaults, ...keys }, extra) };
  });
  const first = resolved[0].options;
  resolved.forEach(({ options }, i) => {
    for (const key of SHARED_OPTIONS) {
      if (options[key] !== first[key]) {
        throw new Error(
          `${where}: groups[0] and groups[${i}] differ in ${key} (${show(first[key])} vs ${show(options[key])}); ` +
          'one optimizer takes groups that differ in weight decay only: use one optimizer per group',
        );
      }
    }
  });
  const decays = [...new Set(resolved.map(({ options }) => options.weightDecay as number).filter((wd) => wd !== 0))];
  if (decays.length > 1) {
    throw new Error(
      `${where}: the groups have weight decays ${decays.join(' and ')}; one optimizer takes one non-zero weight decay ` +
      '(and groups without): use one optimizer per weight decay',
    );
  }
  const weightDecay = decays[0] ?? 0;
  const excluded = weightDecay === 0 ? [] : resolved.filter(({ options }) => options.weightDecay === 0).flatMap(({ params }) => params);
  return { options: { ...first, weightDecay }, excluded };
}
