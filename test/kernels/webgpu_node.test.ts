/**
 * The fused WebGPU kernel in Node: TF.js's webgpu backend on Dawn (the `webgpu`
 * package) over SwiftShader's Vulkan driver, the same checks as in Chromium
 * (test/browser/gpu_kernels.test.ts): every flavor × path × centering, clipped
 * and not, within the running float32 bound of the reference loops, and Keras
 * 3's passes folded in (accumulation, loss scale, EMA) within the same bound; one
 * dispatch per variable; buffers shared with other tensors are not written in
 * place; reads after a step are fresh; no leaks over 1,000 steps; nonFinite's
 * check says it cannot read back in Node, before any change. Skips with
 * how to install the driver when it is missing, except in CI.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import '../support/tf.js';
import type { RMSpropOptions } from '../../src/index.js';
import { webglFusedKernel } from '../../src/kernels/webgl/kernel.js';
import { webgpuFusedKernel } from '../../src/kernels/webgpu/kernel.js';
import {
  assertAliasedGradients, assertCase, assertFreshReads, assertFusedStep, assertNoLeaks, assertNonFiniteUnreadable, assertSharing, assertSparseFromGpu,
  assertTrainingFeatures, CASE_SHAPES, CASE_STEPS, KERAS3_CASES, KERAS3_SHAPES, KERAS3_STEPS,
} from '../support/gpu_assertions.js';
import { gpuChecks } from '../support/gpu_checks.js';
import { caseName, gpuCases, keras3Cases } from '../support/gpu_trajectory.js';
import { trySetBackend } from '../support/gpu_work.js';
import { startNodeWebGPU } from '../support/webgpu_node.js';

const checks = gpuChecks({ webgl: webglFusedKernel, webgpu: webgpuFusedKernel }, trySetBackend);

describe('fused webgpu kernel in Node (Dawn on SwiftShader)', () => {
  let missing: string | null = null;
  before(async () => { missing = await startNodeWebGPU(); });
  const skipIfMissing = (t: { skip(m: string): void }): boolean => {
    if (missing === null) return false;
    t.skip(missing);
    return true;
  };

  gpuCases(CASE_SHAPES, CASE_STEPS).forEach((c, index) => {
    test(`${caseName(c)}: within the float32 bound of the reference loops, step by step`, async (t) => {
      if (skipIfMissing(t)) return;
      assertCase(await checks.runCase('webgpu', index, CASE_SHAPES, CASE_STEPS), 'webgpu-fused');
    });
  });

  keras3Cases(CASE_SHAPES, KERAS3_STEPS).forEach((c, index) => {
    test(`${caseName(c)}: Keras 3's passes folded in, within the float32 bound of the reference loops, call by call`, async (t) => {
      if (skipIfMissing(t)) return;
      assertCase(await checks.runKeras3Case('webgpu', index, CASE_SHAPES, KERAS3_STEPS), 'webgpu-fused');
    });
  });

  const steps: Array<[string, RMSpropOptions, number]> = [
    ['plain', {}, 3],
    ['centered momentum, tfjs', { momentum: 0.9, centered: true, flavor: 'tfjs' }, 3],
    // One partial-sum dispatch per gradient, one to finish the sums, then the updates.
    ['clipnorm, keras2', { clipnorm: 1, momentum: 0.5 }, 3 + 1 + 3],
    ['Nesterov momentum, keras3', { momentum: 0.9, nesterov: true, flavor: 'keras3' }, 3],
  ];
  for (const [what, options, maxWork] of steps) {
    test(`the optimizer takes webgpu-fused (${what}): at most ${maxWork} dispatches for 3 variables, no engine kernel`, async (t) => {
      if (skipIfMissing(t)) return;
      const r = await checks.optimizerStep('webgpu', { learningRate: 0.01, ...options }, [[64, 33], [5], [300]]);
      assertFusedStep(r, 'webgpu-fused', maxWork, what);
    });
  }

  test("nonFinite 'skip' and 'error': TF.js's webgpu cannot read back synchronously in Node, so each checked step says so before any change", async (t) => {
    if (skipIfMissing(t)) return;
    assertNonFiniteUnreadable(await checks.nonFinite('webgpu'), 'webgpu in Node');
  });

  test('a sparse step whose values are on the GPU: Node cannot read them back, so the step says so before any change', async (t) => {
    if (skipIfMissing(t)) return;
    assertSparseFromGpu(await checks.sparseFromGpu('webgpu'), false, 'webgpu in Node');
  });

  for (const [what, options, calls, plainCalls] of KERAS3_CASES) {
    test(`Keras 3's passes folded into webgpu-fused (${what}): one dispatch per variable, no engine kernel, every weight as on cpu`, async (t) => {
      if (skipIfMissing(t)) return;
      assertTrainingFeatures(await checks.trainingFeatures('webgpu', options, KERAS3_SHAPES, calls), 'webgpu-fused', plainCalls, what);
    });
  }

  test('a variable sharing its buffer: not written in place, the op chain runs with the reason', async (t) => {
    if (skipIfMissing(t)) return;
    assertSharing(await checks.sharing('webgpu'), 'webgpu');
  });

  test('gradients that are tensors the step writes are read as the op chain reads them, clipped and not', async (t) => {
    if (skipIfMissing(t)) return;
    assertAliasedGradients(await checks.aliasedGradients('webgpu'), 'webgpu-fused');
    assertAliasedGradients(await checks.aliasedGradients('webgpu', 10), 'webgpu-fused');
  });

  test('values read before a step are not served stale after it', async (t) => {
    if (skipIfMissing(t)) return;
    assertFreshReads(await checks.cpuCache('webgpu'), 'webgpu-fused');
  });

  test('1,000 steps: no tensor or GPU byte grows; dispose frees what the kernel holds', async (t) => {
    if (skipIfMissing(t)) return;
    const r = await checks.leaks('webgpu', { learningRate: 0.01, momentum: 0.9, centered: true, clipnorm: 1 });
    assertNoLeaks(r, 'webgpu-fused', 'webgpu');
  });

  // Last: a bad bind group or pipeline is only reported, and the work it was for never runs.
  test('no WebGPU validation error was reported by any of the steps above', async (t) => {
    if (skipIfMissing(t)) return;
    assert.deepEqual(await checks.uncapturedErrors(), []);
  });
});
