/**
 * The page of the GPU kernel tests (bundled by gpu_harness.ts): runs the
 * trajectories of gpu_trajectory.ts, the optimizer-level checks and the leak
 * check of gpu_checks.ts on `webgl` and `webgpu` in Chromium, and returns
 * summaries for the Node side to assert on.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { webglFusedKernel } from '../../src/kernels/webgl/kernel.js';
import { webgpuFusedKernel } from '../../src/kernels/webgpu/kernel.js';
import { gpuChecks } from '../support/gpu_checks.js';

const api = gpuChecks({ webgl: webglFusedKernel, webgpu: webgpuFusedKernel }, async (name) => {
  try {
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
  }
});

(window as unknown as { gpuPage: typeof api }).gpuPage = api;
