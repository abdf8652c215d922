/**
 * Fuzz: the fused GPU kernels, dense and sparse rows, on WebGL 2 and WebGPU in
 * headless Chromium (SwiftShader), against the reference loops over random
 * cases (test/fuzz/gpu_cases.ts): every state value, touched or not, after every
 * step within the running float32 bound of test/support/gpu_tolerance.ts. The
 * cases are drawn here and run in the page (gpu_page.ts). On WebGL the cases
 * reach texture layouts the fixed cases do not: gradients and state in packed
 * and unpacked textures or on the CPU, odd sizes, textures of more than one row;
 * every state must end in the layout the update ran in. `npm run fuzz` runs it
 * longer; skips only when Chromium is missing outside CI.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as fc from 'fast-check';
import { assertWebglLayout } from '../support/gpu_assertions.js';
import type { GpuBackend } from '../support/gpu_checks.js';
import { assertFuzzedCase, describeCase, describeRowCase, gpuCase, rowCase } from '../fuzz/gpu_cases.js';
import { fuzzParameters } from '../fuzz/harness.js';
import { chromiumMissing } from './chromium.js';
import { gpuPageFor, inPage } from './gpu_harness.js';

const missing = chromiumMissing();
const RUNS = 16;

for (const backend of ['webgl', 'webgpu'] as const satisfies readonly GpuBackend[]) {
  describe(`fuzz: the fused ${backend} kernels in headless Chromium (SwiftShader) against the reference loops`, { skip: missing ?? false }, () => {
    const gpu = gpuPageFor(backend);
    const available = (): boolean => gpu.skipReason() === null;

    test(`${RUNS} random dense cases: every state value after every step within the float32 bound`, async (t) => {
      if (!available()) { t.skip(`no ${backend} in this Chromium`); return; }
      let compared = 0;
      await fc.assert(fc.asyncProperty(gpuCase, async (c) => {
        const r = await inPage(gpu.page(), 'runGivenCase', backend, c);
        compared += assertFuzzedCase(r, `${backend}: ${describeCase(c)}`);
        if (backend === 'webgl') assertWebglLayout(r, c);
      }), fuzzParameters(RUNS));
      assert.ok(compared > 0, 'no value was compared');
    });

    test(`${RUNS} random cases of sparse rows: every state value, touched or not, after every job within the float32 bound`, async (t) => {
      if (!available()) { t.skip(`no ${backend} in this Chromium`); return; }
      let compared = 0;
      await fc.assert(fc.asyncProperty(rowCase, async (c) => {
        compared += assertFuzzedCase(await inPage(gpu.page(), 'runGivenRowCase', backend, c), `${backend}: ${describeRowCase(c)}`);
      }), fuzzParameters(RUNS));
      assert.ok(compared > 0, 'no value was compared');
    });
  });
}
