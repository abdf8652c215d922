/**
 * Keras 3's EMA of the weights, gradient accumulation and loss scaling, and
 * optax's Nesterov momentum, against an independent reference written from
 * base_optimizer.py and optax (support/keras3_reference.ts): every flavor and
 * path, on cpu and wasm, on each backend's fast kernels and on the op chain
 * (what webgl and webgpu run), with a learning-rate schedule, weight decay and
 * each kind of clipping, dense and sparse.
 *
 * Tolerances come from float32: the reference in float32 takes the frameworks'
 * operation order, so every flavor but 'pytorch' on its fused kernels (whose
 * multiply-adds round once, as PyTorch's AVX2 kernels do; the reference rounds
 * them twice) matches it to the bit, unless a global norm (summed in another
 * order) or the closed-form catch-up of sparse rows enters, where they stay
 * within 2·N units of float32 roundoff (U = 2^-24) after N calls; against the
 * float64 reference the error after N calls is within 4·N·U. Errors are
 * normwise: relative to the largest value of each variable.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { schedules, type Flavor } from '../../src/index.js';
import { FLAVORS } from '../../src/rules/flavors.js';
import { BACKENDS, useBackend } from '../support/tf.js';
import { formName, formsOf, relativeError, runOptimizer, runReference, U, withKernels, type Case, type Form, type KernelMode } from './support.js';

const schedule = (): schedules.LearningRateSchedule =>
  new schedules.ExponentialDecay({ initialLearningRate: 0.01, decaySteps: 3, decayRate: 0.8 });

/** The feature sets: each with a schedule and weight decay, and a different clipping. */
const CONFIGS: ReadonlyArray<{ name: string; options: Case['options']; absent?: Case['absent'] }> = [
  {
    // Clipping needs the window's mean first: the base combines, the kernels clip and update.
    name: 'EMA (overwrite every 3) + accumulation 3 + loss scale + clipnorm',
    options: { useEma: true, emaMomentum: 0.9, emaOverwriteFrequency: 3, gradientAccumulationSteps: 3, lossScaleFactor: 64, clipnorm: 0.5 },
    absent: { 4: [1] },
  },
  {
    // No clipping: the kernels combine, update and average in one pass.
    name: 'EMA (overwrite every 2) + accumulation 2 + loss scale',
    options: { useEma: true, emaMomentum: 0.8, emaOverwriteFrequency: 2, gradientAccumulationSteps: 2, lossScaleFactor: 1024 },
  },
  {
    name: 'EMA + globalClipnorm (folded into the kernel with the EMA)',
    options: { useEma: true, emaMomentum: 0.95, globalClipnorm: 0.3 },
    absent: { 5: [0] },
  },
  {
    // A variable absent from an update call: its accumulated gradient is dropped (Keras resets every accumulator).
    name: 'accumulation 4 + clipvalue',
    options: { gradientAccumulationSteps: 4, clipvalue: 0.05 },
    absent: { 2: [2], 7: [0] },
  },
];

function caseOf(flavor: Flavor, form: Form, config: (typeof CONFIGS)[number]): Case {
  return {
    name: config.name, calls: 12, shapes: [[3], [2, 5], [37]], absent: config.absent,
    options: { flavor, ...form, learningRate: schedule(), weightDecay: 0.05, ...config.options },
  };
}

function check(c: Case, mode: KernelMode, sparse: boolean, what: string): void {
  const seed = 11;
  const o = withKernels(mode, () => runOptimizer(c, seed, sparse));
  const { f32, f64 } = runReference(c, seed);
  assert.equal(o.iterations, f64.iterations, `${what}: iterations`);
  const flavor = c.options.flavor;
  // Bit for bit against the float32 reference, but where a fused multiply-add or the closed-form catch-up of sparse rows rounds differently.
  const exact = !sparse && !(flavor === 'pytorch' && mode !== 'op-chain') && c.options.globalClipnorm === undefined;
  const n = c.calls;
  const f32Tol = exact ? 0 : 2 * n * U;
  const f64Tol = 4 * n * U;
  const wErr = relativeError(o.w, f32.w);
  assert.ok(wErr <= f32Tol, `${what}: weights ${(wErr / U).toFixed(1)} U from the float32 reference (allowed ${f32Tol / U} U)`);
  const w64 = relativeError(o.w, f64.w);
  assert.ok(w64 <= f64Tol, `${what}: weights ${(w64 / U).toFixed(1)} U from the float64 reference (allowed ${f64Tol / U} U)`);
  if (o.ema !== null) {
    const eErr = relativeError(o.ema, f32.avg);
    assert.ok(eErr <= f32Tol, `${what}: averages ${(eErr / U).toFixed(1)} U from the float32 reference`);
    const e64 = relativeError(o.ema, f64.avg);
    assert.ok(e64 <= f64Tol, `${what}: averages ${(e64 / U).toFixed(1)} U from the float64 reference`);
  }
}

for (const backend of BACKENDS) {
  describe(`Keras 3's training features against the reference (${backend})`, () => {
    before(() => useBackend(backend));
    for (const config of CONFIGS) {
      for (const mode of ['fast', 'op-chain'] as const) {
        test(`${config.name}: every flavor and path, ${mode} kernels`, () => {
          for (const flavor of FLAVORS) {
            for (const form of formsOf(flavor)) check(caseOf(flavor, form, config), mode, false, `${flavor} ${formName(form)}`);
          }
        });
      }
    }
    for (const mode of ['fast', 'loops', 'op-chain'] as const) {
      test(`sparse gradients ('dense-equivalent' rows, ${mode} row kernels) equal the densified ones, every flavor and path`, () => {
        for (const flavor of FLAVORS) {
          for (const form of formsOf(flavor)) {
            for (const config of [CONFIGS[0], CONFIGS[1]]) {
              const c = caseOf(flavor, form, config);
              check({ ...c, options: { ...c.options, sparseMode: 'dense-equivalent' } }, mode, true, `${flavor} ${formName(form)} ${config.name}`);
            }
          }
        }
      });
    }
  });
}
