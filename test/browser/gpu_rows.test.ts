/**
 * The GPU row kernels (webgl-rows, webgpu-rows) in headless Chromium, WebGL 2
 * and WebGPU on SwiftShader: every sparse mode × flavor × path × centering,
 * with and without weight decay, catch-up-only jobs and duplicate indices,
 * against the reference row loops within the running float32 bound; sparse
 * training through the optimizer; tables that share their buffers; fresh reads;
 * no leaks over 1,000 sparse steps (test/support/gpu_row_suite.ts). Skips only
 * when Chromium is missing outside CI.
 */
import { describe } from 'node:test';
import type { GpuBackend } from '../support/gpu_work.js';
import { rowSuite } from '../support/gpu_row_suite.js';
import { chromiumMissing } from './chromium.js';
import { gpuPageFor, inPage } from './gpu_harness.js';

const missing = chromiumMissing();

for (const backend of ['webgl', 'webgpu'] as const satisfies readonly GpuBackend[]) {
  describe(`${backend} row kernel in headless Chromium (SwiftShader)`, { skip: missing ?? false }, () => {
    const gpu = gpuPageFor(backend);
    rowSuite(backend, (method, ...args) => inPage(gpu.page(), method, ...args), gpu.skipReason);
  });
}
