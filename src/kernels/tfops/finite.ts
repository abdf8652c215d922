/**
 * The non-finite check as TF.js ops, on any backend: `all(isFinite(g))` per
 * gradient, one value each, read back once (with a known value after them, to
 * catch a backend whose synchronous read is broken). TF.js's own `isFinite` is used
 * rather than arithmetic such as `Σ g·0`: shader compilers may assume that no
 * NaN or infinity occurs (WGSL and GLSL ES allow it) and fold `g·0` to 0, while
 * TF.js's GPU kernels test the bits. An empty gradient is finite without a
 * reduction.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FiniteCheck } from '../types.js';

/**
 * The flags of a check, read back synchronously: `flags` ends with a 1 put
 * there on the device, which must come back as 1. An error says that this
 * backend cannot read back here: TF.js's webgpu reads synchronously through an
 * OffscreenCanvas, which Node lacks and which on SwiftShader returns zeros.
 */
export function readFlagsSync(flags: tf.Tensor): tf.TypedArray {
  const hint = "which 'skip' and 'error' need before each step; nonFinite: 'propagate' reads nothing back";
  let values: tf.TypedArray;
  try {
    values = flags.dataSync();
  } catch (e) {
    throw new Error(`the ${tf.getBackend()} backend cannot read the result back synchronously here (${(e as Error).message}), ${hint}`);
  }
  const sentinel = values[values.length - 1];
  if (sentinel !== 1) {
    throw new Error(`the ${tf.getBackend()} backend's synchronous read returned wrong values here (a 1 came back as ${sentinel}), ${hint}`);
  }
  return values.subarray(0, values.length - 1);
}

export const tfopsFiniteCheck: FiniteCheck = {
  name: 'tfops',
  accepts: () => true,
  firstNonFinite(grads) {
    if (grads.length === 0) return -1;
    return tf.tidy(() => {
      const flags = tf.stack([...grads.map((g) => (g.size === 0 ? tf.scalar(true, 'bool') : tf.all(tf.isFinite(g)))), tf.scalar(true, 'bool')]);
      return readFlagsSync(flags).findIndex((x) => x === 0);
    });
  },
};
