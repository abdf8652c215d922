/**
 * The page of the GPU kernel tests (bundled by gpu_harness.ts): runs the
 * trajectories of gpu_trajectory.ts and gpu_rows.ts, the optimizer-level
 * checks and the leak checks of gpu_checks.ts and gpu_row_checks.ts on `webgl`
 * and `webgpu` in Chromium, and returns summaries for the Node side to assert on.
 */
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { webglFusedKernel } from '../../src/kernels/webgl/kernel.js';
import { webglRows } from '../../src/kernels/webgl/rows.js';
import { webgpuFusedKernel } from '../../src/kernels/webgpu/kernel.js';
import { webgpuRows } from '../../src/kernels/webgpu/rows.js';
import { gpuChecks } from '../support/gpu_checks.js';
import { gpuRowChecks } from '../support/gpu_row_checks.js';
import { trySetBackend } from '../support/gpu_work.js';


const api = {
  ...gpuChecks({ webgl: webglFusedKernel, webgpu: webgpuFusedKernel }, trySetBackend),
  ...gpuRowChecks({ webgl: webglRows, webgpu: webgpuRows }, trySetBackend),
};

(window as unknown as { gpuPage: typeof api }).gpuPage = api;
