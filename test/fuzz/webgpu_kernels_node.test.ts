/**
 * Fuzz: the fused WebGPU kernels in Node (Dawn on SwiftShader), dense and
 * sparse rows, against the reference loops over random cases (gpu_cases.ts):
 * every state value, touched or not, after every step within the running
 * float32 bound of test/support/gpu_tolerance.ts. The trajectory tests run
 * fixed cases of the same kinds; this finds the combinations nobody listed.
 * Skips as the WebGPU kernel tests do when Dawn has no Vulkan driver here.
 * (test/browser/gpu_fuzz.test.ts runs the same on WebGL and WebGPU in Chromium.)
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as fc from 'fast-check';
import '../support/tf.js';
import { webgpuFusedKernel } from '../../src/kernels/webgpu/kernel.js';
import { webgpuRows } from '../../src/kernels/webgpu/rows.js';
import { SUM_BOUND } from '../support/gpu_checks.js';
import { runRowCase } from '../support/gpu_rows.js';
import { runCase } from '../support/gpu_trajectory.js';
import { trySetBackend } from '../support/gpu_work.js';
import { startNodeWebGPU } from '../support/webgpu_node.js';
import { assertFuzzedCase, describeCase, describeRowCase, gpuCase, rowCase } from './gpu_cases.js';
import { fuzzParameters } from './harness.js';

const RUNS = 24;

describe('fuzz: the fused webgpu kernels in Node against the reference loops (Dawn on SwiftShader)', () => {
  let missing: string | null = null;
  before(async () => { missing = await startNodeWebGPU(); });

  test(`${RUNS} random dense cases: every state value after every step within the float32 bound`, async (t) => {
    if (missing !== null) { t.skip(missing); return; }
    assert.ok(await trySetBackend('webgpu'), 'the webgpu backend started but cannot be selected');
    let compared = 0;
    await fc.assert(fc.asyncProperty(gpuCase, async (c) => {
      compared += assertFuzzedCase(await runCase(webgpuFusedKernel, c, SUM_BOUND.webgpu), describeCase(c));
    }), fuzzParameters(RUNS));
    assert.ok(compared > 0, 'no value was compared');
  });

  test(`${RUNS} random cases of sparse rows: every state value, touched or not, after every job within the float32 bound`, async (t) => {
    if (missing !== null) { t.skip(missing); return; }
    assert.ok(await trySetBackend('webgpu'), 'the webgpu backend started but cannot be selected');
    let compared = 0;
    await fc.assert(fc.asyncProperty(rowCase, async (c) => {
      compared += assertFuzzedCase(await runRowCase(webgpuRows, c), describeRowCase(c));
    }), fuzzParameters(RUNS));
    assert.ok(compared > 0, 'no value was compared');
  });
});
