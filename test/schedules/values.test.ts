/**
 * Each schedule against the float64 formulas of ./float64.ts at step 0, inside
 * the decay, at the boundaries, at the end of the decay and far past it, with and
 * without `staircase` and `cycle`.
 *
 * Tolerance. Our values are float32 computations; the reference is float64. Each
 * float32 op is correctly rounded (relative error <= 2^-24), and so is each input
 * (lr0, rates, alpha, π). The longest chain is about a dozen ops, so without
 * amplification the error stays below 32·2^-24. Two things amplify it and are
 * added per case: `pow` (a relative error e in the base becomes p·e in the
 * result, one in the exponent becomes |p·ln(base)|·e), and the cosine factor
 * `1 + cos(...)`, which cancels near its zero, so there its error is absolute:
 * about 2^-23 of the factor, covered by `atol = 2^-20 · lr0`. Any real mistake
 * (a step off by one, a wrong clamp, a missed floor) moves values by 1e-3
 * relative or more, far outside these bounds.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { schedules } from '../../src/index.js';
import { assertClose } from '../support/tf.js';
import * as f64 from './float64.js';

const ULP = 2 ** -24;

/** `|actual − expected| <= atol + rtol·|expected|` at every step; also checks the values are float32. */
function check(
  s: schedules.LearningRateSchedule, steps: number[], expected: (t: number) => number,
  opts: { lr0: number; amplification?: (t: number) => number },
): void {
  for (const t of steps) {
    const actual = s.valueAt(t);
    assert.equal(Math.fround(actual), actual, `${s.getClassName()} at step ${t} is not a float32: ${actual}`);
    const rtol = ULP * (32 + (opts.amplification?.(t) ?? 0));
    assertClose([actual], [expected(t)], rtol, 2 ** -20 * opts.lr0, `${s.getClassName()} at step ${t}`);
  }
}

describe('ExponentialDecay', () => {
  const steps = [0, 1, 50, 99, 100, 101, 199, 200, 250, 1000, 100_000];
  for (const staircase of [false, true]) {
    test(`lr0 0.1, decaySteps 100, decayRate 0.96, staircase ${staircase}`, () => {
      const s = new schedules.ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 100, decayRate: 0.96, staircase });
      // pow: the exponent p = t/100 and the float32 rounding of 0.96 both scale by p.
      check(s, steps, (t) => f64.exponential(t, 0.1, 100, 0.96, staircase), {
        lr0: 0.1, amplification: (t) => 2 * (t / 100) * (1 + Math.abs(Math.log(0.96))),
      });
    });
  }

  test('staircase holds the value through each interval and drops at the boundary', () => {
    const s = new schedules.ExponentialDecay({ initialLearningRate: 1, decaySteps: 3, decayRate: 0.5, staircase: true });
    assert.deepEqual([0, 1, 2, 3, 5, 6, 9].map((t) => s.valueAt(t)), [1, 1, 1, 0.5, 0.5, 0.25, 0.125]);
  });

  test('defaults: staircase false, name null', () => {
    const s = new schedules.ExponentialDecay({ initialLearningRate: 1, decaySteps: 2, decayRate: 0.25 });
    assert.equal(s.valueAt(1), 0.5);
    assert.deepEqual(s.getConfig(), { initialLearningRate: 1, decaySteps: 2, decayRate: 0.25, staircase: false, name: null });
  });
});

describe('PiecewiseConstantDecay', () => {
  test('left-open, right-closed intervals: boundaries [3, 7]', () => {
    const values = [0.1, 0.05, 0.01];
    const s = new schedules.PiecewiseConstantDecay({ boundaries: [3, 7], values });
    const expected = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2];
    const steps = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1_000_000];
    steps.forEach((t, i) => assert.equal(s.valueAt(t), Math.fround(values[expected[i]]), `step ${t}`));
  });

  test('a fractional boundary is truncated against an integer step, as TF casts it to int64', () => {
    const s = new schedules.PiecewiseConstantDecay({ boundaries: [2.5], values: [1, 2] });
    assert.deepEqual([2, 3].map((t) => s.valueAt(t)), [1, 2]);
    // A fractional step compares in float32 against the boundary as given.
    assert.deepEqual([2.4, 2.6].map((t) => s.valueAt(t)), [1, 2]);
  });

  test('integer steps compare exactly beyond float32 precision (2^24 + 1 > 2^24)', () => {
    const s = new schedules.PiecewiseConstantDecay({ boundaries: [2 ** 24], values: [1, 2] });
    assert.equal(s.valueAt(2 ** 24), 1);
    assert.equal(s.valueAt(2 ** 24 + 1), 2);
  });

  test('one value and no boundaries is a constant', () => {
    const s = new schedules.PiecewiseConstantDecay({ boundaries: [], values: [0.3] });
    assert.equal(s.valueAt(0), Math.fround(0.3));
    assert.equal(s.valueAt(1e9), Math.fround(0.3));
  });
});

describe('PolynomialDecay', () => {
  const steps = [0, 1, 5, 9, 10, 11, 15, 19, 20, 21, 1000];
  for (const cycle of [false, true]) {
    for (const power of [1, 2, 0.5]) {
      test(`lr0 0.1, decaySteps 10, end 0.01, power ${power}, cycle ${cycle}`, () => {
        const s = new schedules.PolynomialDecay({
          initialLearningRate: 0.1, decaySteps: 10, endLearningRate: 0.01, power, cycle,
        });
        check(s, steps, (t) => f64.polynomial(t, 0.1, 10, 0.01, power, cycle), { lr0: 0.1, amplification: () => 2 * power });
      });
    }
  }

  test('cycle restarts at the multiple of decaySteps above the step', () => {
    const s = new schedules.PolynomialDecay({ initialLearningRate: 1, decaySteps: 10, endLearningRate: 0, cycle: true });
    // Step 10 ends the first cycle (1 − 10/10); step 11 is 11/20 into a 20-step cycle.
    assert.equal(s.valueAt(10), 0);
    assert.equal(s.valueAt(11), Math.fround(1 - Math.fround(11 / 20)));
  });

  test('defaults: endLearningRate 0.0001, power 1, cycle false', () => {
    const s = new schedules.PolynomialDecay({ initialLearningRate: 0.1, decaySteps: 4 });
    check(s, [0, 2, 4, 100], (t) => f64.polynomial(t, 0.1, 4, 0.0001, 1, false), { lr0: 0.1 });
    assert.equal(s.valueAt(100), Math.fround(0.0001));
  });
});

describe('InverseTimeDecay', () => {
  const steps = [0, 1, 4, 5, 6, 10, 11, 1000, 1_000_000];
  for (const staircase of [false, true]) {
    test(`lr0 0.1, decaySteps 5, decayRate 0.5, staircase ${staircase}`, () => {
      const s = new schedules.InverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 5, decayRate: 0.5, staircase });
      check(s, steps, (t) => f64.inverseTime(t, 0.1, 5, 0.5, staircase), { lr0: 0.1 });
    });
  }

  test('the docstring numbers of testDenseWithLearningRateInverseTimeDecay: 0.01/(1 + 0.5t)', () => {
    const s = new schedules.InverseTimeDecay({ initialLearningRate: 0.01, decaySteps: 1, decayRate: 0.5 });
    check(s, [0, 1, 2, 3], (t) => 0.01 / (1 + 0.5 * t), { lr0: 0.01 });
  });
});

describe('CosineDecay', () => {
  const steps = [0, 1, 3, 5, 7, 9, 10, 11, 1_000_000];
  for (const alpha of [0, 0.1]) {
    test(`lr0 0.1, decaySteps 10, alpha ${alpha}`, () => {
      const s = new schedules.CosineDecay({ initialLearningRate: 0.1, decaySteps: 10, alpha });
      check(s, steps, (t) => f64.cosine(t, 0.1, 10, alpha), { lr0: 0.1 });
    });
  }

  test('at and past the end it is alpha · lr0', () => {
    const s = new schedules.CosineDecay({ initialLearningRate: 2, decaySteps: 7, alpha: 0.25 });
    assert.equal(s.valueAt(7), 0.5);
    assert.equal(s.valueAt(7000), 0.5);
  });

  test('Keras 3 warm-up: linear from lr0 to warmupTarget, then cosine from the target', () => {
    const s = new schedules.CosineDecay({
      initialLearningRate: 0.01, decaySteps: 10, alpha: 0.1, warmupTarget: 0.1, warmupSteps: 5,
    });
    const warmSteps = [0, 1, 2, 4, 5, 6, 10, 14, 15, 16, 1000];
    check(s, warmSteps, (t) => f64.cosineWarmup(t, 0.01, 10, 0.1, 0.1, 5), { lr0: 0.1 });
    assert.equal(s.valueAt(0), Math.fround(0.01));
    assert.equal(s.valueAt(5), Math.fround(0.1));
  });

  test('warmupTarget with warmupSteps 0 decays from the target from step 0, as Keras 3 does', () => {
    const s = new schedules.CosineDecay({ initialLearningRate: 0.5, decaySteps: 10, warmupTarget: 0.1 });
    check(s, [0, 5, 10, 20], (t) => f64.cosine(t, 0.1, 10, 0), { lr0: 0.1 });
  });

  test('without warm-up options the config has the TF 2.4 keys only', () => {
    const s = new schedules.CosineDecay({ initialLearningRate: 0.1, decaySteps: 10 });
    assert.deepEqual(s.getConfig(), { initialLearningRate: 0.1, decaySteps: 10, alpha: 0, name: null });
  });
});

describe('CosineDecayRestarts', () => {
  test('tMul 2, mMul 0.5, alpha 0.05: periods of 5, 10, 20 steps', () => {
    const s = new schedules.CosineDecayRestarts({
      initialLearningRate: 0.1, firstDecaySteps: 5, tMul: 2, mMul: 0.5, alpha: 0.05,
    });
    const steps = [0, 1, 4, 5, 6, 14, 15, 16, 34, 35, 36, 100, 10_000];
    // mMul^i with i <= 11 (step 10 000): pow's error grows with the index.
    check(s, steps, (t) => f64.cosineRestarts(t, 0.1, 5, 2, 0.5, 0.05), { lr0: 0.1, amplification: () => 24 });
  });

  test('tMul 1: equal periods (the floor branch)', () => {
    const s = new schedules.CosineDecayRestarts({ initialLearningRate: 0.1, firstDecaySteps: 4, tMul: 1, mMul: 0.9 });
    const steps = [0, 3, 4, 5, 8, 11, 12, 100];
    check(s, steps, (t) => f64.cosineRestarts(t, 0.1, 4, 1, 0.9, 0), { lr0: 0.1, amplification: () => 50 });
  });

  test('tMul 1.5 away from the period starts (4, 10, 19, 32.5, 52.75)', () => {
    const s = new schedules.CosineDecayRestarts({ initialLearningRate: 0.1, firstDecaySteps: 4, tMul: 1.5, mMul: 0.8 });
    const steps = [0, 3, 5, 12, 25, 40];
    check(s, steps, (t) => f64.cosineRestarts(t, 0.1, 4, 1.5, 0.8, 0), { lr0: 0.1, amplification: () => 32 });
  });

  test('a restart jumps back to mMul^i · lr0', () => {
    const s = new schedules.CosineDecayRestarts({ initialLearningRate: 1, firstDecaySteps: 5, mMul: 0.5 });
    assert.deepEqual([0, 5, 15, 35].map((t) => s.valueAt(t)), [1, 0.5, 0.25, 0.125]);
  });

  test('defaults: tMul 2, mMul 1, alpha 0', () => {
    const s = new schedules.CosineDecayRestarts({ initialLearningRate: 0.1, firstDecaySteps: 3 });
    check(s, [0, 2, 3, 8, 9, 20], (t) => f64.cosineRestarts(t, 0.1, 3, 2, 1, 0), { lr0: 0.1 });
  });
});

describe('LinearCosineDecay', () => {
  const steps = [0, 1, 3, 5, 9, 10, 11, 1000];
  for (const [numPeriods, alpha, beta] of [[0.5, 0, 0.001], [2, 0.1, 0.01], [0.25, 0, 0]] as const) {
    test(`lr0 0.1, decaySteps 10, numPeriods ${numPeriods}, alpha ${alpha}, beta ${beta}`, () => {
      const s = new schedules.LinearCosineDecay({ initialLearningRate: 0.1, decaySteps: 10, numPeriods, alpha, beta });
      check(s, steps, (t) => f64.linearCosine(t, 0.1, 10, numPeriods, alpha, beta), { lr0: 0.1 });
    });
  }

  test('defaults: numPeriods 0.5, alpha 0, beta 0.001; past the end it is beta · lr0', () => {
    const s = new schedules.LinearCosineDecay({ initialLearningRate: 2, decaySteps: 10 });
    check(s, [0, 4, 10], (t) => f64.linearCosine(t, 2, 10, 0.5, 0, 0.001), { lr0: 2 });
    assert.equal(s.valueAt(50), Math.fround(2 * Math.fround(0.001)));
  });
});

describe('NoisyLinearCosineDecay', () => {
  test('with initialVariance 0 it is LinearCosineDecay exactly', () => {
    const opts = { initialLearningRate: 0.1, decaySteps: 10, numPeriods: 2, alpha: 0.1, beta: 0.01 };
    const noisy = new schedules.NoisyLinearCosineDecay({ ...opts, initialVariance: 0 });
    const plain = new schedules.LinearCosineDecay(opts);
    for (const t of [0, 1, 5, 10, 100]) assert.equal(noisy.valueAt(t), plain.valueAt(t), `step ${t}`);
  });
});
