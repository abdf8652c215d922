/**
 * `RMSprop`: the optimizer of `tf.keras.optimizers.RMSprop` (TensorFlow 2.4).
 * Like Keras 3's rmsprop.py, this class only declares its slots and step
 * scalars, picks its update rule and adds its config; the Keras contract is
 * optimizer/keras_optimizer.ts, the arithmetic src/rules, the implementations
 * src/kernels and the sparse rows src/sparse.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SlotName, SlotSet } from '../kernels/types.js';
import { FLAVOR_SPECS, type Flavor } from '../rules/flavors.js';
import type { StepScalars, UpdateForm } from '../rules/types.js';
import type { SparseMode } from '../sparse/modes.js';
import { optionsFromConfig } from '../optimizer/config.js';
import { KerasOptimizer } from '../optimizer/keras_optimizer.js';
import type { BaseScalars } from '../optimizer/learning_rate.js';
import { resolveOptions, RMSPROP_OPTION_KEYS, type NumberOrFn, type RMSpropOptions } from './options.js';
import {
  pytorchGroupsOptions, pytorchOptions, type PyTorchExtraOptions, type PyTorchParamGroup, type PyTorchVariableGroup,
} from './pytorch_compat.js';
import { rmspropScalars } from './scalars.js';
import { rmspropUpdate } from './update.js';

export type { RMSpropOptions, LearningRate, NumberOrFn } from './options.js';
export type { PyTorchParamGroup, PyTorchExtraOptions, PyTorchVariableGroup } from './pytorch_compat.js';
export type { WeightDecayExclusions } from '../optimizer/weight_decay.js';

export class RMSprop extends KerasOptimizer<SlotSet, StepScalars> {
  /** The name this class is registered under with `tf.serialization` (TF.js's own is 'RMSProp'). */
  static get className(): string {
    return 'RMSprop';
  }

  readonly rho: NumberOrFn;
  readonly momentum: NumberOrFn;
  readonly epsilon: number;
  readonly centered: boolean;
  readonly sparseMode: SparseMode;
  /** Whose arithmetic the steps reproduce (rules/flavors.ts). */
  readonly flavor: Flavor;
  /** optax's Nesterov momentum on the momentum path. */
  readonly nesterov: boolean;
  /**
   * The path, fixed at construction: 'momentum' when momentum > 0 or is a
   * function (TF 2.4's rule; Keras 3 and PyTorch test momentum > 0 the same
   * way), and always for 'tfjs', which keeps a momentum buffer even for 0.
   */
  readonly form: UpdateForm;

  constructor(options: RMSpropOptions = {}) {
    const { base, own } = resolveOptions(options);
    const slotNames: SlotName[] = ['rms'];
    if (own.momentumPath) slotNames.push('momentum');
    if (own.centered) slotNames.push('mg');
    // `flavor` and `nesterov` are left out at their defaults, so the form stays TF 2.4's shape.
    const form: UpdateForm = {
      path: own.momentumPath ? 'momentum' : 'plain', centered: own.centered,
      ...(own.flavor !== 'keras2' ? { flavor: own.flavor } : {}), ...(own.nesterov ? { nesterov: true } : {}),
    };
    super(base, slotNames, rmspropUpdate(form, own.sparseMode));
    this.rho = own.rho;
    this.momentum = own.momentum;
    this.epsilon = own.epsilon;
    this.centered = own.centered;
    this.sparseMode = own.sparseMode;
    this.flavor = own.flavor;
    this.nesterov = own.nesterov;
    this.form = form;
  }

  /**
   * An optimizer with `torch.optim.RMSprop`'s argument names and defaults (lr
   * 0.01, alpha 0.99, eps 1e-8, momentum 0, centered false, weightDecay 0) and
   * the 'pytorch' flavor. Also takes a PyTorch `state_dict()['param_groups'][0]`
   * as JSON (snake_case `weight_decay`, and its flags). `extra` carries the
   * options PyTorch has no name for (name, clipping, sparseMode, decay).
   */
  static fromPyTorch(group?: PyTorchParamGroup, extra?: PyTorchExtraOptions): RMSprop;
  /**
   * PyTorch's list of param groups with their variables, each group's keys over
   * `defaults` (`torch.optim.RMSprop([{params, weight_decay}, ...], lr=...)`).
   * Groups may differ in weight decay only, one non-zero value or zero: the
   * usual decay / no-decay split, made with `excludeFromWeightDecay`.
   */
  static fromPyTorch(groups: readonly PyTorchVariableGroup[], defaults?: PyTorchParamGroup, extra?: PyTorchExtraOptions): RMSprop;
  static fromPyTorch(
    first: PyTorchParamGroup | readonly PyTorchVariableGroup[] = {}, second: PyTorchParamGroup | PyTorchExtraOptions = {},
    third: PyTorchExtraOptions = {},
  ): RMSprop {
    if (!Array.isArray(first)) return new RMSprop(pytorchOptions(first as PyTorchParamGroup, second as PyTorchExtraOptions));
    const { options, excluded } = pytorchGroupsOptions(first, second as PyTorchParamGroup, third);
    const opt = new RMSprop(options);
    if (excluded.length > 0) opt.excludeFromWeightDecay({ varList: excluded });
    return opt;
  }

  protected stepScalars(base: BaseScalars): StepScalars {
    return rmspropScalars(base, this);
  }

  /** RMSprop's keys of Keras's `get_config`; a function as its current value. */
  protected ownConfig(): tf.serialization.ConfigDict {
    const value = (v: NumberOrFn): number => (typeof v === 'function' ? v() : v);
    const config: tf.serialization.ConfigDict = {
      rho: value(this.rho), momentum: value(this.momentum), epsilon: this.epsilon, centered: this.centered,
    };
    if (this.sparseMode !== 'keras2') config.sparseMode = this.sparseMode;
    if (this.flavor !== 'keras2') config.flavor = this.flavor;
    // A momentum function is saved as its current value, as Keras saves callables; where that
    // value is 0 the saved config takes the plain path, on which Nesterov momentum does not exist.
    if (this.nesterov && ((config.momentum as number) > 0 || FLAVOR_SPECS[this.flavor].momentumSlot === 'always')) config.nesterov = true;
    return config;
  }

  /** Builds an optimizer from `getConfig()` output or a Python Keras config (snake_case keys). */
  static override fromConfig(cls: typeof RMSprop, config: tf.serialization.ConfigDict): RMSprop;
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict,
  ): T;
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict,
  ): T {
    return new cls(optionsFromConfig('RMSprop.fromConfig', config, RMSPROP_OPTION_KEYS));
  }
}

tf.serialization.registerClass(RMSprop);
