/**
 * The optimizer's lifecycle: after `dispose()` every method that reads or
 * changes state throws, saying so, and a second `dispose()` does nothing; a slot
 * handed out by `getSlot` and then disposed by the caller is named in an error
 * before any change; slots of variables the caller disposed are released (not
 * kept, not saved) and their names can be reused.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { IndexedSlices, RMSprop } from '../../src/index.js';
import { BACKENDS, collectGarbage, saveWithOptimizer, tf, useBackend } from '../support/tf.js';

for (const backend of BACKENDS) {
  describe(`optimizer lifecycle (${backend})`, () => {
    before(() => useBackend(backend));

    test('after dispose(), every state method throws an error that says so; a second dispose() is a no-op', async () => {
      const v = tf.variable(tf.ones([3]));
      const opt = new RMSprop({ momentum: 0.9 });
      opt.applyGradients([[tf.ones([3]), v]]);
      opt.dispose();
      opt.dispose();
      const disposed = /has been disposed \(its state is gone\); create a new one/;
      assert.throws(() => opt.applyGradients([[tf.ones([3]), v]]), disposed);
      assert.throws(() => opt.minimize(() => tf.sum(v) as tf.Scalar, [v]), disposed);
      assert.throws(() => opt.getSlot(v, 'rms'), disposed);
      assert.throws(() => opt.finalizeVariableValues(), disposed);
      assert.throws(() => opt.excludeFromWeightDecay({ varNames: ['bias'] }), disposed);
      await assert.rejects(opt.getWeights(), disposed);
      await assert.rejects(opt.setWeights([]), disposed);
      assert.equal(opt.iterations, 1, 'the count is still readable');
      assert.deepEqual(opt.getConfig().momentum, 0.9, 'and the config');
      v.dispose();
    });

    test('getWeights returns a snapshot the caller owns: disposing it changes nothing, steps do not change it', async () => {
      const v = tf.variable(tf.ones([3]));
      const twin = tf.variable(tf.ones([3]));
      const opt = new RMSprop({ momentum: 0.9 });
      const ref = new RMSprop({ momentum: 0.9 });
      const step = () => tf.tidy(() => {
        opt.applyGradients([[tf.tensor1d([1, -2, 3]), v]]);
        ref.applyGradients([[tf.tensor1d([1, -2, 3]), twin]]);
      });
      step();
      const first = await opt.getWeights();
      const second = await opt.getWeights();
      const snapshot = Array.from(first[1].tensor.dataSync());
      tf.dispose(second.map((w) => w.tensor));
      assert.ok(first.every((w) => !w.tensor.isDisposed), "a second call leaves the first call's tensors alone");
      step();
      step();
      assert.deepEqual(Array.from(first[1].tensor.dataSync()), snapshot, 'the snapshot keeps its values');
      assert.equal(first[0].tensor.dataSync()[0], 1);
      tf.dispose(first.map((w) => w.tensor));
      step();
      assert.deepEqual(Array.from(v.dataSync()), Array.from(twin.dataSync()), 'the optimizer went on as if nothing happened');
      assert.deepEqual(Array.from(opt.getSlot(v, 'momentum').dataSync()), Array.from(ref.getSlot(twin, 'momentum').dataSync()));
      for (const o of [opt, ref]) o.dispose();
      tf.dispose([v, twin]);
    });

    test('saving a model with its optimizer in a loop leaves no tensor behind once collected', async () => {
      const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] });
      const opt = new RMSprop();
      model.compile({ optimizer: opt, loss: 'meanSquaredError' });
      const x = tf.ones([4, 2]);
      const y = tf.ones([4, 1]);
      await model.fit(x, y, { epochs: 1, verbose: 0 });
      await saveWithOptimizer(model);
      await collectGarbage();
      const start = tf.memory().numTensors;
      for (let i = 0; i < 10; i++) {
        await saveWithOptimizer(model);
        await model.fit(x, y, { epochs: 1, verbose: 0 });
      }
      await collectGarbage();
      assert.equal(tf.memory().numTensors, start);
      model.dispose();
      opt.dispose();
      tf.dispose([x, y]);
    });

    test('a live slot the caller disposed is named in an error before anything changes', async () => {
      const a = tf.variable(tf.ones([2]), true, `lifecycle/${backend}/a`);
      const b = tf.variable(tf.ones([2]), true, `lifecycle/${backend}/b`);
      const opt = new RMSprop({ momentum: 0.5 });
      opt.applyGradients([[tf.ones([2]), a], [tf.ones([2]), b]]);
      const before = { a: Array.from(a.dataSync()), iterations: opt.iterations };
      opt.getSlot(b, 'momentum').dispose();
      assert.throws(() => opt.applyGradients([[tf.ones([2]), a], [tf.ones([2]), b]]),
        new RegExp(`the momentum slot of variable 'lifecycle/${backend}/b' has been disposed`));
      assert.deepEqual(Array.from(a.dataSync()), before.a, 'a unchanged');
      assert.equal(opt.iterations, before.iterations);
      await assert.rejects(opt.getWeights(), /momentum slot of variable .* has been disposed/);
      opt.dispose();
      tf.dispose([a, b]);
    });

    test('slots of variables the caller disposed are released, never saved, and a reused name gets fresh slots', async () => {
      const opt = new RMSprop({ momentum: 0.9, sparseMode: 'dense-equivalent' });
      const keep = tf.variable(tf.ones([4]), true, `lifecycle/${backend}/keep`);
      opt.applyGradients([[tf.ones([4]), keep]]);
      const start = tf.memory().numTensors;
      for (let i = 0; i < 50; i++) {
        const tmp = tf.tidy(() => tf.variable(tf.ones([3, 2]), true, `lifecycle/${backend}/tmp`));
        tf.tidy(() => opt.applyGradients([[new IndexedSlices(tf.ones([1, 2]), [i % 3]), tmp], [tf.ones([4]), keep]]));
        tmp.dispose();
      }
      tf.tidy(() => opt.applyGradients([[tf.ones([4]), keep]]));
      assert.equal(tf.memory().numTensors, start, 'no stale slot tensors');
      const reused = tf.variable(tf.zeros([3, 2]), true, `lifecycle/${backend}/tmp`);
      tf.tidy(() => opt.applyGradients([[tf.ones([3, 2]), reused]]));
      const names = (await opt.getWeights()).map((w) => w.name);
      assert.deepEqual(names, [
        'iter', `lifecycle/${backend}/keep/rms`, `lifecycle/${backend}/keep/momentum`,
        `lifecycle/${backend}/tmp/rms`, `lifecycle/${backend}/tmp/momentum`,
      ]);
      assert.equal(opt.getSlot(reused, 'rms').dataSync()[0], Math.fround(Math.fround(1 - Math.fround(0.9))), 'fresh state');
      opt.dispose();
      tf.dispose([keep, reused]);
    });
  });
}
