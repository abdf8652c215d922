/**
 * The fused GPU kernels in headless Chromium, WebGL 2 and WebGPU both on
 * SwiftShader: every flavor × path × centering, clipped and not, with and
 * without weight decay, against the reference loops within the running float32
 * bound of test/support/gpu_tolerance.ts; the optimizer takes them (one to four
 * draws, one dispatch per variable); no tensor or GPU byte leaks over 1,000
 * steps, and dispose frees the kernels' own GPU buffers; nonFinite's check
 * (on webgl it works; on webgpu SwiftShader's synchronous read returns zeros, so
 * each checked step must say it cannot check); Keras 3's EMA, accumulation and
 * loss scale (folded into the WebGPU kernel) give cpu's weights; WebGPU reports
 * no validation error. Skips only when Chromium is
 * missing outside CI (see chromium.ts).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RMSpropOptions } from '../../src/index.js';
import {
  assertAliasedGradients, assertCase, assertFreshReads, assertFusedStep, assertNoLeaks, assertNonFinite, assertNonFiniteUnreadable, assertSharing, assertSparseFromGpu,
  assertTrainingFeatures, assertWebglLayout, CASE_SHAPES, CASE_STEPS, KERAS3_CASES, KERAS3_SHAPES, KERAS3_STEPS,
} from '../support/gpu_assertions.js';
import type { GpuBackend } from '../support/gpu_checks.js';
import { gpuCases, caseName, keras3Cases } from '../support/gpu_trajectory.js';
import { chromiumMissing } from './chromium.js';
import { gpuPageFor, inPage } from './gpu_harness.js';

const missing = chromiumMissing();
const KERNEL = { webgl: 'webgl-fused', webgpu: 'webgpu-fused' } as const;

/** Draws per variable and step: one program per state tensor written. */
const WEBGL_DRAWS = { plain: 2, momentum: 3, centered: 4 };

for (const backend of ['webgl', 'webgpu'] as const satisfies readonly GpuBackend[]) {
  describe(`fused ${backend} kernel in headless Chromium (SwiftShader)`, { skip: missing ?? false }, () => {
    const gpu = gpuPageFor(backend);
    const available = (): boolean => gpu.skipReason() === null;

    gpuCases(CASE_SHAPES, CASE_STEPS).forEach((c, index) => {
      test(`${caseName(c)}: within the float32 bound of the reference loops, step by step`, async (t) => {
        if (!available()) { t.skip(`no ${backend} in this Chromium`); return; }
        const r = await inPage(gpu.page(), 'runCase', backend, index, CASE_SHAPES, CASE_STEPS);
        assertCase(r, KERNEL[backend]);
        if (backend === 'webgl') assertWebglLayout(r, c);
      });
    });

    keras3Cases(CASE_SHAPES, KERAS3_STEPS).forEach((c, index) => {
      test(`${caseName(c)}: Keras 3's passes folded in, within the float32 bound of the reference loops, call by call`, async (t) => {
        if (!available()) { t.skip(`no ${backend} in this Chromium`); return; }
        assertCase(await inPage(gpu.page(), 'runKeras3Case', backend, index, CASE_SHAPES, KERAS3_STEPS), KERNEL[backend]);
      });
    });

    const shapes = [[64, 33], [5], [300]];
    const steps: Array<[string, RMSpropOptions, number]> = [
      ['plain', {}, backend === 'webgl' ? WEBGL_DRAWS.plain * 3 : 3],
      ['momentum', { momentum: 0.9 }, backend === 'webgl' ? WEBGL_DRAWS.momentum * 3 : 3],
      ['centered momentum, pytorch', { momentum: 0.9, centered: true, flavor: 'pytorch', weightDecay: 0.01 },
        backend === 'webgl' ? WEBGL_DRAWS.centered * 3 : 3],
      // One Σx² per gradient (WebGL: ≤ 2 draws each, here 1 and 1 and 1), the global factor (1), then the updates.
      ['clipvalue + globalClipnorm, keras3', { clipvalue: 0.5, globalClipnorm: 1, flavor: 'keras3' },
        backend === 'webgl' ? 3 + 1 + WEBGL_DRAWS.plain * 3 : 3 + 1 + 3],
    ];
    for (const [what, options, maxWork] of steps) {
      test(`the optimizer takes ${KERNEL[backend]} (${what}): at most ${maxWork} ${backend === 'webgl' ? 'draws' : 'dispatches'} for 3 variables, no engine kernel`, async (t) => {
        if (!available()) { t.skip(`no ${backend} in this Chromium`); return; }
        const r = await inPage(gpu.page(), 'optimizerStep', backend, { learningRate: 0.01, ...options }, shapes);
        assertFusedStep(r, KERNEL[backend], maxWork, what);
      });
    }

    test(backend === 'webgl'
      ? 'a variable sharing its buffer: new textures are written, the other tensor keeps its values'
      : 'a variable sharing its buffer: not written in place, the op chain runs with the reason', async (t) => {
      if (!available()) { t.skip(`no ${backend} in this Chromium`); return; }
      assertSharing(await inPage(gpu.page(), 'sharing', backend), backend);
    });

    test('gradients that are tensors the step writes are read as the op chain reads them, clipped and not', async (t) => {
      if (!available()) { t.skip(`no ${backend} in this Chromium`); return; }
      assertAliasedGradients(await inPage(gpu.page(), 'aliasedGradients', backend), KERNEL[backend]);
      assertAliasedGradients(await inPage(gpu.page(), 'aliasedGradients', backend, 10), KERNEL[backend]);
    });

    test('values read before a step are not served stale after it', async (t) => {
      if (!available()) { t.skip(`no ${backend} in this Chromium`); return; }
      assertFreshReads(await inPage(gpu.page(), 'cpuCache', backend), KERNEL[backend]);
    });

    test('1,000 steps: no tensor or GPU byte grows; dispose frees what the kernel holds', async (t) => {
      if (!available()) { t.skip(`no ${backend} in this Chromium`); return; }
      const r = await inPage(gpu.page(), 'leaks', backend, { learningRate: 0.01, momentum: 0.9, centered: true, clipnorm: 1 });
      assertNoLeaks(r, KERNEL[backend], backend);
    });

    for (const [what, options, calls, plainCalls] of KERAS3_CASES) {
      test(`Keras 3's passes folded into ${KERNEL[backend]} (${what}): ${backend === 'webgpu' ? 'one dispatch' : 'one draw per state written'} per variable, no engine kernel, every weight as on cpu`, async (t) => {
        if (!available()) { t.skip(`no ${backend} in this Chromium`); return; }
        const r = await inPage(gpu.page(), 'trainingFeatures', backend, options, KERAS3_SHAPES, calls);
        // WebGL converts a state texture to the gradient's layout once, on the first call that
        // reads it (the rule's slots on the first update call): the draws are counted after that.
        const firstUpdate = (options.gradientAccumulationSteps ?? 1) - 1;
        const counted = backend === 'webgpu' ? plainCalls : plainCalls.filter((i) => i > firstUpdate);
        assertTrainingFeatures(r, KERNEL[backend], counted, what, backend === 'webgpu' ? 1 : 6);
      });
    }

    if (backend === 'webgpu') {
      // Last: a bad bind group or pipeline is only reported, and the work it was for never runs.
      test('no WebGPU validation error was reported by any of the steps above', async (t) => {
        if (!available()) { t.skip(`no ${backend} in this Chromium`); return; }
        assert.deepEqual(await inPage(gpu.page(), 'uncapturedErrors'), []);
      });
    }
  });
}

// In a page of its own: on SwiftShader, TF.js's synchronous WebGPU read (through an
// OffscreenCanvas) returns zeros and leaves the page's WebGPU instance unusable.
for (const backend of ['webgl', 'webgpu'] as const satisfies readonly GpuBackend[]) {
  describe(`nonFinite on ${backend} in headless Chromium (SwiftShader)`, { skip: missing ?? false }, () => {
    const gpu = gpuPageFor(backend);
    test(backend === 'webgl'
      ? "'skip' finds NaN and ±Infinity anywhere in a large gradient and leaves the state bit for bit; 'error' names the variable"
      : "'skip' and 'error': the synchronous read returns zeros here, so each checked step says it cannot check, before any change", async (t) => {
      if (gpu.skipReason() !== null) { t.skip(`no ${backend} in this Chromium`); return; }
      const r = await inPage(gpu.page(), 'nonFinite', backend);
      if (backend === 'webgl') assertNonFinite(r, backend);
      else assertNonFiniteUnreadable(r, backend);
    });
  });
  describe(`a sparse step from values on the GPU, ${backend} in headless Chromium (SwiftShader)`, { skip: missing ?? false }, () => {
    const gpu = gpuPageFor(backend);
    test(backend === 'webgl'
      ? 'the values are read back and the step matches cpu'
      : 'the synchronous read returns zeros here, so the step says it cannot read the values, before any change', async (t) => {
      if (gpu.skipReason() !== null) { t.skip(`no ${backend} in this Chromium`); return; }
      assertSparseFromGpu(await inPage(gpu.page(), 'sparseFromGpu', backend), backend === 'webgl', backend);
    });
  });
}
