/**
 * A call that is refused leaves nothing behind: no tensor of the loss, of its
 * gradients or of the tape the engine kept for a backward pass.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { RMSprop } from '../../src/index.js';
import { BACKENDS, tf, useBackend } from '../support/tf.js';

for (const backend of BACKENDS) {
  describe(`failed calls do not leak (${backend})`, () => {
    before(() => useBackend(backend));

    const cases: Array<[string, (opt: RMSprop, v: tf.Variable, u: tf.Variable) => unknown, RegExp]> = [
      ['no variable connected to the loss', (opt, v, u) => opt.minimize(() => tf.sum(u) as tf.Scalar, [v]), /no gradients provided/],
      ['a variable listed twice', (opt, v) => opt.minimize(() => tf.sum(tf.square(v)) as tf.Scalar, [v, v]), /appears more than once/],
      ['a var-list function that throws', (opt, v) => opt.minimize(() => tf.sum(tf.square(v)) as tf.Scalar, () => { throw new Error('boom'); }), /boom/],
      ['a loss that throws', (opt, v) => opt.minimize(() => { tf.square(v); throw new Error('bad loss'); }, [v]), /bad loss/],
      ['the TF.js form with a duplicate', (opt, v) => opt.minimize(() => tf.sum(v) as tf.Scalar, true, [v, v]), /appears more than once/],
    ];
    for (const [name, call, error] of cases) {
      test(`${name}: the error, and the tensor count as before`, () => {
        const v = tf.variable(tf.ones([3]));
        const u = tf.variable(tf.ones([3]));
        const opt = new RMSprop();
        opt.applyGradients([[tf.ones([3]), v]]);
        const start = tf.memory().numTensors;
        assert.throws(() => call(opt, v, u), error);
        assert.equal(tf.memory().numTensors, start);
        // The next call works as usual.
        opt.minimize(() => tf.sum(tf.square(v)) as tf.Scalar, [v]);
        assert.equal(tf.memory().numTensors, start);
        opt.dispose();
        tf.dispose([v, u]);
      });
    }
  });
}
