/**
 * RMSprop with each schedule as `learningRate`, for 12 steps on the cpu and wasm
 * backends: the schedule is read at the iteration count before the increment
 * (step 0 on the first update) and its value drives the update.
 *
 * Setup: one variable starting at 0, gradient 1 every step, rho 0, momentum 0.
 * Then ms = g² = 1 and each step moves the variable by exactly
 * -lr_t · 1 / (sqrt(1) + ε), ε = 1e-7, so after k steps it is
 * -Σ_{t<k} lr_t / (1 + ε), with lr_t from the float64 formulas.
 *
 * Tolerance: each lr_t is within 4e-6 relative of the float64 formula (see
 * values.test.ts), and each float32 update of the variable (|w| <= 1.2) adds at
 * most half an ulp, 2^-24 · 1.2. Over k <= 12 steps of lr <= 0.1 this is below
 * 12 · (0.1 · 4e-6 + 7.2e-8) ≈ 5.7e-6: atol 1e-5. Reading the schedule one step
 * late or early moves the sum by 5e-3 or more for every schedule here.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { RMSprop, schedules } from '../../src/index.js';
import { assertClose, BACKENDS, tf, useBackend } from '../support/tf.js';
import * as f64 from './float64.js';

const STEPS = 12;
const EPSILON = 1e-7;

interface Case {
  schedule: () => schedules.LearningRateSchedule;
  /** The learning rate at step t, in float64, independent of src/. */
  expected: (t: number) => number;
}

const CASES: Record<string, Case> = {
  ExponentialDecay: {
    schedule: () => new schedules.ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 3, decayRate: 0.5, staircase: true }),
    expected: (t) => f64.exponential(t, 0.1, 3, 0.5, true),
  },
  PiecewiseConstantDecay: {
    schedule: () => new schedules.PiecewiseConstantDecay({ boundaries: [3, 7], values: [0.1, 0.05, 0.01] }),
    expected: (t) => (t <= 3 ? 0.1 : t <= 7 ? 0.05 : 0.01),
  },
  PolynomialDecay: {
    schedule: () => new schedules.PolynomialDecay({ initialLearningRate: 0.1, decaySteps: 5, endLearningRate: 0.01, power: 2, cycle: true }),
    expected: (t) => f64.polynomial(t, 0.1, 5, 0.01, 2, true),
  },
  InverseTimeDecay: {
    schedule: () => new schedules.InverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 2, decayRate: 0.5 }),
    expected: (t) => f64.inverseTime(t, 0.1, 2, 0.5, false),
  },
  CosineDecay: {
    schedule: () => new schedules.CosineDecay({ initialLearningRate: 0.1, decaySteps: 10, alpha: 0.1 }),
    expected: (t) => f64.cosine(t, 0.1, 10, 0.1),
  },
  'CosineDecay with warm-up': {
    schedule: () => new schedules.CosineDecay({ initialLearningRate: 0.01, decaySteps: 6, warmupTarget: 0.1, warmupSteps: 4 }),
    expected: (t) => f64.cosineWarmup(t, 0.01, 6, 0, 0.1, 4),
  },
  CosineDecayRestarts: {
    schedule: () => new schedules.CosineDecayRestarts({ initialLearningRate: 0.1, firstDecaySteps: 3, tMul: 2, mMul: 0.5, alpha: 0.05 }),
    expected: (t) => f64.cosineRestarts(t, 0.1, 3, 2, 0.5, 0.05),
  },
  LinearCosineDecay: {
    schedule: () => new schedules.LinearCosineDecay({ initialLearningRate: 0.1, decaySteps: 10, numPeriods: 1, alpha: 0.1 }),
    expected: (t) => f64.linearCosine(t, 0.1, 10, 1, 0.1, 0.001),
  },
};

/** Runs the setup above; returns the variable after each step and the lr the optimizer reported before it. */
function run(schedule: schedules.LearningRateSchedule): { w: number[]; lr: number[] } {
  const opt = new RMSprop({ learningRate: schedule, rho: 0, momentum: 0, epsilon: EPSILON });
  const v = tf.variable(tf.zeros([3]), true);
  const g = tf.ones([3]);
  const w: number[] = [];
  const lr: number[] = [];
  try {
    for (let k = 0; k < STEPS; k++) {
      lr.push(opt.currentLearningRate());
      assert.equal(opt.applyGradients([[g, v]]), k + 1);
      const data = v.dataSync();
      assert.ok(data[0] === data[1] && data[1] === data[2], `step ${k + 1}: elements differ ${data}`);
      w.push(data[0]);
    }
  } finally {
    opt.dispose();
    tf.dispose([v, g]);
  }
  return { w, lr };
}

for (const backend of BACKENDS) {
  describe(`RMSprop with each schedule (${backend})`, () => {
    before(() => useBackend(backend));

    for (const [name, c] of Object.entries(CASES)) {
      test(name, () => {
        const schedule = c.schedule();
        const { w, lr } = run(schedule);
        let sum = 0;
        for (let k = 0; k < STEPS; k++) {
          // The first update uses step 0: the count before the increment.
          assert.equal(lr[k], schedule.valueAt(k), `${name}: currentLearningRate before step ${k + 1}`);
          sum += c.expected(k) / (1 + EPSILON);
          assertClose([w[k]], [-sum], 0, 1e-5, `${name}: variable after step ${k + 1}`);
        }
      });
    }

    test('NoisyLinearCosineDecay with a seed: the run is reproducible and follows valueAt(step)', () => {
      const make = () => new schedules.NoisyLinearCosineDecay({
        initialLearningRate: 0.1, decaySteps: 10, initialVariance: 1e-4, seed: 11,
      });
      const a = run(make());
      const b = run(make());
      assert.deepEqual(a.w, b.w);
      const s = make();
      let sum = 0;
      for (let k = 0; k < STEPS; k++) {
        assert.equal(a.lr[k], s.valueAt(k));
        sum += s.valueAt(k) / (1 + EPSILON);
        assertClose([a.w[k]], [-sum], 0, 1e-5, `variable after step ${k + 1}`);
      }
      // And the noise is there: the seeded values are not the noiseless ones.
      assert.ok([1, 2, 3].some((t) => s.valueAt(t) !== Math.fround(f64.linearCosine(t, 0.1, 10, 0.5, 0, 0.001))));
    });

    test('a schedule stacks with the legacy decay: lr_t / (1 + decay · t)', () => {
      const schedule = CASES.InverseTimeDecay.schedule();
      const opt = new RMSprop({ learningRate: schedule, decay: 0.25 });
      const v = tf.variable(tf.zeros([1]), true);
      const g = tf.ones([1]);
      try {
        for (let k = 0; k < 5; k++) {
          const expected = CASES.InverseTimeDecay.expected(k) / (1 + 0.25 * k);
          assertClose([opt.currentLearningRate()], [expected], 4e-6, 0, `lr before step ${k + 1}`);
          opt.applyGradients([[g, v]]);
        }
      } finally {
        opt.dispose();
        tf.dispose([v, g]);
      }
    });
  });
}
