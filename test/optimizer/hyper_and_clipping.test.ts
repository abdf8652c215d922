/**
 * Per-step scalars (float32 rounding, functions called every step, the legacy
 * decay, schedules read before the increment) and the three clip options with
 * TF 2.4's formulas, each checked against values worked out independently.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { RMSprop, schedules } from '../../src/index.js';
import { clipByGlobalNorm, clipByNorm, clipByValue } from '../../src/clipping/tensor.js';
import { resolveStepScalars } from '../../src/rmsprop/scalars.js';
import { assertClose, tf, useBackend } from '../support/tf.js';

const f = Math.fround;

describe('per-step scalars', () => {
  before(() => useBackend('cpu'));

  test('1 − rho is computed in float32 from float32 rho (0.100000024 for 0.9)', () => {
    const s = resolveStepScalars({ learningRate: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7, decay: 0 }, 0);
    assert.equal(s.rho, f(0.9));
    assert.equal(s.oneMinusRho, f(1 - f(0.9)));
    assert.equal(s.oneMinusRho.toPrecision(9), '0.100000024');
    assert.equal(s.lr, f(0.001));
    const s2 = resolveStepScalars({ learningRate: 0.01, rho: 0.999, momentum: 0, epsilon: 1e-7, decay: 0 }, 0);
    assert.equal(s2.oneMinusRho.toPrecision(6), '0.000999987');
  });

  test('legacy decay: lr / (1 + decay·t) in float32, t the count before the increment', () => {
    for (const t of [0, 1, 2, 7, 1000]) {
      const s = resolveStepScalars({ learningRate: 0.01, rho: 0.9, momentum: 0, epsilon: 1e-7, decay: 0.5 }, t);
      assert.equal(s.lr, f(f(0.01) / f(1 + f(f(0.5) * t))), `t=${t}`);
    }
  });

  test('functions are called on every step; a schedule sees the step before the increment', () => {
    const seen: number[] = [];
    class Recorder extends schedules.LearningRateSchedule {
      static get className() { return 'RecorderForHyperTest'; }
      valueAt(step: number) { seen.push(step); return 0.1 / (1 + step); }
      getConfig() { return {}; }
    }
    let rhoCalls = 0;
    const opt = new RMSprop({ learningRate: new Recorder(), rho: () => { rhoCalls++; return 0.9; }, momentum: () => 0.5 });
    const v = tf.variable(tf.ones([2]));
    for (let i = 0; i < 3; i++) opt.applyGradients([[tf.ones([2]), v]]);
    assert.deepEqual(seen, [0, 1, 2]);
    assert.equal(rhoCalls, 3);
    assert.equal(opt.currentLearningRate(), f(0.1 / 4));
  });
});

describe('clipping formulas', () => {
  before(() => useBackend('cpu'));

  test('clipvalue: max(min(g, c), −c)', () => {
    const out = tf.tidy(() => clipByValue(tf.tensor1d([-3, -1, 0.5, 1, 7]), 1).dataSync());
    assertClose(out, [-1, -1, 0.5, 1, 1], 0, 0, 'clipvalue');
  });

  test('clipnorm: (g·c)/max(‖g‖, c); Keras 3 test_clip_norm [[100, 100]] → [√2/2, √2/2]', () => {
    const out = tf.tidy(() => clipByNorm(tf.tensor2d([[100, 100]]), 1).dataSync());
    // Each op rounds to float32: g·c = 100, ‖g‖ = f32(√20000), one division.
    const expected = f(100 / f(Math.sqrt(20000)));
    assertClose(out, [expected, expected], 0, 0, 'clipnorm');
    assertClose([expected], [Math.SQRT1_2], 1e-7, 0, 'close to √2/2');
    // Below the threshold the gradient is multiplied and divided by c: not always bit-identical.
    const small = tf.tidy(() => clipByNorm(tf.tensor1d([0.3, 0.4]), 3).dataSync());
    assertClose(small, [f(f(f(0.3) * 3) / 3), f(f(f(0.4) * 3) / 3)], 0, 0, 'unclipped');
    // A zero gradient stays zero (no 0/0).
    const zero = tf.tidy(() => clipByNorm(tf.zeros([3]), 1).dataSync());
    assertClose(zero, [0, 0, 0], 0, 0, 'zero');
  });

  test('globalClipnorm: TF optimizer_v2_test gradients (3, 4), norm 5, c = 2 → scaled by 2/5', () => {
    const [a, b] = tf.tidy(() => clipByGlobalNorm([tf.tensor1d([3]), tf.tensor1d([4])], 2).map((t) => t.dataSync()));
    assertClose(a, [1.2], 1e-7, 0, 'a');
    assertClose(b, [1.6], 1e-7, 0, 'b');
    const nan = tf.tidy(() => clipByGlobalNorm([tf.tensor1d([Infinity, 1])], 2)[0].dataSync());
    assert.ok(Number.isNaN(nan[0]) && Number.isNaN(nan[1]), 'a non-finite global norm makes every gradient NaN, as in TF');
  });

  test('clipvalue runs before clipnorm inside the optimizer', () => {
    // g = [3, 4]: clipvalue 1 → [1, 1], then clipnorm 1 → [1/√2, 1/√2]. The other order gives [0.6, 0.8].
    const opt = new RMSprop({ learningRate: 1, rho: 0, clipvalue: 1, clipnorm: 1, epsilon: 1e-7 });
    const v = tf.variable(tf.zeros([2]));
    opt.applyGradients([[tf.tensor1d([3, 4]), v]]);
    // rho = 0, so ms = g² and the step is lr·g/(|g| + ε) ≈ sign(g): look at ms instead.
    const ms = opt.getSlot(v, 'rms').dataSync();
    const c = f(f(1 * 1) / f(Math.sqrt(2)));
    assertClose(ms, [f(c * c), f(c * c)], 2e-7, 0, 'rms after clipping');
  });
});
