/**
 * Keras 3's training features as a user meets them: options and their checks,
 * config, counting (`iterations` against calls), the weights' order, resuming
 * mid-accumulation and mid-EMA from `getWeights` and from a saved model, loss
 * scaling in `minimize`, the EMA's accessors and the `fit` callback, sparse
 * accumulation at the cost of the rows, and no leaks.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { IndexedSlices, RMSprop, schedules, type RMSpropOptions } from '../../src/index.js';
import { FinalizeVariableValues } from '../../src/layers/index.js';
import { FLAVORS } from '../../src/rules/flavors.js';
import { assertBitEqual, assertClose, BACKENDS, saveWithOptimizer, tf, useBackend } from '../support/tf.js';
import { rng } from '../support/random.js';

const f32 = Math.fround;

describe('options', () => {
  before(() => useBackend('cpu'));
  const bad: Array<[string, RMSpropOptions, RegExp]> = [
    ['emaMomentum above 1', { useEma: true, emaMomentum: 1.5 }, /`emaMomentum` must be in \[0, 1\], got 1.5/],
    ['emaMomentum below 0', { useEma: true, emaMomentum: -0.1 }, /`emaMomentum` must be in \[0, 1\], got -0.1/],
    ['emaMomentum not a number', { emaMomentum: '0.9' as never }, /`emaMomentum` must be a number, got "0.9"/],
    ['emaOverwriteFrequency 0', { useEma: true, emaOverwriteFrequency: 0 }, /`emaOverwriteFrequency` must be a positive integer or null, got 0/],
    ['emaOverwriteFrequency 2.5', { useEma: true, emaOverwriteFrequency: 2.5 }, /`emaOverwriteFrequency` must be a positive integer or null, got 2.5/],
    ['useEma not a boolean', { useEma: 1 as never }, /`useEma` must be a boolean, got 1/],
    ['gradientAccumulationSteps 1', { gradientAccumulationSteps: 1 }, /`gradientAccumulationSteps` must be an integer >= 2 or null, got 1/],
    ['gradientAccumulationSteps 2.5', { gradientAccumulationSteps: 2.5 }, /`gradientAccumulationSteps` must be an integer >= 2 or null, got 2.5/],
    ['gradientAccumulationSteps -4', { gradientAccumulationSteps: -4 }, /`gradientAccumulationSteps` must be an integer >= 2 or null, got -4/],
    ['lossScaleFactor 0', { lossScaleFactor: 0 }, /`lossScaleFactor` must be a finite number > 0 \(in float32 too\) or null, got 0/],
    ['lossScaleFactor -8', { lossScaleFactor: -8 }, /`lossScaleFactor` must be a finite number > 0.*got -8/],
    ['lossScaleFactor Infinity', { lossScaleFactor: Infinity }, /`lossScaleFactor` must be a finite number > 0.*got Infinity/],
    ['lossScaleFactor NaN', { lossScaleFactor: NaN }, /`lossScaleFactor` must be a finite number > 0.*got NaN/],
    ['lossScaleFactor beyond float32', { lossScaleFactor: 1e39 }, /`lossScaleFactor` must be a finite number > 0 \(in float32 too\).*got 1e\+39/],
    ['nesterov without momentum', { nesterov: true, momentum: 0 }, /`nesterov` = true needs the momentum path/],
  ];
  for (const [what, options, message] of bad) {
    test(`rejects ${what}, naming the option`, () => assert.throws(() => new RMSprop(options), message));
  }

  test("the EMA's arguments are checked only when useEma is on, as in Keras", () => {
    assert.doesNotThrow(() => new RMSprop({ emaMomentum: 1.5, emaOverwriteFrequency: 2.5 }));
  });

  test('defaults, and nesterov with a momentum function or the tfjs flavor (always the momentum path)', () => {
    const opt = new RMSprop();
    assert.deepEqual(
      [opt.useEma, opt.emaMomentum, opt.emaOverwriteFrequency, opt.gradientAccumulationSteps, opt.lossScaleFactor, opt.nesterov],
      [false, 0.99, null, null, null, false],
    );
    assert.equal(new RMSprop({ momentum: () => 0, nesterov: true }).form.nesterov, true);
    assert.equal(new RMSprop({ flavor: 'tfjs', nesterov: true }).form.nesterov, true);
    assert.ok(!('nesterov' in new RMSprop({ momentum: 0.9 }).form), 'the form keeps its TF 2.4 shape when off');
  });

  test('nesterov with a momentum function returning 0: the config saves momentum 0 (as Keras saves callables) without nesterov, so it loads', () => {
    const opt = new RMSprop({ momentum: () => 0, nesterov: true });
    const config = opt.getConfig();
    assert.equal(config.momentum, 0);
    assert.equal('nesterov' in config, false);
    RMSprop.fromConfig(RMSprop, JSON.parse(JSON.stringify(config))).dispose();
    assert.equal(new RMSprop({ momentum: () => 0.9, nesterov: true }).getConfig().nesterov, true);
    assert.equal(new RMSprop({ flavor: 'tfjs', nesterov: true }).getConfig().nesterov, true);
  });

  test('getConfig carries the options that are on; fromConfig takes it back and Keras 3 snake_case', () => {
    const options = {
      momentum: 0.9, nesterov: true, useEma: true, emaMomentum: 0.95, emaOverwriteFrequency: 10, gradientAccumulationSteps: 4, lossScaleFactor: 256,
    };
    const c = new RMSprop(options).getConfig();
    for (const [k, v] of Object.entries(options)) assert.equal(c[k], v, k);
    const back = RMSprop.fromConfig(RMSprop, JSON.parse(JSON.stringify(c)));
    assert.deepEqual(back.getConfig(), c);
    const plain = new RMSprop().getConfig();
    for (const k of ['useEma', 'emaMomentum', 'emaOverwriteFrequency', 'gradientAccumulationSteps', 'lossScaleFactor', 'nesterov']) {
      assert.ok(!(k in plain), `${k} is left out at its default`);
    }
    const snake = RMSprop.fromConfig(RMSprop, {
      learning_rate: 0.01, use_ema: true, ema_momentum: 0.9, ema_overwrite_frequency: null, gradient_accumulation_steps: 8, loss_scale_factor: null,
    });
    assert.deepEqual([snake.useEma, snake.emaMomentum, snake.emaOverwriteFrequency, snake.gradientAccumulationSteps, snake.lossScaleFactor], [true, 0.9, null, 8, null]);
  });
});

for (const backend of BACKENDS) {
  describe(`counting, state and resuming (${backend})`, () => {
    before(() => useBackend(backend));

    test('iterations counts applied updates; applyGradients and getWeights give the calls, as Keras 3', async () => {
      const w = tf.variable(tf.tensor1d([1, 2]));
      const opt = new RMSprop({ gradientAccumulationSteps: 3 });
      const seen: Array<[number, number]> = [];
      for (let i = 0; i < 7; i++) seen.push([tf.tidy(() => opt.applyGradients([[tf.ones([2]), w]])), opt.iterations]);
      assert.deepEqual(seen, [[1, 0], [2, 0], [3, 1], [4, 1], [5, 1], [6, 2], [7, 2]]);
      const weights = await opt.getWeights();
      assert.equal((await weights[0].tensor.data())[0], 7);
      opt.dispose();
      w.dispose();
    });

    test('accumulating calls leave the variable alone; the update applies the mean of the window', () => {
      const w = tf.variable(tf.tensor1d([1, -1]));
      const v = tf.variable(tf.tensor1d([1, -1]));
      const acc = new RMSprop({ learningRate: 0.1, gradientAccumulationSteps: 2 });
      const plain = new RMSprop({ learningRate: 0.1 });
      tf.tidy(() => acc.applyGradients([[tf.tensor1d([0.5, 4]), w]]));
      assert.deepEqual(Array.from(w.dataSync()), [1, -1]);
      assert.deepEqual(Array.from(acc.getSlot(w, 'rms').dataSync()), [0, 0]);
      tf.tidy(() => acc.applyGradients([[tf.tensor1d([1.5, -2]), w]]));
      tf.tidy(() => plain.applyGradients([[tf.tensor1d([1, 1]), v]]));
      assertBitEqual(w.dataSync() as Float32Array, v.dataSync() as Float32Array, 'one update with the mean gradient');
      tf.dispose([w, v]);
      acc.dispose();
      plain.dispose();
    });

    test('getWeights: the call count, rms, momentum, mg, then <var>/ema, then <var>/accumulator', async () => {
      const a = tf.variable(tf.ones([2]), true, 'ka');
      const b = tf.variable(tf.ones([3]), true, 'kb');
      const opt = new RMSprop({ momentum: 0.9, centered: true, useEma: true, gradientAccumulationSteps: 2 });
      tf.tidy(() => opt.applyGradients([[tf.ones([2]), a], [tf.ones([3]), b]]));
      const names = (await opt.getWeights()).map((x) => x.name);
      assert.deepEqual(names, [
        'iter', 'ka/rms', 'kb/rms', 'ka/momentum', 'kb/momentum', 'ka/mg', 'kb/mg', 'ka/ema', 'kb/ema', 'ka/accumulator', 'kb/accumulator',
      ]);
      assert.deepEqual(opt.getSlotNames(), ['rms', 'momentum', 'mg']);
      assert.throws(() => opt.getSlot(a, 'ema'), /no "ema" slot/);
      opt.dispose();
      tf.dispose([a, b]);
    });

    for (const sparse of [false, true]) {
      test(`getWeights → setWeights mid-accumulation and mid-EMA resumes exactly (${sparse ? 'IndexedSlices, lazy rows' : 'dense'})`, async () => {
        const options: RMSpropOptions = {
          learningRate: 0.05, momentum: 0.5, useEma: true, emaMomentum: 0.9, emaOverwriteFrequency: 3, gradientAccumulationSteps: 3,
          lossScaleFactor: 8, sparseMode: 'lazy',
        };
        const r = rng(3);
        const grads = Array.from({ length: 11 }, () => Array.from({ length: 3 }, () => (r() * 2 - 1)));
        const rowsOf = (i: number): number[] => [i % 4, (i * 3 + 1) % 5];
        const gradient = (i: number): tf.Tensor | IndexedSlices => (sparse
          ? new IndexedSlices(tf.tensor2d([grads[i], grads[(i + 1) % 11]]), rowsOf(i), [5, 3])
          : tf.tensor2d([0, 1, 2, 3, 4].map((k) => grads[(i + k) % 11])));
        const init = tf.tidy(() => tf.randomUniform([5, 3], -1, 1, 'float32', 9));
        const step = (opt: RMSprop, w: tf.Variable, i: number): void => { tf.tidy(() => { opt.applyGradients([[gradient(i), w]]); }); };
        const whole = tf.variable(init.clone());
        const a = new RMSprop(options);
        for (let i = 0; i < 11; i++) step(a, whole, i);
        for (const stop of [4, 7, 8]) {
          const w1 = tf.variable(init.clone(), true, `resume${stop}${sparse}`);
          const first = new RMSprop(options);
          for (let i = 0; i < stop; i++) step(first, w1, i);
          const saved = await first.getWeights();
          const w2 = tf.variable(w1.clone());
          const second = new RMSprop(options);
          await second.setWeights(saved);
          tf.dispose(saved.map((x) => x.tensor));
          assert.equal(second.iterations, first.iterations);
          for (let i = stop; i < 11; i++) step(second, w2, i);
          assertBitEqual(w2.dataSync() as Float32Array, whole.dataSync() as Float32Array, `stopped after ${stop}: weights`);
          const e1 = second.getEmaWeight(w2);
          const e2 = a.getEmaWeight(whole);
          assertBitEqual(e1.dataSync() as Float32Array, e2.dataSync() as Float32Array, `stopped after ${stop}: averages`);
          tf.dispose([e1, e2, w1, w2]);
          first.dispose();
          second.dispose();
        }
        a.dispose();
        tf.dispose([whole, init]);
      });
    }

    test('model.save with the optimizer mid-window, load, fit on: the same weights as never stopping', async () => {
      const make = () => new RMSprop({ learningRate: 0.01, momentum: 0.9, nesterov: true, useEma: true, gradientAccumulationSteps: 3, lossScaleFactor: 4 });
      const model = (): tf.LayersModel => tf.sequential({
        layers: [tf.layers.dense({ inputShape: [3], units: 4, activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
          tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) })],
      });
      const x = tf.randomNormal([40, 3], 0, 1, 'float32', 4);
      const y = tf.sum(x, 1, true);
      const args = { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 as const };
      const whole = model();
      whole.compile({ optimizer: make(), loss: 'meanSquaredError' });
      await whole.fit(x, y, { ...args, epochs: 2 });
      const first = model();
      first.compile({ optimizer: make(), loss: 'meanSquaredError' });
      await first.fit(x, y, args); // 5 calls: mid-window (3 + 2)
      const artifacts = await saveWithOptimizer(first);
      const names = (artifacts.weightSpecs ?? []).filter((s) => s.group === 'optimizer').map((s) => s.name);
      assert.equal(names.length, 1 + 4 * 4, names.join());
      assert.ok(names.slice(-8, -4).every((n) => n.endsWith('/ema')) && names.slice(-4).every((n) => n.endsWith('/accumulator')), names.join());
      const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      assert.ok(loaded.optimizer instanceof RMSprop);
      assert.equal(loaded.optimizer.iterations, 1);
      await loaded.fit(x, y, args);
      const expected = whole.getWeights().map((t) => t.dataSync() as Float32Array);
      loaded.getWeights().forEach((t, i) => assertBitEqual(t.dataSync() as Float32Array, expected[i], `weight ${i}`));
      for (const m of [whole, first, loaded]) { m.optimizer.dispose(); m.dispose(); }
      tf.dispose([x, y]);
    });
  });

  describe(`loss scaling, EMA and sparse accumulation (${backend})`, () => {
    before(() => useBackend(backend));

    test('minimize scales the loss, returns it unscaled, and the step equals the unscaled one (power-of-two factor)', () => {
      const run = (lossScaleFactor: number | null): [number, Float32Array] => {
        const w = tf.variable(tf.tensor1d([0.3, -0.7, 1.1]));
        const opt = new RMSprop({ learningRate: 0.1, lossScaleFactor });
        const cost = opt.minimize(() => tf.sum(tf.square(tf.sub(w, tf.tensor1d([1, 2, 3])))), true, [w]) as tf.Scalar;
        const out: [number, Float32Array] = [cost.dataSync()[0], w.dataSync() as Float32Array];
        cost.dispose();
        assert.equal(opt.minimize(() => tf.sum(w), [w]), 2, 'the Keras form returns the call count');
        opt.dispose();
        w.dispose();
        return out;
      };
      const [plainCost, plainW] = run(null);
      const [scaledCost, scaledW] = run(1024);
      assert.equal(scaledCost, plainCost);
      assertBitEqual(scaledW, plainW, 'weights');
    });

    test('applyGradients divides every gradient (dense and sparse) by the factor before accumulating', async () => {
      const table = tf.variable(tf.zeros([4, 2]));
      const dense = tf.variable(tf.zeros([2]));
      const opt = new RMSprop({ lossScaleFactor: 4, gradientAccumulationSteps: 2, sparseMode: 'lazy' });
      tf.tidy(() => opt.applyGradients([[new IndexedSlices(tf.tensor2d([[4, 8], [12, 16]]), [3, 1]), table], [tf.tensor1d([2, -6]), dense]]));
      const byName = new Map((await opt.getWeights()).map((x) => [x.name, x.tensor]));
      assert.deepEqual(Array.from(byName.get(`${table.name}/accumulator`)!.dataSync()), [0, 0, 3, 4, 0, 0, 1, 2]);
      assert.deepEqual(Array.from(byName.get(`${dense.name}/accumulator`)!.dataSync()), [0.5, -1.5]);
      opt.dispose();
      tf.dispose([table, dense]);
    });

    test("the EMA: Keras 3's first update copies the weights, getEmaWeight gives a copy, finalizeVariableValues writes it", () => {
      const w = tf.variable(tf.tensor1d([1, 2]));
      const opt = new RMSprop({ learningRate: 0.1, useEma: true, emaMomentum: 0.5 });
      assert.throws(() => opt.getEmaWeight(w), /has no moving average yet/);
      tf.tidy(() => opt.applyGradients([[tf.tensor1d([1, 1]), w]]));
      const first = opt.getEmaWeight(w);
      assertBitEqual(first.dataSync() as Float32Array, w.dataSync() as Float32Array, 'm = 0 on the first update');
      first.dispose();
      const before = Array.from(w.dataSync());
      tf.tidy(() => opt.applyGradients([[tf.tensor1d([1, 1]), w]]));
      const after = Array.from(w.dataSync());
      const expected = before.map((b, i) => f32(f32(0.5 * b) + f32(0.5 * after[i])));
      const second = opt.getEmaWeight(w);
      assert.deepEqual(Array.from(second.dataSync()), expected);
      second.dispose();
      const again = opt.getEmaWeight(w);
      assert.deepEqual(Array.from(again.dataSync()), expected, 'disposing the copy left the average alone');
      again.dispose();
      opt.finalizeVariableValues();
      assert.deepEqual(Array.from(w.dataSync()), expected);
      assert.throws(() => new RMSprop().getEmaWeight(w), /keeps no moving average/);
      opt.dispose();
      w.dispose();
    });

    test('FinalizeVariableValues ends fit with the averaged weights', async () => {
      const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1, kernelInitializer: 'ones' })] });
      const opt = new RMSprop({ learningRate: 0.05, useEma: true, emaMomentum: 0.9 });
      model.compile({ optimizer: opt, loss: 'meanSquaredError' });
      const x = tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]]);
      const y = tf.tensor2d([[1], [0], [1], [0]]);
      await model.fit(x, y, { epochs: 3, batchSize: 2, verbose: 0, callbacks: [new FinalizeVariableValues()] });
      for (const v of model.trainableWeights) {
        const avg = opt.getEmaWeight(v.read() as unknown as tf.Variable);
        const after = v.read().dataSync() as Float32Array;
        assertBitEqual(after, avg.dataSync() as Float32Array, v.name);
        avg.dispose();
      }
      opt.dispose();
      model.dispose();
      tf.dispose([x, y]);
    });

    test('sparse accumulation touches only rows: the window applies the mean over its rows, the rest stays put', () => {
      const init = tf.tidy(() => tf.randomUniform([6, 2], -1, 1, 'float32', 2));
      const table = tf.variable(init.clone());
      const single = tf.variable(init.clone());
      const options: RMSpropOptions = { learningRate: 0.1, momentum: 0.9, sparseMode: 'lazy' };
      const acc = new RMSprop({ ...options, gradientAccumulationSteps: 3 });
      const plain = new RMSprop(options);
      const slices = [
        [[[1, 2], [3, 4]], [4, 1]], [[[-1, 0.5]], [4]], [[[2, 2], [0.25, 0.5]], [0, 4]],
      ] as const;
      slices.forEach(([values, rows], k) => {
        tf.tidy(() => acc.applyGradients([[new IndexedSlices(tf.tensor2d(values as unknown as number[][]), rows as unknown as number[]), table]]));
        assert.equal(acc.lastStepKernels()[0].kernel, k < 2 ? 'accumulate-rows' : acc.lastStepKernels()[0].kernel);
      });
      assert.match(acc.lastStepKernels()[0].kernel, /^sparse-lazy/);
      // The mean of the window as one sparse step: rows 4 (three calls), 1 (one) and 0 (one), each sum / 3.
      const mean = [[f32(2 / 3), f32(2 / 3)], [f32(f32(f32(1 - 1) + 0.25) / 3), f32(f32(f32(2 + 0.5) + 0.5) / 3)], [f32(3 / 3), f32(4 / 3)]];
      tf.tidy(() => plain.applyGradients([[new IndexedSlices(tf.tensor2d(mean), [0, 4, 1]), single]]));
      assertBitEqual(table.dataSync() as Float32Array, single.dataSync() as Float32Array, 'the same as one step with the mean');
      const before = init.dataSync();
      const after = table.dataSync();
      for (const row of [2, 3, 5]) assert.deepEqual([after[2 * row], after[2 * row + 1]], [before[2 * row], before[2 * row + 1]], `row ${row} untouched`);
      acc.dispose();
      plain.dispose();
      tf.dispose([init, table, single]);
    });

    test("Nesterov momentum in 'dense-equivalent' mode: idle rows keep moving as the dense optimizer's do, every flavor", () => {
      // Rows 0–4 every step, row 7 at the first and last steps only (its momentum moves it for the 58
      // steps between), rows 8–9 never; a schedule varies the learning rate, which PyTorch's buffer
      // leaves out, and every idle Nesterov step moves the row by μ·mom.
      const r = rng(8);
      const steps = Array.from({ length: 60 }, (_, k) => {
        const indices = [0, 1, 2, 3, 4, ...(k === 0 || k === 59 ? [7] : [])];
        return { indices, values: indices.flatMap(() => [r() - 0.5, r() - 0.5]) };
      });
      for (const flavor of FLAVORS) {
        const options = (): RMSpropOptions => ({
          flavor, momentum: 0.9, nesterov: true, learningRate: new schedules.ExponentialDecay({ initialLearningRate: 0.01, decaySteps: 10, decayRate: 0.5 }),
        });
        const init = tf.tidy(() => tf.randomUniform([10, 2], -1, 1, 'float32', 4));
        const sparseVar = tf.variable(init.clone());
        const denseVar = tf.variable(init.clone());
        const sparse = new RMSprop({ ...options(), sparseMode: 'dense-equivalent' });
        const dense = new RMSprop(options());
        for (const st of steps) {
          tf.tidy(() => {
            const values = tf.tensor2d(st.values, [st.indices.length, 2]);
            sparse.applyGradients([[new IndexedSlices(values, st.indices), sparseVar]]);
            dense.applyGradients([[new IndexedSlices(values, st.indices).toDense([10, 2]), denseVar]]);
          });
        }
        sparse.finalizeVariableValues();
        // The idle rows catch up in closed form (float64 factors) instead of k rounded steps: ~k·2^-24 relative.
        assertClose(sparseVar.dataSync(), denseVar.dataSync(), 1e-5, 1e-7, `${flavor}: weights`);
        assertClose(sparse.getSlot(sparseVar, 'momentum').dataSync(), dense.getSlot(denseVar, 'momentum').dataSync(), 1e-5, 1e-9, `${flavor}: momentum`);
        sparse.dispose();
        dense.dispose();
        tf.dispose([init, sparseVar, denseVar]);
      }
    });

    test('an update call resets the accumulators restored for variables it does not reach yet, as it resets every other', async () => {
      const options: RMSpropOptions = { learningRate: 0.1, gradientAccumulationSteps: 2 };
      const ga = tf.tensor1d([0.5, -1]);
      const gb = tf.tensor1d([2, 0.25, -3]);
      const run = async (restoreAfter: number | null): Promise<Float32Array[]> => {
        let a = tf.variable(tf.tensor1d([1, 2]), true, 'reset/a');
        let b = tf.variable(tf.tensor1d([3, 4, 5]), true, 'reset/b');
        let opt = new RMSprop(options);
        const calls: Array<Array<[tf.Tensor, tf.Variable]>> = [];
        const all = (): Array<[tf.Tensor, tf.Variable]> => [[ga, a], [gb, b]];
        for (let i = 0; i < 4; i++) {
          if (i === restoreAfter) {
            const saved = await opt.getWeights();
            const [va, vb] = [a.clone(), b.clone()];
            opt.dispose();
            tf.dispose([a, b]);
            a = tf.variable(va, true, 'reset/a');
            b = tf.variable(vb, true, 'reset/b');
            tf.dispose([va, vb]);
            opt = new RMSprop(options);
            await opt.setWeights(saved);
            tf.dispose(saved.map((w) => w.tensor));
          }
          // Call 2 reaches only `a`: an update call, which zeroes b's accumulator too.
          calls.push(i === 1 ? [[ga, a]] : all());
          opt.applyGradients(calls[i]);
        }
        const out = [a, b, opt.getSlot(b, 'rms')].map((t) => Float32Array.from(t.dataSync()));
        opt.dispose();
        tf.dispose([a, b]);
        return out;
      };
      const whole = await run(null);
      const resumed = await run(1);
      whole.forEach((x, i) => assertBitEqual(resumed[i], x, `state ${i}`));
      tf.dispose([ga, gb]);
    });

    test('no tensor leaks: every feature on, dense and sparse, saved and read, then disposed', async () => {
      const start = tf.memory().numTensors;
      const dense = tf.tidy(() => tf.variable(tf.ones([3, 2])));
      const table = tf.tidy(() => tf.variable(tf.ones([5, 2])));
      const opt = new RMSprop({
        momentum: 0.9, nesterov: true, useEma: true, emaOverwriteFrequency: 2, gradientAccumulationSteps: 2, lossScaleFactor: 2, clipnorm: 1,
        sparseMode: 'dense-equivalent',
      });
      const withState = tf.memory().numTensors;
      for (let i = 0; i < 5; i++) {
        tf.tidy(() => {
          opt.applyGradients([[tf.ones([3, 2]), dense], [new IndexedSlices(tf.ones([2, 2]), [i % 5, 1]), table]]);
          opt.minimize(() => tf.sum(tf.mul(dense, dense)), [dense]);
        });
      }
      const ema = opt.getEmaWeight(dense);
      ema.dispose();
      // getWeights hands out snapshots the caller owns.
      tf.dispose((await opt.getWeights()).map((w) => w.tensor));
      opt.finalizeVariableValues();
      assert.ok(tf.memory().numTensors > withState, 'the optimizer holds its state');
      opt.dispose();
      tf.dispose([dense, table]);
      assert.equal(tf.memory().numTensors, start);
    });
  });
}
