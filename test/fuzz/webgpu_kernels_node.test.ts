/**
 * Fuzz: the fused WebGPU kernel in Node (Dawn on SwiftShader) against the
 * reference loops over random cases, every state value after every step within
 * the running float32 bound of test/support/gpu_tolerance.ts: every flavor, path,
 * Nesterov and centering, random clipping (by value, by norm, global) and
 * weight decay, or Keras 3's passes (accumulation windows, loss scales from
 * 1/4 to 2^20, the EMA), one to four variables of random shapes in one step
 * (sizes on both sides of the vec4 shader's multiple of 4 and of a workgroup's
 * 1,024 elements), a new gradient from 1e-20 to 1e6 and new scalars each step.
 * The trajectory tests run fixed cases of the same kinds; this finds the
 * combinations nobody listed. Skips as the WebGPU kernel tests do when Dawn
 * has no Vulkan driver here.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as fc from 'fast-check';
import '../support/tf.js';
import type { ClipOptions } from '../../src/clipping/scalar.js';
import { webgpuFusedKernel } from '../../src/kernels/webgpu/kernel.js';
import { webgpuRows } from '../../src/kernels/webgpu/rows.js';
import { SPARSE_MODES } from '../../src/sparse/modes.js';
import { SUM_BOUND } from '../support/gpu_checks.js';
import { rowCaseName, runRowCase, type RowCase } from '../support/gpu_rows.js';
import { caseName, runCase, type GpuCase } from '../support/gpu_trajectory.js';
import { trySetBackend } from '../support/gpu_work.js';
import { startNodeWebGPU } from '../support/webgpu_node.js';
import { fuzzParameters } from './harness.js';

const RUNS = 24;

const none: ClipOptions = { clipvalue: null, clipnorm: null, globalClipnorm: null };

const clip: fc.Arbitrary<ClipOptions> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(none) },
  {
    weight: 3,
    arbitrary: fc.record({
      clipvalue: fc.option(fc.constantFrom(1e-3, 0.25, 0.5, 3)),
      norm: fc.option(fc.constantFrom(1e-2, 0.5, 2, 50)),
      global: fc.boolean(),
    }).map(({ clipvalue, norm, global }) => ({ clipvalue, clipnorm: global ? null : norm, globalClipnorm: global ? norm : null })),
  },
);

const keras3 = fc.record({
  accumulationSteps: fc.option(fc.integer({ min: 2, max: 3 })),
  lossScale: fc.option(fc.constantFrom(0.25, 2, 1024, 2 ** 20)),
  ema: fc.boolean(),
});

/** A size: small, around a multiple of 4, around a workgroup's 1,024 elements. */
const size = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 70 }) },
  { weight: 2, arbitrary: fc.integer({ min: 1020, max: 1030 }) },
  { weight: 1, arbitrary: fc.integer({ min: 2040, max: 2060 }) },
);
const shapeOf = fc.tuple(size, fc.boolean()).map(([n, twoD]): number[] => {
  // A 2-D shape of the same size where it factors, so rank plays no part in what is compared.
  if (!twoD) return [n];
  for (let a = Math.floor(Math.sqrt(n)); a > 1; a--) if (n % a === 0) return [a, n / a];
  return [n];
});

const gpuCase: fc.Arbitrary<GpuCase> = fc.record({
  flavor: fc.constantFrom('keras2' as const, 'keras3' as const, 'pytorch' as const, 'tfjs' as const),
  path: fc.constantFrom('plain' as const, 'momentum' as const, 'nesterov' as const),
  centered: fc.boolean(),
  // Keras 3's passes are traced without clipping, as the trajectory cases do.
  passes: fc.oneof({ weight: 3, arbitrary: clip.map((c) => ({ clip: c })) }, { weight: 1, arbitrary: keras3.map((k) => ({ keras3: k })) }),
  weightDecay: fc.constantFrom(0, 0, 1e-3, 0.05),
  steps: fc.integer({ min: 1, max: 4 }),
  shapes: fc.array(shapeOf, { minLength: 1, maxLength: 4 }),
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
}).map(({ flavor, path, passes, ...rest }): GpuCase => ({
  ...rest,
  flavor,
  // TF.js always keeps a momentum buffer: its plain form is the momentum path.
  path: path === 'plain' && flavor !== 'tfjs' ? 'plain' : 'momentum',
  ...(path === 'nesterov' ? { nesterov: true } : {}),
  clip: 'clip' in passes ? passes.clip : none,
  ...('keras3' in passes ? { keras3: passes.keras3 } : {}),
}));

/** A table: rows first, rows of 1 to 70 elements or around a workgroup's 1,024, in one or two trailing dimensions. */
const tableShape = fc.tuple(fc.integer({ min: 1, max: 40 }), size, fc.boolean()).map(([rows, n, split]): number[] => {
  if (split) for (let a = Math.floor(Math.sqrt(n)); a > 1; a--) if (n % a === 0) return [rows, a, n / a];
  return [rows, n];
});

const rowCase: fc.Arbitrary<RowCase> = fc.record({
  flavor: fc.constantFrom('keras2' as const, 'keras3' as const, 'pytorch' as const, 'tfjs' as const),
  path: fc.constantFrom('plain' as const, 'momentum' as const, 'nesterov' as const),
  centered: fc.boolean(),
  mode: fc.constantFrom(...SPARSE_MODES),
  weightDecay: fc.constantFrom(0, 0, 1e-3, 0.05),
  steps: fc.integer({ min: 1, max: 5 }),
  shapes: fc.array(tableShape, { minLength: 1, maxLength: 3 }),
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
}).map(({ flavor, path, mode, weightDecay, ...rest }): RowCase => ({
  ...rest,
  flavor,
  mode,
  path: path === 'plain' && flavor !== 'tfjs' ? 'plain' : 'momentum',
  ...(path === 'nesterov' ? { nesterov: true } : {}),
  // 'dense-equivalent' with weight decay is applied densified (every row gets a gradient): no rows.
  weightDecay: mode === 'dense-equivalent' ? 0 : weightDecay,
}));

describe('fuzz: the fused webgpu kernel in Node against the reference loops (Dawn on SwiftShader)', () => {
  let missing: string | null = null;
  before(async () => { missing = await startNodeWebGPU(); });

  test(`${RUNS} random cases: every state value after every step within the float32 bound`, async (t) => {
    if (missing !== null) { t.skip(missing); return; }
    assert.ok(await trySetBackend('webgpu'), 'the webgpu backend started but cannot be selected');
    let compared = 0;
    await fc.assert(fc.asyncProperty(gpuCase, async (c) => {
      const r = await runCase(webgpuFusedKernel, c, SUM_BOUND.webgpu);
      const where = `${caseName(c)}, shapes ${JSON.stringify(c.shapes)}, ${c.steps} steps, seed ${c.seed}`;
      assert.equal(r.kernelRefusal, undefined, `${where}: refused an exclusive float32 update: ${r.kernelRefusal}`);
      assert.equal(r.failure, undefined, `${where}: ${r.failure}`);
      assert.ok(r.compared > 0, `${where}: nothing compared`);
      compared += r.compared;
    }), fuzzParameters(RUNS));
    assert.ok(compared > 0, 'no value was compared');
  });

  test(`${RUNS} random cases of sparse rows: every state value, touched or not, after every job within the float32 bound`, async (t) => {
    if (missing !== null) { t.skip(missing); return; }
    assert.ok(await trySetBackend('webgpu'), 'the webgpu backend started but cannot be selected');
    let compared = 0;
    await fc.assert(fc.asyncProperty(rowCase, async (c) => {
      const r = await runRowCase(webgpuRows, c);
      const where = `${rowCaseName(c)}, tables ${JSON.stringify(c.shapes)}, ${c.steps} steps, seed ${c.seed}`;
      assert.equal(r.kernelRefusal, undefined, `${where}: refused an exclusive float32 table: ${r.kernelRefusal}`);
      assert.equal(r.failure, undefined, `${where}: ${r.failure}`);
      assert.ok(r.compared > 0, `${where}: nothing compared`);
      compared += r.compared;
    }), fuzzParameters(RUNS));
    assert.ok(compared > 0, 'no value was compared');
  });
});
