/**
 * Fuzz: every dense kernel of each backend against the reference loops
 * (src/rules), called directly with random forms (every flavor, path, centered),
 * random float32 step scalars (weight decay included), random variables and
 * gradients (denormals to float32's largest values, NaN and ±Infinity), over a
 * few steps, and with random clipping folded into the kernels that fold it
 * (against TF's formulas written out, clipInJs). Equal to the bit, any NaN
 * matching any NaN. The op chain is held to the same except for 'pytorch',
 * whose fused multiply-adds TF.js cannot express.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as fc from 'fast-check';
import type { ClipOptions } from '../../src/clipping/scalar.js';
import { cpuKernel } from '../../src/kernels/cpu/inplace.js';
import { cpuSimdKernel } from '../../src/kernels/cpu/simd.js';
import { tfopsKernel } from '../../src/kernels/tfops/dense.js';
import type { DenseKernel, DenseUpdate } from '../../src/kernels/types.js';
import { wasmHeapJsKernel } from '../../src/kernels/wasm/heap_js.js';
import { wasmSimdKernel } from '../../src/kernels/wasm/simd.js';
import { denseStep } from '../../src/rules/dense.js';
import type { DenseState, StepScalars, UpdateForm } from '../../src/rules/types.js';
import { clipInJs } from '../kernels/support.js';
import { BACKENDS, tf, useBackend } from '../support/tf.js';
import { F32_MAX, fill, finite32, nonFinite } from './arbitraries.js';
import { assertSameStates, fuzzParameters, HeapCanaries } from './harness.js';
import { TILE_ELEMENTS } from '../../src/kernels/simd/tiles.js';

const f32 = Math.fround;

const KERNELS: Record<(typeof BACKENDS)[number], DenseKernel[]> = {
  cpu: [cpuSimdKernel, cpuKernel, tfopsKernel],
  wasm: [wasmSimdKernel, wasmHeapJsKernel, tfopsKernel],
};

const float32In = (lo: number, hi: number): fc.Arbitrary<number> =>
  fc.double({ min: lo, max: hi, noNaN: true }).map((x) => Math.min(f32(10 ** x), F32_MAX));
const unit = fc.oneof(fc.constantFrom(0, 1, 0.9), fc.double({ min: 0, max: 1, noNaN: true })).map(f32);

const form: fc.Arbitrary<UpdateForm> = fc.record({
  flavor: fc.constantFrom('keras2' as const, 'keras3' as const, 'pytorch' as const, 'tfjs' as const),
  path: fc.constantFrom('plain' as const, 'momentum' as const),
  centered: fc.boolean(),
}).map((f) => ({ ...f, path: f.flavor === 'tfjs' ? 'momentum' : f.path }));

const scalars: fc.Arbitrary<StepScalars> = fc.record({
  lr: fc.oneof(fc.constant(0), float32In(-30, 10)),
  rho: unit,
  momentum: unit,
  epsilon: fc.oneof(fc.constant(0), float32In(-30, 0)),
  weightDecay: fc.oneof(fc.constant(0), float32In(-8, 1)),
  doubleRho: fc.boolean(),
}).map(({ doubleRho, ...s }) => ({ ...s, oneMinusRho: doubleRho ? f32(1 - s.rho) : f32(1 - f32(s.rho)) }));

const clip: fc.Arbitrary<ClipOptions | undefined> = fc.option(fc.record({
  clipvalue: fc.option(fc.oneof(fc.constantFrom(0, 1), float32In(-20, 20))),
  norm: fc.option(fc.oneof(fc.constantFrom(0, 1), float32In(-20, 20))),
  global: fc.boolean(),
}).map(({ clipvalue, norm, global }) => ({
  clipvalue, clipnorm: global ? null : norm, globalClipnorm: global ? norm : null,
})), { freq: 2, nil: undefined });

const sizes = fc.array(fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 1, max: 70 }) },
  { weight: 1, arbitrary: fc.constant(TILE_ELEMENTS + 3) },
), { minLength: 1, maxLength: 4 });

const values = fc.record({
  pool: fc.array(finite32, { minLength: 1, maxLength: 16 }),
  poison: fc.array(fc.record({ at: fc.nat(), value: nonFinite }), { maxLength: 2 }),
});

function exclusive(values: Float32Array): tf.Variable {
  return tf.tidy(() => tf.variable(tf.tensor(values), false));
}

for (const backend of BACKENDS) {
  describe(`fuzz: dense kernels against the reference loops (${backend})`, () => {
    before(() => useBackend(backend));

    for (const kernel of KERNELS[backend]) {
      const runs = kernel === tfopsKernel ? 60 : 150;
      test(`${kernel.name}: ${runs} random forms, scalars, sizes and values${kernel.foldsClipping ? ', clipping folded in' : ''}, to the bit`, () => {
        fc.assert(fc.property(form, fc.array(scalars, { minLength: 1, maxLength: 3 }), sizes, values, clip, (f, steps, ns, v, c) => {
          if (kernel === tfopsKernel && f.flavor === 'pytorch') return;
          const folded = kernel.foldsClipping === true ? c : undefined;
          const canaries = new HeapCanaries();
          const refs: DenseState[] = ns.map((n, i) => ({
            w: fill(v.pool, n, i * 5), ms: new Float32Array(n), mom: f.path === 'momentum' ? new Float32Array(n) : undefined,
            mg: f.centered ? new Float32Array(n) : undefined,
          }));
          const updates = refs.map((r) => {
            canaries.add(12);
            return {
              variable: exclusive(r.w.slice()),
              slots: {
                rms: exclusive(r.ms.slice()),
                ...(r.mom ? { momentum: exclusive(r.mom.slice()) } : {}),
                ...(r.mg ? { mg: exclusive(r.mg.slice()) } : {}),
              },
            };
          });
          canaries.add(12);
          try {
            steps.forEach((s, k) => {
              const grads = ns.map((n, i) => fill(v.pool, n, 3 * k + i, k === steps.length - 1 ? v.poison : []));
              const full: DenseUpdate[] = tf.tidy(() => updates.map((u, i) => ({ ...u, grad: tf.tensor(grads[i]) })));
              try {
                for (const u of full) assert.equal(kernel.unsupportedReason(u), null);
                tf.tidy(() => { kernel.run(full, f, s, folded); });
                full.forEach((u, i) => assertSameStates([Float32Array.from(u.grad.dataSync())], [grads[i]], `step ${k}: gradient ${i} was written`));
              } finally {
                tf.dispose(full.map((u) => u.grad));
              }
              const clipped = folded === undefined ? grads : clipInJs(grads, folded);
              refs.forEach((r, i) => denseStep(f, s, clipped[i], r));
              updates.forEach((u, i) => {
                const got = [u.variable, u.slots.rms, u.slots.momentum, u.slots.mg].filter((t) => t !== undefined).map((t) => Float32Array.from(t.dataSync()));
                const want = [refs[i].w, refs[i].ms, refs[i].mom, refs[i].mg].filter((t): t is Float32Array => t !== undefined);
                assertSameStates(got, want, `step ${k}, variable ${i} (w, ms, mom, mg)`);
              });
              canaries.check(`step ${k}`);
            });
          } finally {
            for (const u of updates) tf.dispose([u.variable, ...Object.values(u.slots)]);
            canaries.free();
          }
        }), fuzzParameters(runs));
      });
    }
  });
}
