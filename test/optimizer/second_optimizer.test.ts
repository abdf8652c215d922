/**
 * The Keras base is generic: a second optimizer, Keras's SGD with momentum
 * (support/keras_sgd.ts, well under 100 lines), trains a tfjs-layers model with
 * fit, saves with its state, loads and trains on to the same weights as an
 * uninterrupted run, on cpu and wasm; its step is Keras's formula, with the
 * base's clipping, schedules, sparse gradients (densified) and iterations.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { IndexedSlices, schedules } from '../../src/index.js';
import { assertBitEqual, assertClose, BACKENDS, tf, useBackend, saveWithOptimizer } from '../support/tf.js';
import { KerasSGD } from './support/keras_sgd.js';

const f = Math.fround;

function model(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [3], units: 6, activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }),
      tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 6 }) }),
    ],
  });
}

const fitArgs = { epochs: 2, batchSize: 8, shuffle: false, verbose: 0 as const };

test('the optimizer is well under 100 lines of code', () => {
  const code = readFileSync(new URL('./support/keras_sgd.ts', import.meta.url), 'utf8').split('\n')
    .filter((l) => l.trim() !== '' && !/^\s*(\/\*\*|\*|\/\/)/.test(l));
  assert.ok(code.length < 70, `${code.length} lines of code`);
});

for (const backend of BACKENDS) {
  describe(`a second optimizer on the Keras base (${backend})`, () => {
    before(() => useBackend(backend));

    test("one step is Keras's formula: m = μ·m − lr·g, w = w + m, with the base's clipvalue", () => {
      const w = tf.variable(tf.tensor1d([1, -2, 3]));
      const opt = new KerasSGD({ learningRate: 0.1, momentum: 0.5, clipvalue: 1 });
      opt.applyGradients([[tf.tensor1d([0.5, -4, 2]), w]]);
      opt.applyGradients([[tf.tensor1d([0.5, -4, 2]), w]]);
      const g = [0.5, -1, 1];
      const m1 = g.map((gi) => f(-f(gi * f(0.1))));
      const m2 = m1.map((m, i) => f(f(m * 0.5) - f(g[i] * f(0.1))));
      assertClose(w.dataSync(), [1, -2, 3].map((x, i) => f(f(x + m1[i]) + m2[i])), 0, 0, 'w');
      assertClose(opt.getSlot(w, 'momentum').dataSync(), m2, 0, 0, 'momentum');
      assert.equal(opt.iterations, 2);
      assert.deepEqual(opt.lastStepKernels(), [{ variable: w.name, kernel: 'sgd-ops' }]);
      opt.dispose();
      w.dispose();
    });

    test('a schedule and an IndexedSlices gradient (applied densified) go through the base', () => {
      const table = tf.variable(tf.zeros([4, 2]));
      const lr = new schedules.ExponentialDecay({ initialLearningRate: 1, decaySteps: 1, decayRate: 0.5 });
      const opt = new KerasSGD({ learningRate: lr });
      opt.applyGradients([[new IndexedSlices(tf.ones([3, 2]), [1, 3, 1]), table]]);
      opt.applyGradients([[new IndexedSlices(tf.ones([1, 2]), [0]), table]]);
      assertClose(table.dataSync(), [-0.5, -0.5, -2, -2, 0, 0, -1, -1], 0, 0, 'table');
      opt.dispose();
      table.dispose();
    });

    test("Keras 3's EMA, gradient accumulation and loss scaling work on it too (the base runs them around its op chain)", async () => {
      const w = tf.variable(tf.tensor1d([1, -2, 3]), true, `sgd-features-${backend}`);
      const table = tf.variable(tf.zeros([3, 2]), true, `sgd-table-${backend}`);
      const opt = new KerasSGD({ learningRate: 0.1, momentum: 0.5, useEma: true, emaMomentum: 0.5, gradientAccumulationSteps: 2, lossScaleFactor: 4 });
      const grads = [[2, -4, 8], [6, 0.5, -1], [-3, 3, 1], [1, 1, 1]];
      let x = [1, -2, 3];
      let mom = [0, 0, 0];
      let avg = [0, 0, 0];
      let acc = [0, 0, 0];
      grads.forEach((g, call) => {
        opt.applyGradients([[tf.tensor1d(g), w], [new IndexedSlices(tf.tensor2d([[4, 4]]), [call % 3]), table]]);
        const scaled = g.map((gi) => f(gi / 4));
        if (call % 2 === 0) {
          acc = scaled.map((gi, i) => f(gi + acc[i]));
          assert.equal(opt.lastStepKernels()[0].kernel, 'keras-base');
        } else {
          const mean = scaled.map((gi, i) => f(f(gi + acc[i]) / 2));
          acc = [0, 0, 0];
          mom = mom.map((m, i) => f(f(m * 0.5) - f(mean[i] * f(0.1))));
          x = x.map((xi, i) => f(xi + mom[i]));
        }
        const m = Math.floor(call / 2) === 0 ? 0 : 0.5;
        avg = avg.map((a, i) => f(f(m * a) + f(f(1 - m) * x[i])));
      });
      assertClose(w.dataSync(), x, 0, 0, 'w');
      assertClose(opt.getSlot(w, 'momentum').dataSync(), mom, 0, 0, 'momentum');
      const ema = opt.getEmaWeight(w);
      assertClose(ema.dataSync(), avg, 0, 0, 'ema');
      ema.dispose();
      assert.equal(opt.iterations, 2);
      // The sparse gradient (densified for this optimizer): rows 0 and 1 in the first window, 2 and 0 in the second:
      // means 0.5 on those rows, so m = −0.05 then 0.5·m − 0.05.
      assert.deepEqual(Array.from(table.dataSync()).map((v) => Number(v.toFixed(6))), [-0.125, -0.125, -0.075, -0.075, -0.05, -0.05]);
      const names = (await opt.getWeights()).map((n) => n.name);
      assert.deepEqual(names, ['iter', `${w.name}/momentum`, `${table.name}/momentum`, `${w.name}/ema`, `${table.name}/ema`, `${w.name}/accumulator`, `${table.name}/accumulator`]);
      opt.dispose();
      tf.dispose([w, table]);
    });

    test('fit, save with the optimizer, load, fit on: the same weights as without the interruption', async () => {
      const x = tf.randomNormal([32, 3], 0, 1, 'float32', 7);
      const y = tf.sum(x, 1, true);
      const make = () => new KerasSGD({ learningRate: 0.05, momentum: 0.9 });
      const uninterrupted = model();
      uninterrupted.compile({ optimizer: make(), loss: 'meanSquaredError' });
      const h = await uninterrupted.fit(x, y, { ...fitArgs, epochs: 4 });
      const losses = h.history.loss as number[];
      assert.ok(losses[3] < losses[0], `the loss falls: ${losses.join(', ')}`);

      const first = model();
      first.compile({ optimizer: make(), loss: 'meanSquaredError' });
      await first.fit(x, y, fitArgs);
      const artifacts = await saveWithOptimizer(first);
      const names = (artifacts.weightSpecs ?? []).filter((s) => s.group === 'optimizer').map((s) => s.name);
      assert.equal(names[0], 'iter');
      assert.ok(names.length === 5 && names.slice(1).every((n) => n.endsWith('/momentum')), names.join());
      const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      assert.ok(loaded.optimizer instanceof KerasSGD);
      assert.equal(loaded.optimizer.iterations, 8);
      assert.deepEqual(loaded.optimizer.getConfig(), make().getConfig());
      await loaded.fit(x, y, fitArgs);
      const a = uninterrupted.getWeights().map((t) => t.dataSync() as Float32Array);
      loaded.getWeights().forEach((t, i) => assertBitEqual(t.dataSync() as Float32Array, a[i], `weight ${i}`));
      for (const m of [uninterrupted, first, loaded]) { m.optimizer.dispose(); m.dispose(); }
      tf.dispose([x, y]);
    });
  });
}
