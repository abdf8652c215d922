/**
 * Who disposes the optimizer when a model is disposed (tfjs-layers' rule, the
 * same for TF.js's RMSprop and this one): the model disposes an optimizer it
 * built from a string; one passed to `compile` stays the caller's; and one
 * loaded with the model by `tf.loadLayersModel` is not disposed by
 * `model.dispose()` either, so it must be disposed by hand.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { RMSprop } from '../../src/index.js';
import { tf, useBackend, collectGarbage } from '../support/tf.js';
import { PROGRAMS } from './programs.js';
import { saved } from './training.js';

const dense = PROGRAMS.find((p) => p.id === 'dense')!;

async function trained(optimizer: string | tf.Optimizer): Promise<tf.LayersModel> {
  const model = dense.build();
  model.compile({ optimizer, loss: dense.loss });
  const { x, y } = dense.data();
  await model.fit(x, y, { epochs: 1, batchSize: 16, verbose: 0 });
  tf.dispose([x, y]);
  return model;
}

describe('optimizer ownership on model.dispose()', () => {
  before(() => useBackend('cpu'));

  test('built from a string: model.dispose() frees the optimizer too', async () => {
    await collectGarbage();
    const start = tf.memory().numTensors;
    const model = await trained('rmsprop');
    assert.equal(model.optimizer.getClassName(), 'RMSProp');
    model.dispose();
    await collectGarbage();
    assert.equal(tf.memory().numTensors, start);
  });

  for (const [name, make] of [
    ['tf.train.rmsprop', () => tf.train.rmsprop(0.01)],
    ['RMSprop', () => new RMSprop({ learningRate: 0.01 })],
  ] as const) {
    test(`${name} passed to compile: model.dispose() leaves it; the caller disposes it`, async () => {
      await collectGarbage();
    const start = tf.memory().numTensors;
      const opt = make();
      const model = await trained(opt);
      model.dispose();
      assert.ok(tf.memory().numTensors > start, 'the optimizer\'s state outlives the model');
      opt.dispose();
      await collectGarbage();
      assert.equal(tf.memory().numTensors, start, 'and is all the model left behind');
    });

    test(`${name} loaded with the model: model.dispose() leaves it too; dispose model.optimizer by hand`, async () => {
      const original = await trained(make());
      const artifacts = await saved(original);
      await collectGarbage();
    const start = tf.memory().numTensors;
      const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      assert.equal(loaded.optimizer.getClassName(), name === 'RMSprop' ? 'RMSprop' : 'RMSProp');
      const optimizer = loaded.optimizer;
      loaded.dispose();
      assert.ok(tf.memory().numTensors > start, 'the loaded optimizer\'s state outlives the model');
      optimizer.dispose();
      await collectGarbage();
      assert.equal(tf.memory().numTensors, start, 'and is all the loaded model left behind');
      original.optimizer.dispose();
      original.dispose();
    });
  }
});
