/**
 * Reading a tensor back to the host synchronously, or an error that says this
 * backend cannot. TF.js's webgpu reads the GPU synchronously through an
 * OffscreenCanvas: Node has none (the read throws), and on SwiftShader, the
 * software GPU of headless browsers, the read returns zeros (measured in
 * Chromium: every value of a 65,536-element tensor came back 0). So on webgpu
 * a 1 is read along with values that are on the GPU, and must come back as 1:
 * a broken read is an error, never zeros taken for data.
 */
import * as tf from '@tensorflow/tfjs-core';
import { webgpuBackend } from './webgpu/backend.js';

export function readBackSync(t: tf.Tensor, what: string): tf.TypedArray {
  const backend = tf.getBackend();
  // Values the webgpu backend still holds on the CPU are returned as they are, without reading the GPU.
  const onHost = backend === 'webgpu' && webgpuBackend()?.tensorMap.get(t.dataId as object)?.values != null;
  if (backend !== 'webgpu' || onHost || t.size === 0) {
    try {
      return t.dataSync();
    } catch (e) {
      throw new Error(`the ${backend} backend cannot read ${what} back synchronously here (${(e as Error).message})`);
    }
  }
  return tf.tidy(() => {
    const withOne = tf.concat([tf.reshape(t, [-1]), tf.ones([1], t.dtype)]);
    let values: tf.TypedArray;
    try {
      values = withOne.dataSync();
    } catch (e) {
      throw new Error(`the webgpu backend cannot read ${what} back synchronously here (${(e as Error).message})`);
    }
    const one = values[values.length - 1];
    if (one !== 1) throw new Error(`the webgpu backend's synchronous read of ${what} returned wrong values here (a 1 came back as ${one})`);
    return values.slice(0, values.length - 1);
  });
}
