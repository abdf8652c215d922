/**
 * 'tfjs' against tf.train.rmsprop itself (run side by side on the same
 * gradients, cpu and wasm), and 'keras3' against Keras 3's published test
 * values (keras/src/optimizers/rmsprop_test.py, v3.15.1, quoted in
 * notes/keras2-semantics.md §8) and a float64 rewrite of its formula.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RMSprop } from '../../src/index.js';
import { rng, randomValues } from '../kernels/support.js';
import { assertSameFloats } from '../kernels/support.js';
import { BACKENDS, assertClose, tf, useBackend } from '../support/tf.js';

const FAST = { cpu: 'cpu-simd', wasm: 'wasm-simd' } as const;

for (const backend of BACKENDS) {
  describe(`tfjs flavor against tf.train.rmsprop (${backend})`, () => {
    before(() => useBackend(backend));
    const configs = [
      { lr: 0.01, decay: 0.9, momentum: 0, epsilon: 1e-7 },
      { lr: 0.003, decay: 0.95, momentum: 0.9, epsilon: 1e-6 },
      { lr: 0.1, decay: 0.99, momentum: 0.5, epsilon: 1e-3 },
    ];
    for (const c of configs) {
      test(`lr ${c.lr}, decay ${c.decay}, momentum ${c.momentum}: 60 steps equal TF.js to the bit, values and slots`, async () => {
        const r = rng(42);
        const shapes = [[37], [5, 7], [3]];
        const init = shapes.map((s) => randomValues(s.reduce((a, b) => a * b, 1), r));
        const theirs = init.map((v, i) => tf.tidy(() => tf.variable(tf.tensor(v, shapes[i]), true, `tfjs_${backend}_${c.lr}_${i}`)));
        const ours = init.map((v, i) => tf.tidy(() => tf.variable(tf.tensor(v, shapes[i]))));
        const ref = tf.train.rmsprop(c.lr, c.decay, c.momentum, c.epsilon, false);
        const opt = new RMSprop({ flavor: 'tfjs', learningRate: c.lr, rho: c.decay, momentum: c.momentum, epsilon: c.epsilon });
        try {
          for (let step = 0; step < 60; step++) {
            const grads = init.map((v) => Float32Array.from(v, () => (r() * 2 - 1) * 10 ** (r() * 6 - 4)));
            tf.tidy(() => {
              ref.applyGradients(Object.fromEntries(theirs.map((v, i) => [v.name, tf.tensor(grads[i], shapes[i])])));
              opt.applyGradients(ours.map((v, i) => [tf.tensor(grads[i], shapes[i]), v] as [tf.Tensor, tf.Variable]));
            });
            for (const k of opt.lastStepKernels()) assert.equal(k.kernel, FAST[backend], JSON.stringify(k));
            ours.forEach((v, i) => assertSameFloats(v.dataSync(), theirs[i].dataSync() as Float32Array, `step ${step} var ${i}`));
          }
          // TF.js keeps [iter, rms..., momentum...]; the tfjs flavor keeps the same slots, momentum 0 included.
          assert.deepEqual(opt.getSlotNames(), ['rms', 'momentum']);
          const tw = await ref.getWeights();
          const ow = await opt.getWeights();
          assert.equal(ow.length, tw.length);
          for (let i = 1; i < tw.length; i++) assertSameFloats(ow[i].tensor.dataSync(), tw[i].tensor.dataSync() as Float32Array, `weight ${tw[i].name}`);
        } finally {
          ref.dispose();
          opt.dispose();
          tf.dispose([...theirs, ...ours]);
        }
      });
    }

    test('centered: TF.js subtracts epsilon and turns small-gradient rows into NaN; the flavor adds it', () => {
      // One step from zero state: ms = 0.1·g², mg = 0.1·g, ms − mg² = 0.09·g².
      // For g = 1e-4 that is 9e-10, below ε = 1e-7: TF.js takes √(9e-10 − 1e-7) = NaN.
      const g = [1e-4, 1e-2, 1];
      const mk = (name: string) => tf.tidy(() => tf.variable(tf.tensor1d([1, 1, 1]), true, name));
      const theirs = mk(`tfjs_centered_${backend}`);
      const ours = mk(`ours_centered_${backend}`);
      const ref = tf.train.rmsprop(0.01, 0.9, 0, 1e-7, true);
      const opt = new RMSprop({ flavor: 'tfjs', learningRate: 0.01, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: true });
      try {
        tf.tidy(() => {
          ref.applyGradients({ [theirs.name]: tf.tensor1d(g) });
          opt.applyGradients([[tf.tensor1d(g), ours]]);
        });
        const t = theirs.dataSync();
        const o = ours.dataSync();
        assert.ok(Number.isNaN(t[0]), 'TF.js gives NaN for the small gradient');
        assert.ok(Number.isFinite(o[0]));
        const f32 = Math.fround;
        const omr = f32(1 - 0.9);
        for (let i = 0; i < 3; i++) {
          const m = f32(f32(g[i] * g[i]) * omr);
          const a = f32(f32(g[i]) * omr);
          const d = f32(m - f32(f32(a * a) - f32(1e-7)));
          assert.equal(o[i], f32(1 - f32(f32(f32(g[i]) * f32(0.01)) / f32(Math.sqrt(d)))), `element ${i}`);
        }
        assert.ok(Math.abs(o[2] - t[2]) > 0 && Math.abs(o[2] - t[2]) < 1e-6, 'large gradients: only ε\'s sign differs');
      } finally {
        ref.dispose();
        opt.dispose();
        tf.dispose([theirs, ours]);
      }
    });
  });
}

describe('keras3 flavor: Keras 3\'s own test values', () => {
  before(() => useBackend('cpu'));
  test('test_single_step: RMSprop(learning_rate=0.5) gives [-0.5811, 0.4189, 1.4189, 2.4189]', () => {
    const v = tf.tidy(() => tf.variable(tf.tensor1d([1, 2, 3, 4])));
    const opt = new RMSprop({ flavor: 'keras3', learningRate: 0.5 });
    tf.tidy(() => { opt.applyGradients([[tf.tensor1d([1, 6, 7, 2]), v]]); });
    assertClose(v.dataSync(), [-0.5811, 0.4189, 1.4189, 2.4189], 1e-4, 1e-4, 'single step');
    opt.dispose();
    v.dispose();
  });

  test('test_weight_decay: learning_rate 1, weight_decay 0.004, zero gradients: 2·0.996³ = 1.9760959', () => {
    const v = tf.tidy(() => tf.variable(tf.tensor1d([2])));
    for (let k = 0; k < 3; k++) {
      const opt = new RMSprop({ flavor: 'keras3', learningRate: 1, weightDecay: 0.004 });
      tf.tidy(() => { opt.applyGradients([[tf.zeros([1]), v]]); });
      opt.dispose();
    }
    assert.ok(Math.abs(v.dataSync()[0] - 1.9760959) < 1e-6, `got ${v.dataSync()[0]}`);
    v.dispose();
  });

  test('test_correctness_with_golden: centered, golden [0.9967, 0.9933, 0.9908, 0.9885, 0.9864] (rtol=atol=5e-4)', () => {
    const x = tf.tidy(() => tf.variable(tf.ones([10])));
    const opt = new RMSprop({ flavor: 'keras3', centered: true });
    const golden = [0.9967, 0.9933, 0.9908, 0.9885, 0.9864];
    const first = tf.fill([10], 0.01);
    const grads = tf.range(0.1, 1.1, 0.1).slice([0], [10]);
    tf.tidy(() => { opt.applyGradients([[first, x]]); });
    for (let i = 0; i < 5; i++) {
      assertClose(x.dataSync(), new Array(10).fill(golden[i]), 5e-4, 5e-4, `golden ${i}`);
      tf.tidy(() => { opt.applyGradients([[grads, x]]); });
    }
    tf.dispose([first, grads, x]);
    opt.dispose();
  });

  test('epsilon always inside the square root: 10× smaller first step than TF 2.4 at g = 1e-4 (momentum 0)', () => {
    const step = (flavor: 'keras2' | 'keras3') => {
      const v = tf.tidy(() => tf.variable(tf.tensor1d([0])));
      const opt = new RMSprop({ flavor, learningRate: 0.1 });
      tf.tidy(() => { opt.applyGradients([[tf.tensor1d([1e-4]), v]]); });
      const out = -v.dataSync()[0];
      opt.dispose();
      v.dispose();
      return out;
    };
    assertClose([step('keras2')], [0.3152309], 1e-6, 0, 'TF 2.4');
    assertClose([step('keras3')], [0.03146584], 1e-6, 0, 'Keras 3');
  });

  test('a float64 rewrite of Keras 3\'s update_step tracks 100 float32 steps within 1e-5 relative', () => {
    // Keras 3's formula in double: each step rounds ~12 float32 operations (2^-24
    // each); 100 steps of a contracting update stay well under 1e-5 relative.
    for (const [momentum, centered, weightDecay] of [[0, false, 0], [0.9, true, 0.01], [0.5, false, 0.1]] as const) {
      const r = rng(7);
      const n = 19;
      const init = randomValues(n, r);
      const v = tf.tidy(() => tf.variable(tf.tensor1d(init)));
      const opt = new RMSprop({ flavor: 'keras3', learningRate: 0.01, rho: 0.9, momentum, centered, weightDecay, epsilon: 1e-6 });
      const w = Array.from(init);
      const vel = new Array(n).fill(0);
      const ag = new Array(n).fill(0);
      const mom = new Array(n).fill(0);
      for (let step = 0; step < 100; step++) {
        const g = Float32Array.from(w, (x) => 2 * x + (r() - 0.5) * 0.1);
        tf.tidy(() => { opt.applyGradients([[tf.tensor1d(g), v]]); });
        assert.equal(opt.lastStepKernels()[0].kernel, 'cpu-simd');
        for (let i = 0; i < n; i++) {
          w[i] -= w[i] * weightDecay * 0.01;
          vel[i] = 0.9 * vel[i] + 0.1 * g[i] * g[i];
          let den = vel[i] + 1e-6;
          if (centered) { ag[i] = 0.9 * ag[i] + 0.1 * g[i]; den = vel[i] - ag[i] * ag[i] + 1e-6; }
          const inc = (0.01 * g[i]) / Math.sqrt(den);
          if (momentum > 0) { mom[i] = momentum * mom[i] + inc; w[i] -= mom[i]; } else w[i] -= inc;
        }
      }
      assertClose(v.dataSync(), w, 1e-5, 1e-6, `momentum ${momentum} centered ${centered} wd ${weightDecay}`);
      opt.dispose();
      v.dispose();
    }
  });
});
