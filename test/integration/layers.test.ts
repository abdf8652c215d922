/**
 * tfjs-layers: compile/fit/trainOnBatch/fitDataset with this optimizer, and
 * model.save({includeOptimizer: true}) → load → train on, which must give the
 * same weights, to the bit, as training without the interruption.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { RMSprop, type RMSpropOptions } from '../../src/index.js';
import { assertBitEqual, BACKENDS, tf, useBackend, saveWithOptimizer } from '../support/tf.js';

function buildModel(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [4], units: 8, activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed: 11 }) }),
      tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 12 }) }),
    ],
  });
}

function data(): { x: tf.Tensor; y: tf.Tensor } {
  const x = tf.randomNormal([64, 4], 0, 1, 'float32', 3);
  const y = tf.tidy(() => tf.concat([tf.sum(x, 1, true), tf.sub(tf.slice(x, [0, 0], [-1, 1]), tf.slice(x, [0, 1], [-1, 1]))], 1));
  return { x, y };
}

const fitArgs = { epochs: 1, batchSize: 16, shuffle: false, verbose: 0 as const };

async function weightsOf(model: tf.LayersModel): Promise<Float32Array[]> {
  return Promise.all(model.getWeights().map(async (w) => new Float32Array(await w.data())));
}

for (const backend of BACKENDS) {
  describe(`tfjs-layers integration (${backend})`, () => {
    before(() => useBackend(backend));

    test('compile + fit + trainOnBatch + fitDataset lower the loss; tfjs-layers calls the TF.js minimize form', async () => {
      const { x, y } = data();
      const model = buildModel();
      const opt = new RMSprop({ learningRate: 0.01, momentum: 0.9 });
      const forms: string[] = [];
      const original = opt.minimize.bind(opt) as (...args: unknown[]) => unknown;
      (opt as { minimize: unknown }).minimize = (...args: unknown[]) => {
        forms.push(typeof args[1] === 'boolean' && Array.isArray(args[2]) ? 'tfjs' : 'other');
        return original(...args);
      };
      model.compile({ optimizer: opt, loss: 'meanSquaredError' });
      const h = await model.fit(x, y, { ...fitArgs, epochs: 5 });
      const losses = h.history.loss as number[];
      assert.ok(losses[4] < losses[0] * 0.8, `loss fell: ${losses.join(', ')}`);
      assert.equal(opt.iterations, 20);
      assert.ok(forms.length === 20 && forms.every((f) => f === 'tfjs'), forms.join());
      const batchLoss = await model.trainOnBatch(tf.slice(x, [0, 0], [16, 4]), tf.slice(y, [0, 0], [16, 2]));
      assert.ok(Number.isFinite(batchLoss as number));
      assert.equal(opt.iterations, 21);
      const ds = tf.data.zip({ xs: tf.data.array(tf.unstack(x)), ys: tf.data.array(tf.unstack(y)) }).batch(16);
      await model.fitDataset(ds as never, { epochs: 1, verbose: 0 });
      assert.equal(opt.iterations, 25);
      model.dispose();
      opt.dispose();
      tf.dispose([x, y]);
    });

    for (const options of [{ momentum: 0.9, centered: true, decay: 0.01 }, { clipnorm: 1 }] as RMSpropOptions[]) {
      test(`save with the optimizer, load, train on: same weights to the bit (${JSON.stringify(options)})`, async () => {
        const { x, y } = data();
        const make = () => new RMSprop({ learningRate: 0.01, ...options });

        const uninterrupted = buildModel();
        uninterrupted.compile({ optimizer: make(), loss: 'meanSquaredError' });
        await uninterrupted.fit(x, y, { ...fitArgs, epochs: 2 });
        await uninterrupted.fit(x, y, { ...fitArgs, epochs: 2 });

        const first = buildModel();
        first.compile({ optimizer: make(), loss: 'meanSquaredError' });
        await first.fit(x, y, { ...fitArgs, epochs: 2 });
        const artifacts = await saveWithOptimizer(first);
        const optimizerSpecs = (artifacts.weightSpecs ?? []).filter((s) => s.group === 'optimizer').map((s) => s.name);
        assert.equal(optimizerSpecs[0], 'iter');
        assert.ok(optimizerSpecs.slice(1).every((n) => /\/(rms|momentum|mg)$/.test(n)));
        const trainingConfig = artifacts.trainingConfig as unknown as { optimizer_config: { class_name: string } };
        assert.equal(trainingConfig.optimizer_config.class_name, 'RMSprop');

        const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
        assert.ok(loaded.optimizer instanceof RMSprop, 'the optimizer comes back as RMSprop');
        assert.equal(loaded.optimizer.iterations, 8);
        await loaded.fit(x, y, { ...fitArgs, epochs: 2 });
        const a = await weightsOf(uninterrupted);
        const b = await weightsOf(loaded);
        a.forEach((w, i) => assertBitEqual(b[i], w, `weight ${i}`));
        for (const m of [uninterrupted, first, loaded]) { m.optimizer.dispose(); m.dispose(); }
        tf.dispose([x, y]);
      });
    }
  });
}
