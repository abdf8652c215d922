/**
 * `instanceof RMSprop` is true for this class and its subclasses only (TF.js's
 * `Optimizer` answers `instanceof` by duck typing, and a subclass would inherit
 * that), while TF.js's own checks that accept any optimizer keep accepting it:
 * `instanceof tf.Optimizer` in model.compile, and tf.serialization through
 * save → load.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { RMSprop } from '../../src/index.js';
import { tf, useBackend } from '../support/tf.js';
import { saveAndLoad } from './training.js';

class MyRMSprop extends RMSprop {
  static override get className(): string {
    return 'MyRMSprop';
  }
}
tf.serialization.registerClass(MyRMSprop);

describe('instanceof RMSprop', () => {
  before(() => useBackend('cpu'));

  test('false for TF.js\'s optimizers, duck-typed objects and non-objects', () => {
    const others = [tf.train.adam(0.1), tf.train.rmsprop(0.1), tf.train.sgd(0.1), tf.train.momentum(0.1, 0.9)];
    const duck = { minimize: () => null, computeGradients: () => null, applyGradients: () => undefined };
    for (const o of [...others, duck]) {
      assert.ok(o instanceof tf.Optimizer, 'TF.js still calls it an optimizer');
      assert.ok(!(o instanceof RMSprop), `${o.constructor.name} is not an RMSprop`);
    }
    for (const v of [null, undefined, 0, 'RMSprop', {}]) assert.equal((v as unknown) instanceof RMSprop, false);
    for (const o of others) o.dispose();
  });

  test('true for RMSprop, however built, and for subclasses; a subclass check stays a subclass check', () => {
    const made = [new RMSprop(), RMSprop.fromPyTorch(), RMSprop.fromConfig(RMSprop, new RMSprop({ flavor: 'tfjs' }).getConfig()), new MyRMSprop()];
    for (const o of made) {
      assert.ok(o instanceof RMSprop);
      assert.ok(o instanceof tf.Optimizer);
      assert.ok(o instanceof tf.serialization.Serializable);
    }
    assert.ok(new MyRMSprop() instanceof MyRMSprop);
    assert.ok(!(new RMSprop() instanceof MyRMSprop));
  });

  test('model.compile accepts it, and save → load brings back the class (a registered subclass too)', async () => {
    for (const opt of [new RMSprop({ momentum: 0.5 }), new MyRMSprop({ momentum: 0.5 })]) {
      const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] });
      model.compile({ optimizer: opt, loss: 'meanSquaredError' });
      assert.equal(model.optimizer, opt);
      const x = tf.ones([4, 2]);
      const y = tf.zeros([4, 1]);
      await model.fit(x, y, { epochs: 1, verbose: 0 });
      const loaded = await saveAndLoad(model);
      assert.equal(loaded.optimizer.constructor, opt.constructor);
      assert.ok(loaded.optimizer instanceof RMSprop);
      assert.equal(loaded.optimizer instanceof MyRMSprop, opt instanceof MyRMSprop);
      assert.equal(loaded.optimizer.iterations, 1);
      for (const m of [model, loaded]) {
        m.optimizer.dispose();
        m.dispose();
      }
      tf.dispose([x, y]);
    }
  });
});
