/**
 * The non-finite check as TF.js ops, on any backend: `all(isFinite(g))` per
 * gradient, one value each, read back once (../read_back.ts). TF.js's own `isFinite` is used
 * rather than arithmetic such as `Σ g·0`: shader compilers may assume that no
 * NaN or infinity occurs (WGSL and GLSL ES allow it) and fold `g·0` to 0, while
 * TF.js's GPU kernels test the bits. An empty gradient is finite without a
 * reduction.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readBackSync } from '../read_back.js';
import type { FiniteCheck } from '../types.js';

export const tfopsFiniteCheck: FiniteCheck = {
  name: 'tfops',
  accepts: () => true,
  firstNonFinite(grads) {
    if (grads.length === 0) return -1;
    return tf.tidy(() => {
      const flags = tf.stack(grads.map((g) => (g.size === 0 ? tf.scalar(true, 'bool') : tf.all(tf.isFinite(g)))));
      return readBackSync(flags, "the check's result").findIndex((x) => x === 0);
    });
  },
};
