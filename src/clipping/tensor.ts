/**
 * Gradient clipping with TF 2.4's formulas (`_transform_gradients`): clipvalue,
 * then clipnorm, then globalClipnorm, as tensor ops. Pure functions: call inside
 * a tidy. They work on any backend and never read a value back to the CPU. The
 * same formulas on float32 scalars, for kernels that fold clipping into the
 * update, are in scalar.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ClipOptions } from './scalar.js';

/**
 * Σg², 0 for an empty tensor (an IndexedSlices with no rows): tfjs-backend-wasm's
 * `sum` of an empty tensor returns whatever lay in memory.
 */
function sumOfSquares(g: tf.Tensor): tf.Tensor {
  return g.size === 0 ? tf.scalar(0) : tf.sum(tf.square(g));
}

/** `clip_by_value`: `max(min(g, c), -c)`, minimum first as TF does. */
export function clipByValue(g: tf.Tensor, c: number): tf.Tensor {
  return tf.maximum(tf.minimum(g, tf.scalar(c)), tf.scalar(-c));
}

/**
 * `clip_by_norm` over all axes: `(g·c) / max(‖g‖, c)`, with ‖g‖ taken as 0 when
 * Σg² is 0. TF multiplies and divides even when nothing is clipped, so the
 * result is not always bit-identical to `g`; neither is ours.
 */
export function clipByNorm(g: tf.Tensor, c: number): tf.Tensor {
  const l2sum = sumOfSquares(g);
  const l2norm = tf.where(tf.greater(l2sum, 0), tf.sqrt(l2sum), l2sum);
  const clip = tf.scalar(c);
  return tf.div(tf.mul(g, clip), tf.maximum(l2norm, clip));
}

/**
 * `clip_by_global_norm`: N = sqrt(2·Σ l2_loss(t)), each gradient scaled by
 * `c·min(1/N, 1/c) + (N − N)`; the last term makes every gradient NaN when N
 * is not finite, as in TF.
 */
export function clipByGlobalNorm(grads: readonly tf.Tensor[], c: number): tf.Tensor[] {
  const halfSquares = grads.map((g) => tf.div(sumOfSquares(g), tf.scalar(2)));
  const halfSquaredNorm = halfSquares.length === 1 ? halfSquares[0] : tf.addN(halfSquares);
  const norm = tf.sqrt(tf.mul(halfSquaredNorm, tf.scalar(2)));
  const clip = tf.scalar(c);
  const scale = tf.add(
    tf.mul(clip, tf.minimum(tf.div(tf.scalar(1), norm), tf.div(tf.scalar(1), clip))),
    tf.sub(norm, norm),
  );
  return grads.map((g) => tf.mul(g, scale));
}

/** All three, in Keras's order. Returns the input array when nothing is set. */
export function clipGradients(grads: readonly tf.Tensor[], c: ClipOptions): readonly tf.Tensor[] {
  let out = grads;
  if (c.clipvalue !== null) {
    const v = c.clipvalue;
    out = out.map((g) => clipByValue(g, v));
  }
  if (c.clipnorm !== null) {
    const n = c.clipnorm;
    out = out.map((g) => clipByNorm(g, n));
  }
  if (c.globalClipnorm !== null && out.length > 0) {
    out = clipByGlobalNorm(out, c.globalClipnorm);
  }
  return out;
}
