/**
 * RowClock: the closed-form factors of idle steps, with constant factors (powers
 * by repeated squaring) and with factors that change every step (history).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RowClock } from '../../src/sparse/row_clock.js';

/** Relative error a few double roundings may leave (the results are rounded to float32 later). */
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-12 * Math.abs(b) + 1e-300;

test('constant factors: decay^k, mu^k and the momentum sum, for k up to 2^20', () => {
  const clock = new RowClock(1);
  for (let t = 0; t < 1_100_000; t++) clock.advance(0.9, 0.95);
  for (const k of [1, 2, 3, 17, 1000, 65_537, 1_048_576]) {
    const f = clock.factors(clock.step - k, clock.step);
    assert.ok(close(f.decay, 0.9 ** k), `decay^${k}: ${f.decay} vs ${0.9 ** k}`);
    assert.ok(close(f.muPow, 0.95 ** k), `mu^${k}`);
    assert.ok(close(f.muSum, (0.95 * (1 - 0.95 ** k)) / 0.05), `muSum for ${k}`);
  }
  assert.deepEqual({ ...clock.factors(5, 5) }, { decay: 1, muPow: 1, muSum: 0 });
});

test('changing factors: products and the momentum sum over exactly the idle steps', () => {
  const clock = new RowClock(1);
  const decays = [0.9, 0.8, 0.7, 0.6];
  const mus = [0.5, 0.4, 0.3, 0.2];
  decays.forEach((d, t) => clock.advance(d, mus[t]));
  const f = clock.factors(1, 4);
  assert.ok(close(f.decay, 0.8 * 0.7 * 0.6));
  assert.ok(close(f.muPow, 0.4 * 0.3 * 0.2));
  assert.ok(close(f.muSum, 0.4 + 0.4 * 0.3 + 0.4 * 0.3 * 0.2));
});
