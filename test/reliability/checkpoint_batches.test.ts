/**
 * A checkpoint of an optimizer whose variables took their first step at
 * different steps. getWeights keeps Keras's order per batch of variables that
 * got slots together ([a/rms, a/mg, b/rms, b/mg] for a then b), so setWeights
 * on a new optimizer must pair each weight with its variable and slot by name,
 * not by assuming one batch ([all rms, all mg]): that refused differing shapes
 * and, for equal shapes, gave one variable's rms to another's mg.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { RMSprop } from '../../src/index.js';
import { assertBitEqual, tf, useBackend } from '../support/tf.js';

describe('a checkpoint of variables that joined at different steps', () => {
  before(() => useBackend('cpu'));

  for (const shapes of [[[2], [3]], [[2], [2]]]) {
    test(`restores into a new optimizer by name (shapes ${JSON.stringify(shapes)})`, async () => {
      const make = (tag: string) => shapes.map((s, i) => tf.tidy(() => tf.variable(tf.linspace(1, 2, s[0]), true, `ckpt-${tag}-${shapes[1][0]}/${'ab'[i]}`)));
      const step = (opt: RMSprop, vars: tf.Variable[], which: number[]) =>
        tf.tidy(() => opt.applyGradients(which.map((i) => [tf.fill(shapes[i], i + 1), vars[i]] as [tf.Tensor, tf.Variable])));
      // The reference: one optimizer all along.
      const ref = make('ref');
      const whole = new RMSprop({ centered: true, learningRate: 0.1 });
      step(whole, ref, [0]);
      step(whole, ref, [1]);
      step(whole, ref, [0, 1]);
      // A checkpoint after two steps, restored into a new optimizer.
      const vars = make('ckpt');
      const first = new RMSprop({ centered: true, learningRate: 0.1 });
      step(first, vars, [0]);
      step(first, vars, [1]);
      const weights = await first.getWeights();
      assert.deepEqual(weights.map((w) => w.name.replace(/.*\//, '')), ['iter', 'rms', 'mg', 'rms', 'mg']);
      const second = new RMSprop({ centered: true, learningRate: 0.1 });
      await second.setWeights(weights);
      step(second, vars, [0, 1]);
      for (const [i, v] of vars.entries()) {
        assertBitEqual(Float32Array.from(v.dataSync()), Float32Array.from(ref[i].dataSync()), `${v.name}`);
        for (const slot of ['rms', 'mg']) {
          assertBitEqual(Float32Array.from(second.getSlot(v, slot).dataSync()), Float32Array.from(whole.getSlot(ref[i], slot).dataSync()), `${v.name}/${slot}`);
        }
      }
      for (const o of [whole, first, second]) o.dispose();
      tf.dispose([...ref, ...vars, ...weights.map((w) => w.tensor)]);
    });
  }
});

describe('state kept for a variable that has not stepped since setWeights', () => {
  before(() => useBackend('cpu'));

  // State setWeights keeps for a variable's first gradient is part of a checkpoint taken before
  // that gradient, after the slots of the variables that have stepped.
  test('is saved by getWeights until it is used, and restored from such a checkpoint', async () => {
    const a = tf.tidy(() => tf.variable(tf.ones([2]), true, 'pending-kept/a'));
    const b = tf.tidy(() => tf.variable(tf.ones([3]), true, 'pending-kept/b'));
    const first = new RMSprop();
    tf.tidy(() => first.applyGradients([[tf.ones([2]), a], [tf.ones([3]), b]]));
    const saved = await first.getWeights();
    const second = new RMSprop();
    await second.setWeights(saved);
    tf.tidy(() => second.applyGradients([[tf.ones([2]), a]]));
    const again = await second.getWeights();
    try {
      assert.deepEqual(again.map((w) => w.name), ['iter', 'pending-kept/a/rms', 'pending-kept/b/rms']);
      // That checkpoint goes back into an optimizer that has stepped a, b's state still waiting for b.
      await second.setWeights(again);
      tf.tidy(() => second.applyGradients([[tf.ones([3]), b]]));
      const third = new RMSprop();
      tf.tidy(() => third.applyGradients([[tf.ones([2]), a], [tf.ones([3]), b]]));
      tf.tidy(() => third.applyGradients([[tf.ones([3]), b]]));
      assert.deepEqual(Array.from(second.getSlot(b, 'rms').dataSync()), Array.from(third.getSlot(b, 'rms').dataSync()));
      third.dispose();
    } finally {
      for (const o of [first, second]) o.dispose();
      tf.dispose([a, b, ...saved.map((w) => w.tensor), ...again.map((w) => w.tensor)]);
    }
  });
});
