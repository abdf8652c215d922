/**
 * Keras's SGD with momentum (TF 2.4 `gradient_descent.py`, non-Nesterov) on
 * this package's generic Keras base: the proof that the base is not
 * RMSprop-shaped. It declares a slot, its step scalars, an op-chain kernel and
 * its config; everything else (call forms, clipping, iterations, schedules,
 * weights, save and load) comes from the base. Test code, not shipped.
 *   m = momentum·m − lr·g;  w = w + m
 */
import * as tf from '@tensorflow/tfjs';
import { optionsFromConfig } from '../../../src/optimizer/config.js';
import { KerasOptimizer } from '../../../src/optimizer/keras_optimizer.js';
import type { BaseScalars } from '../../../src/optimizer/learning_rate.js';
import { BASE_OPTION_KEYS, checkNumber, checkOptionsObject, resolveBaseOptions, type BaseOptions } from '../../../src/optimizer/options.js';
import type { StepKernel } from '../../../src/optimizer/update_rule.js';

interface SgdSlots {
  readonly momentum: tf.Variable;
}

interface SgdScalars extends BaseScalars {
  readonly momentum: number;
}

export interface KerasSGDOptions extends BaseOptions {
  momentum?: number;
}

const opChain: StepKernel<SgdSlots, SgdScalars> = {
  name: 'sgd-ops',
  unsupportedReason: () => null,
  run(updates, s) {
    for (const { variable, grad, slots } of updates) {
      tf.tidy(() => {
        const m = tf.sub(tf.mul(slots.momentum, s.momentum), tf.mul(grad, s.lr));
        slots.momentum.assign(m);
        variable.assign(tf.add(variable, m));
      });
    }
  },
};

export class KerasSGD extends KerasOptimizer<SgdSlots, SgdScalars> {
  static get className(): string {
    return 'KerasSGD';
  }

  readonly momentum: number;

  constructor(options: KerasSGDOptions = {}) {
    const o = checkOptionsObject('KerasSGD', options, [...BASE_OPTION_KEYS, 'momentum']);
    super(resolveBaseOptions('KerasSGD', o, 'SGD'), ['momentum'], { kernels: () => [opChain], sparse: null });
    this.momentum = o.momentum === undefined ? 0 : checkNumber('KerasSGD', 'momentum', o.momentum, 0, 1);
  }

  protected stepScalars(base: BaseScalars): SgdScalars {
    return { ...base, momentum: Math.fround(this.momentum) };
  }

  protected ownConfig(): tf.serialization.ConfigDict {
    return { momentum: this.momentum, nesterov: false };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict,
  ): T {
    const { nesterov, ...options } = optionsFromConfig('KerasSGD.fromConfig', config, [...BASE_OPTION_KEYS, 'momentum', 'nesterov']);
    if (nesterov !== false) throw new TypeError('KerasSGD.fromConfig: nesterov is not implemented');
    return new cls(options);
  }
}

tf.serialization.registerClass(KerasSGD);
