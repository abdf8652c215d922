/**
 * Counting the GPU work a step issues, as the benchmark and the tests report it:
 * WebGL draw calls (tfjs draws once per program, pack and unpack included) or
 * WebGPU compute dispatches, hooked where the backend issues them.
 */
import * as tf from '@tensorflow/tfjs-core';

export type GpuBackend = 'webgl' | 'webgpu';

function texDataOf(t: tf.Tensor): { isPacked?: boolean; texture?: unknown } | undefined {
  const texData = (tf.backend() as unknown as { texData?: { get(id: object): { isPacked?: boolean; texture?: unknown } | undefined } }).texData;
  return texData?.get(t.dataId as object);
}

/** Whether the backend holds `t` in a packed texture (WebGL: RGBA texels of 2×2 elements); false elsewhere. */
export function isPacked(t: tf.Tensor): boolean {
  return texDataOf(t)?.isPacked === true;
}

/** Whether the backend holds `t` in a WebGL texture (not only on the CPU); false elsewhere. */
export function inTexture(t: tf.Tensor): boolean {
  return texDataOf(t)?.texture != null;
}

/**
 * `t` as an op writes it on the GPU (`t · 1`, exact for every value, −0 and NaN
 * included): on WebGL into a texture of the given layout (packed: RGBA texels of
 * 2×2 elements, as TF.js's own elementwise ops leave them); elsewhere a copy.
 */
export function texturedCopy(t: tf.Tensor, packed: boolean): tf.Tensor {
  if (tf.getBackend() !== 'webgl') return tf.mul(t, tf.scalar(1));
  const env = tf.env();
  const forward = env.getBool('WEBGL_CPU_FORWARD');
  const packBinary = env.getBool('WEBGL_PACK_BINARY_OPERATIONS');
  // WebGL runs ops on small tensors still on the CPU there, unless told not to.
  env.set('WEBGL_CPU_FORWARD', false);
  env.set('WEBGL_PACK_BINARY_OPERATIONS', packed);
  try {
    const out = tf.mul(t, tf.scalar(1));
    if (!inTexture(out) || isPacked(out) !== packed) throw new Error(`an op did not write the ${packed ? 'packed' : 'unpacked'} texture asked for`);
    return out;
  } finally {
    env.set('WEBGL_CPU_FORWARD', forward);
    env.set('WEBGL_PACK_BINARY_OPERATIONS', packBinary);
  }
}

/** Switches to `name`; false when it does not start here (the backend is missing or fails to initialize). */
export async function trySetBackend(name: string): Promise<boolean> {
  try {
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
  }
}

/** Counts the GPU work issued while `fn` runs: WebGL draw calls, or WebGPU compute dispatches. */
export async function countGpuWork(backend: GpuBackend, fn: () => void | Promise<void>): Promise<number> {
  let count = 0;
  if (backend === 'webgl') {
    const gl = (tf.backend() as unknown as { gpgpu: { gl: WebGL2RenderingContext } }).gpgpu.gl;
    const drawElements = gl.drawElements;
    const drawArrays = gl.drawArrays;
    gl.drawElements = (...a: Parameters<WebGL2RenderingContext['drawElements']>) => { count++; drawElements.apply(gl, a); };
    gl.drawArrays = (...a: Parameters<WebGL2RenderingContext['drawArrays']>) => { count++; drawArrays.apply(gl, a); };
    try {
      await fn();
    } finally {
      gl.drawElements = drawElements;
      gl.drawArrays = drawArrays;
    }
    return count;
  }
  const proto = (globalThis as unknown as { GPUComputePassEncoder: { prototype: { dispatchWorkgroups: (...a: number[]) => void } } })
    .GPUComputePassEncoder.prototype;
  const dispatch = proto.dispatchWorkgroups;
  proto.dispatchWorkgroups = function (this: unknown, ...a: number[]) { count++; dispatch.apply(this, a); };
  try {
    await fn();
  } finally {
    proto.dispatchWorkgroups = dispatch;
  }
  return count;
}

