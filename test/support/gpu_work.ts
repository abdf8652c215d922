/**
 * Counting the GPU work a step issues, as the benchmark and the tests report it:
 * WebGL draw calls (tfjs draws once per program, pack and unpack included) or
 * WebGPU compute dispatches, hooked where the backend issues them.
 */
import * as tf from '@tensorflow/tfjs-core';

export type GpuBackend = 'webgl' | 'webgpu';

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

