/**
 * The non-finite check as TF.js ops, on any backend: `Σ g·0` is 0 for a finite
 * gradient and NaN otherwise; one value per gradient, read back once.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FiniteCheck } from '../types.js';

export const tfopsFiniteCheck: FiniteCheck = {
  name: 'tfops',
  accepts: () => true,
  firstNonFinite(grads) {
    if (grads.length === 0) return -1;
    const sums = tf.tidy(() => tf.stack(grads.map((g) => tf.sum(tf.mul(g, tf.scalar(0))))).dataSync());
    return sums.findIndex((x) => x !== 0);
  },
};
