/**
 * The non-finite check as TF.js ops, on any backend: `Σ g·0` is 0 for a finite
 * gradient and NaN otherwise; one value per gradient, read back once. An
 * empty gradient is finite without a reduction: tfjs-backend-wasm's `sum` of an
 * empty tensor returns whatever lay in memory.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FiniteCheck } from '../types.js';

export const tfopsFiniteCheck: FiniteCheck = {
  name: 'tfops',
  accepts: () => true,
  firstNonFinite(grads) {
    if (grads.length === 0) return -1;
    const sums = tf.tidy(() => tf.stack(grads.map((g) => (g.size === 0 ? tf.scalar(0) : tf.sum(tf.mul(g, tf.scalar(0)))))).dataSync());
    return sums.findIndex((x) => x !== 0);
  },
};
