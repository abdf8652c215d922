/**
 * The epsilon difference in one step, the example of the porting guide: from
 * zero state, momentum 0, lr 0.01, ρ 0.9, ε 1e-7, a gradient of 1e-6.
 *   tf.train.rmsprop and 'tfjs':  lr·g / √(0.1·g² + ε)             = 3.1623e-5
 *   default flavor (TF 2.4):      lr·g / (√(0.100000024·g²) + ε)     = 0.024025
 * With a gradient of 1 the two agree to float32 rounding.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { RMSprop } from '../../src/index.js';
import { assertClose, BACKENDS, tf, useBackend } from '../support/tf.js';

before(() => useBackend('cpu'));

function firstStep(make: () => tf.Optimizer, g: number): number {
  const w = tf.variable(tf.scalar(0));
  const opt = make();
  tf.tidy(() => {
    if (opt instanceof RMSprop) opt.applyGradients([[tf.scalar(g), w]]);
    else opt.applyGradients({ [w.name]: tf.scalar(g) });
  });
  const step = -w.dataSync()[0];
  opt.dispose();
  w.dispose();
  return step;
}

test('a gradient of 1e-6 moves a weight 760 times further with the default flavor than with tf.train.rmsprop', () => {
  const g = 1e-6;
  const tfjs = firstStep(() => tf.train.rmsprop(0.01, 0.9, 0, 1e-7), g);
  const flavorTfjs = firstStep(() => new RMSprop({ learningRate: 0.01, rho: 0.9, flavor: 'tfjs' }), g);
  const keras2 = firstStep(() => new RMSprop({ learningRate: 0.01, rho: 0.9 }), g);
  assert.equal(flavorTfjs, tfjs);
  // Float64 formulas; float32 arithmetic is within a few roundings of them.
  assertClose([tfjs], [(0.01 * g) / Math.sqrt(0.1 * g * g + 1e-7)], 1e-6, 0, 'tf.train.rmsprop');
  assertClose([keras2], [(0.01 * g) / (Math.sqrt(Math.fround(1 - Math.fround(0.9)) * g * g) + 1e-7)], 1e-6, 0, 'default flavor');
  assert.equal(tfjs.toExponential(4), '3.1623e-5');
  assert.equal(keras2.toPrecision(5), '0.024025');
  assert.equal(Math.round(keras2 / tfjs), 760);
  // A gradient of 1: ε is negligible either way.
  assertClose([firstStep(() => new RMSprop({ learningRate: 0.01, rho: 0.9 }), 1)], [firstStep(() => tf.train.rmsprop(0.01, 0.9, 0, 1e-7), 1)], 1e-5, 0, 'g = 1');
});

test('tf.train.rmsprop\'s default epsilon is the backend\'s, 1e-7 on cpu and wasm (as this package\'s default)', async () => {
  for (const backend of BACKENDS) {
    await useBackend(backend);
    assert.equal(tf.backend().epsilon(), 1e-7);
    const opt = tf.train.rmsprop(0.01);
    assert.equal((opt.getConfig() as { epsilon: number }).epsilon, 1e-7);
    opt.dispose();
  }
  await useBackend('cpu');
});
