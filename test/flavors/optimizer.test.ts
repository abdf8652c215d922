/**
 * Every flavor with the rest of the optimizer: the fast kernels equal the
 * flavor's rule to the bit on both backends, slots follow the flavor,
 * config and weights round-trip, sparse modes, schedules and clipping work,
 * bad input is refused before any state changes, and nothing leaks.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { IndexedSlices, RMSprop, schedules, type Flavor } from '../../src/index.js';
import { cpuKernel } from '../../src/kernels/cpu/inplace.js';
import { cpuSimdKernel } from '../../src/kernels/cpu/simd.js';
import { tfopsKernel } from '../../src/kernels/tfops/dense.js';
import type { DenseKernel } from '../../src/kernels/types.js';
import { wasmHeapJsKernel } from '../../src/kernels/wasm/heap_js.js';
import { wasmSimdKernel } from '../../src/kernels/wasm/simd.js';
import { denseStep } from '../../src/rules/dense.js';
import { FLAVORS } from '../../src/rules/flavors.js';
import type { DenseState, StepScalars, UpdateForm } from '../../src/rules/types.js';
import { assertSameFloats, randomGrad, randomValues, rng } from '../kernels/support.js';
import { BACKENDS, assertClose, tf, useBackend } from '../support/tf.js';

const KERNELS: Record<(typeof BACKENDS)[number], DenseKernel[]> = {
  cpu: [cpuSimdKernel, cpuKernel, tfopsKernel],
  wasm: [wasmSimdKernel, wasmHeapJsKernel, tfopsKernel],
};

function formsOf(flavor: Flavor): UpdateForm[] {
  const paths = flavor === 'tfjs' ? ['momentum'] as const : ['plain', 'momentum'] as const;
  return paths.flatMap((path) => [false, true].map((centered) => ({ path, centered, flavor })));
}

const exclusive = (v: Float32Array, shape: number[]) => tf.tidy(() => tf.variable(tf.tensor(v, shape), false));

for (const backend of BACKENDS) {
  describe(`flavor kernels equal the rules (${backend})`, () => {
    before(() => useBackend(backend));
    for (const kernel of KERNELS[backend]) {
      for (const flavor of FLAVORS.filter((f) => f !== 'keras2')) {
        for (const form of formsOf(flavor)) {
          for (const wd of [0, 0.03]) {
            const name = `${kernel.name} ${flavor} ${form.path}${form.centered ? '+centered' : ''}${wd ? ' +weightDecay' : ''}`;
            // The op chain has no fused multiply-add, so for 'pytorch' it is checked within a tolerance below.
            if (kernel === tfopsKernel && flavor === 'pytorch') continue;
            test(`${name}: 25 random steps bit for bit`, () => {
              const r = rng(31);
              const shapes = [[1], [3], [4], [17], [2, 33], [1031]];
              const refs: DenseState[] = shapes.map((s) => {
                const n = s.reduce((a, b) => a * b, 1);
                return { w: randomValues(n, r), ms: new Float32Array(n), mom: new Float32Array(n), mg: new Float32Array(n) };
              });
              const ups = shapes.map((shape, i) => ({
                variable: exclusive(refs[i].w.slice(), shape),
                slots: {
                  rms: exclusive(refs[i].ms.slice(), shape),
                  ...(form.path === 'momentum' ? { momentum: exclusive(refs[i].mom!.slice(), shape) } : {}),
                  ...(form.centered ? { mg: exclusive(refs[i].mg!.slice(), shape) } : {}),
                },
              }));
              try {
                for (let step = 0; step < 25; step++) {
                  const f = Math.fround;
                  const rho = r() < 0.5 ? 0.9 : 0.99;
                  const s: StepScalars = {
                    lr: f(0.001 * (1 + 9 * r())), rho: f(rho), oneMinusRho: f(1 - rho),
                    momentum: f(0.9), epsilon: f(r() < 0.5 ? 1e-7 : 1e-3), weightDecay: f(wd),
                  };
                  const grads = refs.map((ref) => randomGrad(ref.w.length, r));
                  const full = tf.tidy(() => ups.map((u, i) => ({ ...u, grad: tf.tensor(grads[i], u.variable.shape) })));
                  for (const u of full) assert.equal(kernel.unsupportedReason(u), null);
                  tf.tidy(() => { kernel.run(full, form, s); });
                  tf.dispose(full.map((u) => u.grad));
                  refs.forEach((ref, i) => denseStep(form, s, grads[i], ref));
                  ups.forEach((u, i) => {
                    assertSameFloats(u.variable.dataSync(), refs[i].w, `${name} step ${step} var ${i} w`);
                    assertSameFloats(u.slots.rms.dataSync(), refs[i].ms, `${name} step ${step} var ${i} ms`);
                    if (u.slots.momentum) assertSameFloats(u.slots.momentum.dataSync(), refs[i].mom!, `${name} mom`);
                    if (u.slots.mg) assertSameFloats(u.slots.mg.dataSync(), refs[i].mg!, `${name} mg`);
                  });
                }
              } finally {
                for (const u of ups) tf.dispose([u.variable, ...Object.values(u.slots)]);
              }
            });
          }
        }
      }
    }
  });
}

describe('flavors in the optimizer', () => {
  before(() => useBackend('cpu'));

  test('slots follow the flavor: PyTorch and Keras 3 only when needed, TF.js always keeps momentum', () => {
    const names = (o: ConstructorParameters<typeof RMSprop>[0]) => new RMSprop(o).getSlotNames();
    assert.deepEqual(names({ flavor: 'pytorch' }), ['rms']);
    assert.deepEqual(names({ flavor: 'pytorch', momentum: 0.9, centered: true }), ['rms', 'momentum', 'mg']);
    assert.deepEqual(names({ flavor: 'keras3' }), ['rms']);
    assert.deepEqual(names({ flavor: 'tfjs' }), ['rms', 'momentum']);
    assert.deepEqual(names({ flavor: 'tfjs', centered: true }), ['rms', 'momentum', 'mg']);
    const opt = new RMSprop({ flavor: 'pytorch' });
    const v = tf.tidy(() => tf.variable(tf.ones([2])));
    tf.tidy(() => { opt.applyGradients([[tf.ones([2]), v]]); });
    assert.throws(() => opt.getSlot(v, 'momentum'), /no "momentum" slot/);
    opt.dispose();
    v.dispose();
  });

  test('epsilon 0: TF 2.4 makes it 1e-7, the other flavors keep it', () => {
    assert.equal(new RMSprop({ epsilon: 0 }).epsilon, 1e-7);
    for (const flavor of ['keras3', 'pytorch', 'tfjs'] as const) assert.equal(new RMSprop({ flavor, epsilon: 0 }).epsilon, 0);
    assert.equal(new RMSprop({ flavor: 'keras3', epsilon: null }).epsilon, 1e-7);
  });

  test('config round trip keeps flavor and weightDecay; keras2 configs are unchanged', () => {
    for (const flavor of FLAVORS) {
      const opt = new RMSprop({ flavor, weightDecay: 0.02, momentum: 0.5, centered: true, learningRate: 0.01 });
      const c = opt.getConfig();
      if (flavor === 'keras2') assert.ok(!('flavor' in c));
      else assert.equal(c.flavor, flavor);
      assert.equal(c.weightDecay, 0.02);
      const back = RMSprop.fromConfig(RMSprop, JSON.parse(JSON.stringify(c)));
      assert.deepEqual(back.getConfig(), c);
      assert.deepEqual(back.form, opt.form);
    }
    assert.ok(!('weightDecay' in new RMSprop().getConfig()));
    const snake = RMSprop.fromConfig(RMSprop, { flavor: 'keras3', weight_decay: 0.004, learning_rate: 1 });
    assert.equal(snake.weightDecay, 0.004);
  });

  test('weightDecay with keras2 is decoupled, as Keras 3: w·(1 − wd·lr) with a zero gradient', () => {
    const v = tf.tidy(() => tf.variable(tf.tensor1d([2])));
    const opt = new RMSprop({ learningRate: 1, weightDecay: 0.004 });
    tf.tidy(() => { opt.applyGradients([[tf.zeros([1]), v]]); });
    assert.equal(v.dataSync()[0], Math.fround(2 - Math.fround(Math.fround(2 * Math.fround(0.004)) * 1)));
    opt.dispose();
    v.dispose();
  });

  test('bad input names the option and the value, before any state changes', () => {
    assert.throws(() => new RMSprop({ flavor: 'torch' as Flavor }), /`flavor` must be one of 'keras2', 'keras3', 'pytorch', 'tfjs', got "torch"/);
    assert.throws(() => new RMSprop({ weightDecay: -0.1 }), /`weightDecay` must be >= 0, got -0\.1/);
    assert.throws(() => new RMSprop({ weightDecay: NaN }), /`weightDecay` must be a finite number, got NaN/);
    assert.throws(() => new RMSprop({ weightDecay: Infinity }), /`weightDecay` must be a finite number/);
  });

  for (const flavor of FLAVORS) {
    test(`${flavor}: save/load mid-run continues bit for bit; schedule, clipping and the fast kernel together`, async () => {
      const make = () => new RMSprop({
        flavor, momentum: 0.9, centered: true, weightDecay: 0.01, clipnorm: 1,
        learningRate: new schedules.ExponentialDecay({ initialLearningRate: 0.01, decaySteps: 5, decayRate: 0.5 }),
      });
      const r = rng(3);
      const init = randomValues(23, r);
      const grads = Array.from({ length: 20 }, () => Float32Array.from(init, () => r() * 4 - 2));
      const a = tf.tidy(() => tf.variable(tf.tensor1d(init), true, `${flavor}_a`));
      const b = tf.tidy(() => tf.variable(tf.tensor1d(init), true, `${flavor}_b`));
      const o1 = make();
      for (const g of grads) tf.tidy(() => { o1.applyGradients([[tf.tensor1d(g), a]]); });
      assert.equal(o1.lastStepKernels()[0].kernel, 'cpu-simd');
      const o2 = make();
      for (const g of grads.slice(0, 10)) tf.tidy(() => { o2.applyGradients([[tf.tensor1d(g), b]]); });
      const o3 = RMSprop.fromConfig(RMSprop, o2.getConfig());
      // Before its first step, o3 holds the weights and gives them to b on its first gradient.
      await o3.setWeights(await o2.getWeights());
      o2.dispose();
      for (const g of grads.slice(10)) tf.tidy(() => { o3.applyGradients([[tf.tensor1d(g), b]]); });
      assertSameFloats(b.dataSync(), a.dataSync() as Float32Array, `${flavor} restored`);
      o1.dispose();
      o3.dispose();
      tf.dispose([a, b]);
    });
  }

  for (const flavor of FLAVORS) {
    test(`${flavor}: sparse 'dense-equivalent' matches the densified gradient; 'lazy' leaves other rows alone; no leaks`, () => {
      const before = tf.memory().numTensors;
      for (const weightDecay of [0, 0.05]) {
        const r = rng(5);
        const rows = 6;
        const init = randomValues(rows * 3, r);
        const dense = tf.tidy(() => tf.variable(tf.tensor2d(init, [rows, 3])));
        const sparse = tf.tidy(() => tf.variable(tf.tensor2d(init, [rows, 3])));
        const lazy = tf.tidy(() => tf.variable(tf.tensor2d(init, [rows, 3])));
        const opts = { flavor, momentum: 0.9, learningRate: 0.01, weightDecay } as const;
        const od = new RMSprop(opts);
        const os = new RMSprop({ ...opts, sparseMode: 'dense-equivalent' });
        const ol = new RMSprop({ ...opts, sparseMode: 'lazy' });
        for (let step = 0; step < 12; step++) {
          const idx = [step % rows, (step * 5 + 1) % rows, step % rows];
          const vals = randomValues(9, r);
          tf.tidy(() => {
            const slices = new IndexedSlices(tf.tensor2d(vals, [3, 3]), idx);
            od.applyGradients([[tf.scatterND(tf.tensor2d(idx, [3, 1], 'int32'), tf.tensor2d(vals, [3, 3]), [rows, 3]), dense]]);
            os.applyGradients([[slices, sparse]]);
            const untouched = lazy.dataSync().slice();
            ol.applyGradients([[slices, lazy]]);
            const after = lazy.dataSync();
            for (let row = 0; row < rows; row++) {
              if (idx.includes(row)) continue;
              for (let j = 0; j < 3; j++) assert.equal(after[row * 3 + j], untouched[row * 3 + j], `lazy row ${row}`);
            }
          });
        }
        os.finalizeVariableValues();
        // The catch-up of idle rows is closed form (products in double), so equal within float32 rounding.
        assertClose(sparse.dataSync(), dense.dataSync(), 1e-5, 1e-6, `${flavor} wd ${weightDecay} dense-equivalent`);
        assertClose(os.getSlot(sparse, 'rms').dataSync(), od.getSlot(dense, 'rms').dataSync(), 1e-5, 1e-12, `${flavor} rms`);
        for (const o of [od, os, ol]) o.dispose();
        tf.dispose([dense, sparse, lazy]);
      }
      assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
    });

    test(`${flavor}: sparse 'dense-equivalent' catches idle rows up over a changing learning rate and momentum`, () => {
      // Rows sit out steps whose rate (a schedule) and momentum (a function) differ:
      // the closed-form catch-up must weigh each step by its own values.
      const r = rng(9);
      const rows = 8;
      const init = randomValues(rows * 2, r);
      const dense = tf.tidy(() => tf.variable(tf.tensor2d(init, [rows, 2])));
      const sparse = tf.tidy(() => tf.variable(tf.tensor2d(init, [rows, 2])));
      let step = 0;
      const opts = {
        flavor, learningRate: new schedules.ExponentialDecay({ initialLearningRate: 0.05, decaySteps: 2, decayRate: 0.7 }),
        momentum: () => 0.5 + 0.04 * (step % 5),
      } as const;
      const od = new RMSprop(opts);
      const os = new RMSprop({ ...opts, sparseMode: 'dense-equivalent' });
      try {
        for (; step < 16; step++) {
          const idx = step % 4 === 0 ? [0, 5] : [0, 1];
          const vals = randomValues(4, r);
          tf.tidy(() => {
            od.applyGradients([[tf.scatterND(tf.tensor2d(idx, [2, 1], 'int32'), tf.tensor2d(vals, [2, 2]), [rows, 2]), dense]]);
            os.applyGradients([[new IndexedSlices(tf.tensor2d(vals, [2, 2]), idx), sparse]]);
          });
        }
        os.finalizeVariableValues();
        assertClose(sparse.dataSync(), dense.dataSync(), 1e-5, 1e-6, `${flavor} variable`);
        assertClose(os.getSlot(sparse, 'momentum').dataSync(), od.getSlot(dense, 'momentum').dataSync(), 1e-5, 1e-9, `${flavor} momentum`);
      } finally {
        for (const o of [od, os]) o.dispose();
        tf.dispose([dense, sparse]);
      }
    });
  }
});
