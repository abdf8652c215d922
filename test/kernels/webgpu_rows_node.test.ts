/**
 * The WebGPU row kernel in Node: TF.js's webgpu backend on Dawn over
 * SwiftShader's Vulkan driver, the same checks as in Chromium
 * (test/support/gpu_row_suite.ts). Skips with how to install the driver when it
 * is missing, except in CI.
 */
import { before, describe } from 'node:test';
import '../support/tf.js';
import { webglRows } from '../../src/kernels/webgl/rows.js';
import { webgpuRows } from '../../src/kernels/webgpu/rows.js';
import { gpuRowChecks } from '../support/gpu_row_checks.js';
import { rowSuite } from '../support/gpu_row_suite.js';
import { trySetBackend } from '../support/gpu_work.js';
import { startNodeWebGPU } from '../support/webgpu_node.js';

const checks = gpuRowChecks({ webgl: webglRows, webgpu: webgpuRows }, trySetBackend);

describe('webgpu row kernel in Node (Dawn on SwiftShader)', () => {
  let missing: string | null = null;
  before(async () => { missing = await startNodeWebGPU(); });
  rowSuite('webgpu', (method, ...args) => (checks[method] as (...a: unknown[]) => Promise<never>)(...args), () => missing);
});
