/**
 * No tensor leaks: tf.memory().numTensors is the same after 1,000 steps as after
 * 10, in every mode, through minimize and applyGradients in the Keras and TF.js
 * forms, on cpu and wasm; dispose() frees every tensor the optimizer made.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { embeddingLookup, IndexedSlices, RMSprop, type RMSpropOptions } from '../../src/index.js';
import { BACKENDS, tf, useBackend } from '../support/tf.js';

const MODES: Record<string, RMSpropOptions> = {
  plain: {},
  centered: { centered: true },
  momentum: { momentum: 0.9 },
  'momentum-centered': { momentum: 0.9, centered: true },
  'clipping-and-decay': { momentum: () => 0.5, clipvalue: 1, clipnorm: 2, decay: 0.01, learningRate: () => 0.01 },
  'global-clipnorm': { globalClipnorm: 1, rho: () => 0.95 },
};

/** A variable that does not keep its initial tensor alive (tf.variable shares it). */
function ownVariable(init: tf.Tensor): tf.Variable {
  const v = tf.variable(init);
  init.dispose();
  return v;
}

type Form = 'applyGradients-keras' | 'applyGradients-tfjs' | 'minimize-keras' | 'minimize-tfjs';
const FORMS: Form[] = ['applyGradients-keras', 'applyGradients-tfjs', 'minimize-keras', 'minimize-tfjs'];

function stepper(opt: RMSprop, form: Form, a: tf.Variable, b: tf.Variable): () => void {
  const loss = () => tf.add(tf.sum(tf.square(a)), tf.sum(tf.mul(b, b))) as tf.Scalar;
  switch (form) {
    case 'applyGradients-keras':
      return () => tf.tidy(() => { opt.applyGradients([[tf.mul(a, 2), a], [tf.onesLike(b), b]]); });
    case 'applyGradients-tfjs':
      return () => tf.tidy(() => { opt.applyGradients({ [a.name]: tf.mul(a, 2), [b.name]: tf.onesLike(b) }); });
    case 'minimize-keras':
      return () => { opt.minimize(loss, [a, b]); };
    case 'minimize-tfjs':
      return () => { opt.minimize(loss, false, [a, b]); };
  }
}

for (const backend of BACKENDS) {
  describe(`no tensor leaks (${backend})`, () => {
    before(() => useBackend(backend));
    for (const [mode, options] of Object.entries(MODES)) {
      for (const form of FORMS) {
        test(`${mode}, ${form}: 1,000 steps leave the count of 10 steps; dispose frees the rest`, () => {
          const start = tf.memory().numTensors;
          const a = ownVariable(tf.randomNormal([3, 4], 0, 1, 'float32', 1));
          const b = ownVariable(tf.randomNormal([5], 0, 1, 'float32', 2));
          const opt = new RMSprop({ learningRate: 0.01, ...options });
          const step = stepper(opt, form, a, b);
          for (let i = 0; i < 10; i++) step();
          const after10 = tf.memory().numTensors;
          for (let i = 0; i < 990; i++) step();
          assert.equal(tf.memory().numTensors, after10, 'tensors after 1,000 steps');
          assert.equal(opt.iterations, 1000);
          opt.dispose();
          tf.dispose([a, b]);
          assert.equal(tf.memory().numTensors, start, 'tensors after dispose()');
        });
      }
    }
  });
}

for (const backend of BACKENDS) {
  describe(`no tensor leaks with sparse gradients (${backend})`, () => {
    before(() => useBackend(backend));
    for (const sparseMode of ['keras2', 'lazy', 'dense-equivalent'] as const) {
      for (const momentum of [0, 0.9]) {
        test(`${sparseMode}, momentum ${momentum}: IndexedSlices and embeddingLookup under minimize`, () => {
          const start = tf.memory().numTensors;
          const table = ownVariable(tf.randomNormal([50, 4], 0, 1, 'float32', 3));
          const w = ownVariable(tf.randomNormal([4, 1], 0, 1, 'float32', 4));
          const opt = new RMSprop({ learningRate: 0.01, momentum, centered: true, clipnorm: 1, sparseMode });
          const step = (i: number) => {
            const ids = [i % 50, (i * 7) % 50, i % 50];
            opt.minimize(() => tf.sum(tf.matMul(embeddingLookup(table, ids), w)) as tf.Scalar, [table, w]);
            tf.tidy(() => { opt.applyGradients([[new IndexedSlices(tf.ones([2, 4]), [i % 50, 3]), table]]); });
          };
          for (let i = 0; i < 10; i++) step(i);
          const after10 = tf.memory().numTensors;
          for (let i = 10; i < 300; i++) step(i);
          assert.equal(tf.memory().numTensors, after10, 'tensors after 300 steps');
          opt.dispose();
          tf.dispose([table, w]);
          assert.equal(tf.memory().numTensors, start, 'tensors after dispose()');
        });
      }
    }
  });
}
