/**
 * `centered: true` ported from TF.js. TF.js 4.22 computes √(ms − (mg² + ε)):
 * where a gradient entry stays 0 that is √(−ε), NaN, and so is the first step
 * of any entry with (1 − ρ)·ρ·g² < ε (|g| below about 1.5e-3 at ρ = 0.95). In a
 * real program (the dense classifier) the NaN spreads through the whole model;
 * this package's centered form (the 'tfjs' flavor corrects the sign of ε) trains.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { RMSprop } from '../../src/index.js';
import { BACKENDS, tf, useBackend } from '../support/tf.js';
import { PROGRAMS } from './programs.js';
import { weightsOf } from './training.js';

const dense = PROGRAMS.find((p) => p.id === 'dense')!;

async function trainCentered(optimizer: tf.Optimizer): Promise<{ losses: number[]; weights: Float32Array[] }> {
  const { x, y } = dense.data();
  const model = dense.build();
  model.compile({ optimizer, loss: dense.loss });
  const h = await model.fit(x, y, { epochs: 3, batchSize: 16, shuffle: false, verbose: 0 });
  const weights = await weightsOf(model);
  model.dispose();
  optimizer.dispose();
  tf.dispose([x, y]);
  return { losses: h.history.loss as number[], weights };
}

for (const backend of BACKENDS) {
  describe(`centered with a gradient that stays 0 (${backend})`, () => {
    before(() => useBackend(backend));

    test('one step: TF.js writes NaN where the gradient is 0 or |g| < 1.05e-3; RMSprop does not', () => {
      // From zero state at ρ = 0.9: ms − mg² = 0.1·g² − (0.1·g)² = 0.09·g², below ε = 1e-7 for |g| < 1.054e-3.
      const g = [0, 0.5, 1e-3, 1.1e-3];
      const theirs = tf.variable(tf.ones([4]), true, `centered_tfjs_${backend}`);
      const ours = tf.variable(tf.ones([4]));
      const ref = tf.train.rmsprop(0.01, 0.9, 0, 1e-7, true);
      const opt = new RMSprop({ learningRate: 0.01, rho: 0.9, centered: true, flavor: 'tfjs' });
      tf.tidy(() => {
        ref.applyGradients({ [theirs.name]: tf.tensor1d(g) });
        opt.applyGradients([[tf.tensor1d(g), ours]]);
      });
      const t = Array.from(theirs.dataSync());
      const o = Array.from(ours.dataSync());
      assert.deepEqual(t.map(Number.isNaN), [true, false, true, false], `TF.js: ${t}`);
      assert.ok(o.every(Number.isFinite), `RMSprop: ${o}`);
      assert.equal(o[0], 1, 'a zero gradient leaves the weight as it was');
      assert.ok(o.slice(1).every((w) => w < 1));
      ref.dispose();
      opt.dispose();
      tf.dispose([theirs, ours]);
    });

    test('the dense classifier, centered: tf.train.rmsprop ends all NaN; RMSprop (\'tfjs\' and default flavors) trains', async () => {
      const { learningRate, rho } = dense.rmsprop;
      const theirs = await trainCentered(tf.train.rmsprop(learningRate, rho, 0, 1e-7, true));
      // Every weight ends NaN. The loss reads NaN on cpu; on wasm the crossentropy's clip turns NaN
      // probabilities into its bound, so the loss sticks at −ln(1e−7) ≈ 16.118 instead.
      assert.ok(theirs.weights.every((w) => w.every(Number.isNaN)), 'TF.js: every weight NaN');
      const stuck = backend === 'cpu' ? theirs.losses.slice(1).every(Number.isNaN)
        : theirs.losses.slice(1).every((l) => Math.abs(l + Math.log(1e-7)) < 1e-5);
      assert.ok(stuck, `TF.js losses: ${theirs.losses.join(', ')}`);
      for (const flavor of ['tfjs', 'keras2'] as const) {
        const ours = await trainCentered(new RMSprop({ learningRate, rho, centered: true, flavor }));
        assert.ok(ours.weights.every((w) => w.every(Number.isFinite)), `${flavor}: finite weights`);
        assert.ok(ours.losses[2] < ours.losses[0], `${flavor} loss fell: ${ours.losses.join(', ')}`);
      }
    });
  });
}
