/**
 * Keras 3's training features together with the reliability policies: a
 * non-finite gradient under `nonFinite: 'skip'` or `'error'` during gradient
 * accumulation, failed `minimize` calls with a loss scale, the EMA and the
 * accumulator after `dispose()`, in `getWeights` snapshots, and released with
 * the variables the caller disposes.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { RMSprop } from '../../src/index.js';
import { assertBitEqual, BACKENDS, tf, useBackend } from '../support/tf.js';

const FEATURES = { momentum: 0.9, nesterov: true, useEma: true, gradientAccumulationSteps: 3, lossScaleFactor: 4 } as const;

function grad(seed: number): tf.Tensor {
  return tf.randomNormal([4, 3], 0, 1, 'float32', seed);
}

for (const backend of BACKENDS) {
  describe(`training features with the reliability policies (${backend})`, () => {
    before(() => useBackend(backend));

    test("nonFinite 'skip' drops a bad call entirely: nothing accumulates, the call is not counted, the window goes on", async () => {
      const run = async (withBadCall: boolean): Promise<{ w: Float32Array; ema: Float32Array; calls: number; iterations: number }> => {
        const v = tf.variable(tf.ones([4, 3]));
        const opt = new RMSprop({ ...FEATURES, nonFinite: 'skip' });
        const good = [1, 2, 3, 4, 5, 6, 7].map(grad);
        const bad = tf.tidy(() => tf.where(tf.equal(tf.range(0, 12).reshape([4, 3]), 5), tf.scalar(NaN), grad(99)));
        let calls = 0;
        for (let i = 0; i < good.length; i++) {
          if (withBadCall && i === 2) {
            const before = tf.memory().numTensors;
            const returned = opt.applyGradients([[bad, v]]);
            assert.equal(returned, 2, 'a skipped call returns the calls so far, unchanged');
            assert.equal(tf.memory().numTensors, before, 'a skipped call makes no tensors');
            assert.equal(opt.lastStepKernels()[0].kernel, 'skipped');
          }
          calls = opt.applyGradients([[good[i], v]]);
        }
        const w = Float32Array.from(await v.data());
        const emaT = opt.getEmaWeight(v);
        const ema = Float32Array.from(await emaT.data());
        const iterations = opt.iterations;
        assert.equal(opt.skippedSteps, withBadCall ? 1 : 0);
        tf.dispose([v, bad, emaT, ...good]);
        opt.dispose();
        return { w, ema, calls, iterations };
      };
      const clean = await run(false);
      const skipped = await run(true);
      assert.equal(skipped.calls, clean.calls);
      assert.equal(skipped.iterations, clean.iterations);
      assert.equal(clean.iterations, 2, '7 calls with 3 accumulation steps are 2 updates');
      assertBitEqual(skipped.w, clean.w, 'weights');
      assertBitEqual(skipped.ema, clean.ema, 'moving average');
    });

    test("nonFinite 'error' mid-window: the error names the variable and the accumulator keeps what it had", async () => {
      const v = tf.variable(tf.ones([4, 3]), true, 'acc_error');
      const opt = new RMSprop({ ...FEATURES, nonFinite: 'error' });
      const g = grad(1);
      opt.applyGradients([[g, v]]);
      const [, ...before] = await opt.getWeights();
      const bad = tf.fill([4, 3], Infinity);
      assert.throws(() => opt.applyGradients([[bad, v]]), /gradient for variable "acc_error\S*" holds NaN or ±Infinity \(nonFinite: 'error'\); nothing was changed/);
      const [iter, ...after] = await opt.getWeights();
      assert.equal((await iter.tensor.data())[0], 1, 'the refused call is not counted');
      assert.deepEqual(after.map((w) => w.name), before.map((w) => w.name));
      for (let k = 0; k < after.length; k++) assertBitEqual(await after[k].tensor.data() as Float32Array, await before[k].tensor.data() as Float32Array, after[k].name);
      tf.dispose([v, g, bad, iter.tensor, ...before.map((w) => w.tensor), ...after.map((w) => w.tensor)]);
      opt.dispose();
    });

    test('a minimize that fails with a loss scale leaves no tensor behind', () => {
      const v = tf.variable(tf.ones([3]));
      const opt = new RMSprop({ lossScaleFactor: 8 });
      const start = tf.memory().numTensors;
      // The loss depends on no listed variable: the differentiation refuses it.
      assert.throws(() => opt.minimize(() => tf.sum(tf.ones([3])), false, [v]));
      // The loss function throws after making tensors.
      assert.throws(() => opt.minimize(() => { tf.mul(v, 2); throw new Error('boom'); }, false, [v]), /boom/);
      assert.equal(tf.memory().numTensors, start);
      const cost = opt.minimize(() => tf.sum(tf.mul(v, v)), true, [v]);
      assert.equal(cost?.dataSync()[0], 3, 'the cost returned is the unscaled loss');
      cost?.dispose();
      opt.dispose();
      v.dispose();
    });

    test('getWeights with EMA and accumulation hands out snapshots; disposing them changes nothing', async () => {
      const v = tf.variable(tf.ones([4, 3]));
      const opt = new RMSprop(FEATURES);
      const g = grad(3);
      opt.applyGradients([[g, v]]);
      const saved = await opt.getWeights();
      assert.deepEqual(saved.map((w) => w.name.replace(/^.*\//, '')), ['iter', 'rms', 'momentum', 'ema', 'accumulator']);
      const acc = Float32Array.from(await saved[4].tensor.data());
      opt.applyGradients([[g, v]]);
      assertBitEqual(await saved[4].tensor.data() as Float32Array, acc, 'the snapshot of the accumulator after another call');
      tf.dispose(saved.map((w) => w.tensor));
      opt.applyGradients([[g, v]]);
      const ema = opt.getEmaWeight(v);
      assert.ok((await ema.data()).every(Number.isFinite));
      tf.dispose([v, g, ema]);
      opt.dispose();
    });

    test('the EMA and the accumulator go with a variable the caller disposes, and after dispose() getEmaWeight throws', () => {
      const keep = tf.tidy(() => tf.variable(tf.ones([2])));
      const opt = new RMSprop(FEATURES);
      const g2 = tf.ones([2]);
      opt.applyGradients([[g2, keep]]);
      const held = tf.memory().numTensors;
      for (let i = 0; i < 20; i++) {
        const v = tf.tidy(() => tf.variable(tf.ones([5])));
        const g = tf.ones([5]);
        opt.applyGradients([[g, v], [g2, keep]]);
        opt.getEmaWeight(v).dispose();
        tf.dispose([v, g]);
        assert.throws(() => opt.getEmaWeight(v), /getEmaWeight: variable "\S+" has been disposed/);
      }
      opt.applyGradients([[g2, keep]]);
      assert.equal(tf.memory().numTensors, held, 'slots, averages and accumulators of the disposed variables are freed');
      opt.dispose();
      assert.throws(() => opt.getEmaWeight(keep), /getEmaWeight: this optimizer has been disposed/);
      tf.dispose([keep, g2]);
    });
  });
}
