/**
 * getWeights/setWeights in Keras order, and getConfig/fromConfig, including a
 * config written by Python Keras.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { RMSprop } from '../../src/index.js';
import { assertClose, collectGarbage, tf, useBackend } from '../support/tf.js';

function run(opt: RMSprop, vars: tf.Variable[], steps: number, seed = 1): void {
  for (let s = 0; s < steps; s++) {
    opt.applyGradients(vars.map((v, i) => [tf.randomNormal(v.shape, 0, 1, 'float32', seed * 1000 + s * 10 + i), v] as [tf.Tensor, tf.Variable]));
  }
}

describe('getWeights / setWeights', () => {
  before(() => useBackend('cpu'));

  test('order is [iter, all rms, all momentum, all mg]; late variables are appended', async () => {
    const opt = new RMSprop({ momentum: 0.5, centered: true });
    const a = tf.variable(tf.zeros([2]), true, 'weights/order/a');
    const b = tf.variable(tf.zeros([3]), true, 'weights/order/b');
    const c = tf.variable(tf.zeros([1]), true, 'weights/order/c');
    opt.applyGradients([[tf.ones([2]), a], [tf.ones([3]), b]]);
    opt.applyGradients([[tf.ones([1]), c], [tf.ones([2]), a]]);
    const w = await opt.getWeights();
    assert.deepEqual(w.map((x) => x.name), [
      'iter',
      'weights/order/a/rms', 'weights/order/b/rms',
      'weights/order/a/momentum', 'weights/order/b/momentum',
      'weights/order/a/mg', 'weights/order/b/mg',
      'weights/order/c/rms', 'weights/order/c/momentum', 'weights/order/c/mg',
    ]);
    assert.equal(w[0].tensor.dtype, 'int32');
    assert.equal(w[0].tensor.dataSync()[0], 2);
  });

  test('getWeights hands out tensors the caller owns; dropped ones are freed by the collector (tfjs#8238)', async () => {
    const opt = new RMSprop();
    const v = tf.variable(tf.zeros([2]));
    opt.applyGradients([[tf.ones([2]), v]]);
    await collectGarbage(); // what earlier tests dropped
    const n = tf.memory().numTensors;
    tf.dispose((await opt.getWeights()).map((w) => w.tensor));
    assert.equal(tf.memory().numTensors, n, 'disposing them frees them');
    for (let i = 0; i < 5; i++) await opt.getWeights();
    assert.ok(tf.memory().numTensors > n, 'held until collected');
    await collectGarbage();
    assert.equal(tf.memory().numTensors, n, 'freed once collected');
    opt.dispose();
    v.dispose();
  });

  test('a restored optimizer continues exactly like the original', async () => {
    const make = () => new RMSprop({ learningRate: 0.05, momentum: 0.9, centered: true, decay: 0.01 });
    const init = [tf.randomNormal([3, 2], 0, 1, 'float32', 5), tf.randomNormal([4], 0, 1, 'float32', 6)];
    const original = make();
    const va = init.map((t) => tf.variable(t.clone()));
    run(original, va, 3);
    const saved = (await original.getWeights()).map((w) => ({ name: w.name, tensor: w.tensor.clone() }));
    const snapshot = va.map((v) => v.clone());
    run(original, va, 4, 2);

    // Restore into a fresh optimizer before it has seen any variable (as model loading does).
    const restored = make();
    await restored.setWeights(saved);
    assert.equal(restored.iterations, 3);
    assert.deepEqual((await restored.getWeights()).map((w) => w.name), saved.map((w) => w.name));
    const vb = snapshot.map((t) => tf.variable(t.clone()));
    run(restored, vb, 4, 2);
    va.forEach((v, i) => assertClose(vb[i].dataSync(), v.dataSync(), 0, 0, `variable ${i}`));
    for (const slot of ['rms', 'momentum', 'mg']) {
      va.forEach((v, i) => assertClose(restored.getSlot(vb[i], slot).dataSync(), original.getSlot(v, slot).dataSync(), 0, 0, slot));
    }

    // And into an optimizer that already has slots: positional, shape-checked.
    const again = make();
    const vc = snapshot.map((t) => tf.variable(t.clone()));
    run(again, vc, 1, 9);
    await again.setWeights(saved);
    vc.forEach((v, i) => v.assign(snapshot[i]));
    run(again, vc, 4, 2);
    va.forEach((v, i) => assertClose(vc[i].dataSync(), v.dataSync(), 0, 0, `variable ${i} (restored over existing slots)`));
  });

  test('a Keras list without the iteration count sets it to 0', async () => {
    const opt = new RMSprop();
    const v = tf.variable(tf.zeros([2]));
    opt.applyGradients([[tf.ones([2]), v]]);
    await opt.setWeights([{ name: 'rms', tensor: tf.tensor1d([4, 5]) }]);
    assert.equal(opt.iterations, 0);
    assertClose(opt.getSlot(v, 'rms').dataSync(), [4, 5], 0, 0, 'rms');
  });

  test('wrong count or shapes are errors that change nothing', async () => {
    const opt = new RMSprop({ momentum: 0.5 });
    const v = tf.variable(tf.zeros([2]), true, 'weights/bad/v');
    opt.applyGradients([[tf.ones([2]), v]]);
    const before = Array.from(opt.getSlot(v, 'rms').dataSync());
    await assert.rejects(opt.setWeights([{ name: 'iter', tensor: tf.scalar(3, 'int32') }]),
      /expected 3 weights \(the iteration count, then 2 slot\(s\) for each of 1 variables\), got 1/);
    await assert.rejects(opt.setWeights([
      { name: 'iter', tensor: tf.scalar(3, 'int32') },
      { name: 'x/rms', tensor: tf.zeros([3]) },
      { name: 'x/momentum', tensor: tf.zeros([2]) },
    ]), /weight 1 \("x\/rms"\) has shape \[3\], but weights\/bad\/v\/rms has shape \[2\]/);
    assert.deepEqual(Array.from(opt.getSlot(v, 'rms').dataSync()), before);
    assert.equal(opt.iterations, 1);
    const fresh = new RMSprop({ momentum: 0.5 });
    await assert.rejects(fresh.setWeights([
      { name: 'iter', tensor: tf.scalar(1, 'int32') }, { name: 'a/rms', tensor: tf.zeros([2]) },
    ]), /expected a multiple of 2 weights \(\[rms, momentum\] for each variable\), got 1/);
    await assert.rejects(fresh.setWeights([
      { name: 'iter', tensor: tf.scalar(1, 'int32') }, { name: 'a/rms', tensor: tf.zeros([2]) }, { name: 'a/momentum', tensor: tf.zeros([3]) },
    ]), /"a\/momentum" has shape \[3\] but "a\/rms" has shape \[2\]/);
    // Pending state that does not fit the variable it pairs with is caught before the step.
    await fresh.setWeights([{ name: 'iter', tensor: tf.scalar(1, 'int32') }, { name: 'a/rms', tensor: tf.zeros([5]) }, { name: 'a/momentum', tensor: tf.zeros([5]) }]);
    const w = tf.variable(tf.ones([2]));
    assert.throws(() => fresh.applyGradients([[tf.ones([2]), w]]), /state given to setWeights for 'a' has shape \[5\], but it pairs with variable/);
    assert.deepEqual(Array.from(w.dataSync()), [1, 1]);
  });
});

describe('getConfig / fromConfig', () => {
  before(() => useBackend('cpu'));

  test('keys in Keras order; clip keys only when set; functions serialized by value', () => {
    assert.deepEqual(new RMSprop().getConfig(), {
      name: 'RMSprop', learningRate: 0.001, decay: 0, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false,
    });
    const c = new RMSprop({ learningRate: () => 0.5, momentum: () => 0.25, clipvalue: 2, globalClipnorm: 3, name: 'opt' }).getConfig();
    assert.deepEqual(Object.keys(c), ['name', 'clipvalue', 'globalClipnorm', 'learningRate', 'decay', 'rho', 'momentum', 'epsilon', 'centered']);
    assert.equal(c.learningRate, 0.5);
    assert.equal(c.momentum, 0.25);
  });

  test('round trip through fromConfig and the tf.serialization registry', () => {
    const opt = new RMSprop({ learningRate: 0.5, rho: 0.8, momentum: 0.05, epsilon: 1e-6, centered: true, clipnorm: 1, decay: 0.1 });
    const back = RMSprop.fromConfig(RMSprop, opt.getConfig());
    assert.deepEqual(back.getConfig(), opt.getConfig());
    const cls = tf.serialization.SerializationMap.getMap().classNameMap.RMSprop;
    assert.ok(cls, 'registered under RMSprop');
    assert.equal(cls[0], RMSprop);
  });

  test('a config written by Python Keras 2.4 (snake_case, float32-rounded values)', () => {
    const python = {
      name: 'RMSprop', learning_rate: 0.0010000000474974513, decay: 0.0, rho: 0.8999999761581421,
      momentum: 0.0, epsilon: 1e-07, centered: false, global_clipnorm: 1.5, clipvalue: null,
    };
    const opt = RMSprop.fromConfig(RMSprop, python);
    assert.equal(opt.learningRate, 0.0010000000474974513);
    assert.equal(opt.globalClipnorm, 1.5);
    assert.equal(opt.clipvalue, null);
    assert.equal(Math.fround(opt.rho as number), Math.fround(0.9));
  });

  test('a Keras 3 config loads, with its training options (null/false defaults mean off)', () => {
    const keras3 = {
      name: 'rmsprop', learning_rate: 0.001, weight_decay: null, clipnorm: null, global_clipnorm: null, clipvalue: null,
      use_ema: false, ema_momentum: 0.99, ema_overwrite_frequency: null, loss_scale_factor: null,
      gradient_accumulation_steps: null, rho: 0.9, momentum: 0.0, epsilon: 1e-07, centered: false, jit_compile: true,
    };
    const plain = RMSprop.fromConfig(RMSprop, keras3);
    assert.equal(plain.name, 'rmsprop');
    assert.deepEqual([plain.useEma, plain.gradientAccumulationSteps, plain.lossScaleFactor], [false, null, null]);
    const active = RMSprop.fromConfig(RMSprop, {
      ...keras3, use_ema: true, ema_momentum: 0.9, ema_overwrite_frequency: 5, gradient_accumulation_steps: 4, loss_scale_factor: 128,
    });
    assert.deepEqual(
      [active.useEma, active.emaMomentum, active.emaOverwriteFrequency, active.gradientAccumulationSteps, active.lossScaleFactor],
      [true, 0.9, 5, 4, 128],
    );
    assert.throws(() => RMSprop.fromConfig(RMSprop, { ...keras3, gradient_accumulation_steps: 1 }), /`gradientAccumulationSteps` must be an integer >= 2 or null, got 1/);
  });

  test('fromConfig ignores the customObjects key that tfjs-layers injects, and rejects unknown keys', () => {
    assert.doesNotThrow(() => RMSprop.fromConfig(RMSprop, { learningRate: 0.1, customObjects: {} }));
    assert.throws(() => RMSprop.fromConfig(RMSprop, { learningRate: 0.1, beta1: 0.9 }), /unknown option "beta1"/);
  });
});
