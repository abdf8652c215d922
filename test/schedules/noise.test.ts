/**
 * NoisyLinearCosineDecay's noise: reproducible from a seed whatever the call
 * order, different across seeds, fresh without a seed, and distributed as
 * N(0, σ) with σ = sqrt(initialVariance / (1 + t')^varianceDecay).
 *
 * The noise is recovered from the value: with beta 0 and alpha 0,
 * value / lr0 = (linear + noise) · c, so noise = value / (lr0 · c) − linear,
 * where c is the cosine factor. With decaySteps 1e9 over the first steps,
 * c ≈ 1 and linear ≈ 1, so the recovered noise carries an absolute error of
 * about 2^-23 (the float32 rounding of values near 1), negligible next to σ >= 0.05.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { schedules } from '../../src/index.js';
import { noiseStd } from './float64.js';

const D = 1e9;

function recoverNoise(s: schedules.NoisyLinearCosineDecay, t: number): number {
  const c = 0.5 * (1 + Math.cos(Math.PI * t / D));
  return s.valueAt(t) / c - (D - t) / D;
}

function build(options: Partial<schedules.NoisyLinearCosineDecayOptions>): schedules.NoisyLinearCosineDecay {
  return new schedules.NoisyLinearCosineDecay({ initialLearningRate: 1, decaySteps: D, beta: 0, ...options });
}

/** Mean, standard deviation, share within ±1σ and lag-1 correlation of `z`. */
function stats(z: number[]): { mean: number; sd: number; within1: number; lag1: number } {
  const n = z.length;
  const mean = z.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(z.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const within1 = z.filter((x) => Math.abs(x) <= 1).length / n;
  let cov = 0;
  for (let i = 1; i < n; i++) cov += (z[i] - mean) * (z[i - 1] - mean);
  return { mean, sd, within1, lag1: cov / (n - 1) / sd ** 2 };
}

/**
 * Loose bounds for N samples of a standard normal: the mean within 5/sqrt(N),
 * the sd within 5·sqrt(1/(2N)) of 1, the share within ±1σ within 5 standard
 * errors of 0.6827, the lag-1 correlation within 5/sqrt(N). A failure by chance
 * is below 1e-5 per check; with a seed the samples are fixed anyway.
 */
function assertStandardNormal(z: number[], what: string): void {
  const n = z.length;
  const { mean, sd, within1, lag1 } = stats(z);
  assert.ok(Math.abs(mean) < 5 / Math.sqrt(n), `${what}: mean ${mean}`);
  assert.ok(Math.abs(sd - 1) < 5 * Math.sqrt(1 / (2 * n)), `${what}: sd ${sd}`);
  const p = 0.6827;
  assert.ok(Math.abs(within1 - p) < 5 * Math.sqrt(p * (1 - p) / n), `${what}: share within 1σ ${within1}`);
  assert.ok(Math.abs(lag1) < 5 / Math.sqrt(n), `${what}: lag-1 correlation ${lag1}`);
}

describe('NoisyLinearCosineDecay noise', () => {
  test('a seed makes valueAt a pure function of the step, whatever the call order', () => {
    const a = build({ seed: 42, initialVariance: 0.01 });
    const b = build({ seed: 42, initialVariance: 0.01 });
    const forward = [0, 1, 2, 3, 50, 1000].map((t) => a.valueAt(t));
    const backward = [1000, 50, 3, 2, 1, 0].map((t) => b.valueAt(t)).reverse();
    assert.deepEqual(forward, backward);
    assert.deepEqual(forward, [0, 1, 2, 3, 50, 1000].map((t) => a.valueAt(t)));
    // And it survives a config round trip.
    const c = schedules.deserialize(schedules.serialize(a));
    assert.deepEqual([0, 1, 2, 3, 50, 1000].map((t) => c.valueAt(t)), forward);
  });

  test('different seeds give different noise', () => {
    const a = build({ seed: 1, initialVariance: 0.01 });
    const b = build({ seed: 2, initialVariance: 0.01 });
    const steps = Array.from({ length: 20 }, (_, i) => i);
    const differ = steps.filter((t) => a.valueAt(t) !== b.valueAt(t)).length;
    assert.ok(differ >= 19, `only ${differ} of 20 steps differ`);
  });

  test('without a seed the noise is fresh on every call, as in TF', () => {
    const s = build({ initialVariance: 0.01 });
    const values = Array.from({ length: 10 }, () => s.valueAt(5));
    assert.ok(new Set(values).size >= 9, `10 calls gave only ${new Set(values).size} distinct values`);
  });

  for (const seed of [0, 12345, 2 ** 53 - 1]) {
    test(`seeded noise over 20 000 steps is N(0, σ), σ constant with varianceDecay 0 (seed ${seed})`, () => {
      const sigma = 0.1;
      const s = build({ seed, initialVariance: sigma ** 2, varianceDecay: 0 });
      const z = Array.from({ length: 20_000 }, (_, t) => recoverNoise(s, t) / sigma);
      assertStandardNormal(z, `seed ${seed}`);
    });
  }

  test('unseeded noise over 20 000 calls is N(0, σ)', () => {
    const sigma = 0.2;
    const s = build({ initialVariance: sigma ** 2, varianceDecay: 0 });
    const z = Array.from({ length: 20_000 }, () => recoverNoise(s, 3) / sigma);
    // Calls at one step: the lag-1 check here is about successive calls.
    assertStandardNormal(z, 'unseeded');
  });

  test('σ falls as sqrt(initialVariance / (1 + t)^varianceDecay) with the default decay 0.55', () => {
    const s = build({ seed: 9, initialVariance: 0.04 });
    // Normalizing by the float64 σ(t) must give unit variance over steps where σ falls 50-fold.
    const z = Array.from({ length: 20_000 }, (_, t) => recoverNoise(s, t) / noiseStd(t, D, 0.04, 0.55));
    assertStandardNormal(z, 'decaying σ');
  });

  test('past decaySteps, σ stays at its value for t = decaySteps (the clamped step)', () => {
    const s = new schedules.NoisyLinearCosineDecay({
      initialLearningRate: 1, decaySteps: 10, initialVariance: 1, varianceDecay: 1, alpha: 0, beta: 0, numPeriods: 0,
      seed: 3,
    });
    // numPeriods 0 makes the cosine factor 1, so the value is linear + noise = 0 + noise past the end.
    const sigma = noiseStd(10, 10, 1, 1);
    const z = Array.from({ length: 20_000 }, (_, i) => s.valueAt(10 + i) / sigma);
    assertStandardNormal(z, 'clamped σ');
  });
});
