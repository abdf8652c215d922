/**
 * Clipping folded into the SIMD kernels. Per element the kernels compute
 * `((max(min(g, hi), lo)·cn)/dn)·scale`, TF 2.4's clip_by_value, clip_by_norm
 * and clip_by_global_norm in float32; the norms come from float64 sums of
 * float32 squares. Checked three ways:
 * - bit for bit against the reference rules fed with gradients clipped here in
 *   plain JavaScript (independent code: TF's formulas written out);
 * - against the op chain with tensor clipping (setFastKernelsEnabled(false)),
 *   equal to the bit with clipvalue alone, within a derived tolerance when a
 *   norm is summed (TF.js sums in float32, in its own order);
 * - the fallbacks: a step with an IndexedSlices gradient clips with tensor ops.
 * (Keras refuses clipnorm with globalClipnorm, so no case has both.)
 * Variables span several tiles and share tiles; the gradients are never written.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { IndexedSlices, RMSprop, type RMSpropOptions } from '../../src/index.js';
import { setFastKernelsEnabled } from '../../src/kernels/registry.js';
import { TILE_ELEMENTS } from '../../src/kernels/simd/tiles.js';
import { denseStep } from '../../src/rules/keras2.js';
import type { DenseState } from '../../src/rules/types.js';
import { BACKENDS, assertClose, tf, useBackend } from '../support/tf.js';
import { assertSameFloats, clipInJs, randomValues, rng, type Clip } from './support.js';

const f = Math.fround;
const FAST = { cpu: 'cpu-simd', wasm: 'wasm-simd' } as const;
const SIZES = [3, 1000, TILE_ELEMENTS + 4097, 5, 64];

const CASES: Array<[string, Clip]> = [
  ['clipvalue', { clipvalue: 0.5 }],
  ['clipnorm', { clipnorm: 3 }],
  ['globalClipnorm', { globalClipnorm: 4 }],
  ['clipvalue + clipnorm', { clipvalue: 0.5, clipnorm: 3 }],
  ['clipvalue + globalClipnorm', { clipvalue: 0.7, globalClipnorm: 2 }],
];

/** Gradients around ±1 with some large values, so every clip bites somewhere. */
function gradients(r: () => number): Float32Array[] {
  return SIZES.map((n) => {
    const g = randomValues(n, r);
    for (let i = 0; i < n; i += 97) g[i] *= 40;
    return g;
  });
}

function train(options: RMSpropOptions, steps: Float32Array[][], fast: boolean, expectKernel?: string): Float32Array[] {
  const r = rng(50);
  const vars = SIZES.map((n) => tf.tidy(() => tf.variable(tf.tensor(randomValues(n, r)))));
  const opt = new RMSprop(options);
  const previous = setFastKernelsEnabled(fast);
  try {
    for (const grads of steps) {
      const tensors = grads.map((g) => tf.tensor(g));
      opt.applyGradients(tensors.map((g, i) => [g, vars[i]] as const));
      tensors.forEach((t, i) => assertSameFloats(t.dataSync(), grads[i], `gradient ${i} after the step`));
      tf.dispose(tensors);
      if (expectKernel) assert.ok(opt.lastStepKernels().every((k) => k.kernel === expectKernel), JSON.stringify(opt.lastStepKernels()));
    }
    return vars.map((v) => Float32Array.from(v.dataSync()));
  } finally {
    setFastKernelsEnabled(previous);
    opt.dispose();
    tf.dispose(vars);
  }
}

for (const backend of BACKENDS) {
  describe(`clipping folded into the kernel (${backend})`, () => {
    before(() => useBackend(backend));

    for (const [name, clip] of CASES) {
      test(`${name}: equals the rules on gradients clipped by TF's formulas, to the bit`, () => {
        const r = rng(40 + CASES.findIndex(([n]) => n === name));
        const steps = Array.from({ length: 4 }, () => gradients(r));
        const options = { learningRate: 0.01, momentum: 0.5, centered: true, ...clip };
        const got = train(options, steps, true, FAST[backend]);

        const init = rng(50);
        const refs: DenseState[] = SIZES.map((n) => ({
          w: randomValues(n, init), ms: new Float32Array(n), mom: new Float32Array(n), mg: new Float32Array(n),
        }));
        const s = { lr: f(0.01), rho: f(0.9), oneMinusRho: f(1 - f(0.9)), momentum: f(0.5), epsilon: f(1e-7) };
        for (const grads of steps) {
          clipInJs(grads, clip).forEach((g, i) => denseStep({ path: 'momentum', centered: true }, s, g, refs[i]));
        }
        got.forEach((w, i) => assertSameFloats(w, refs[i].w, `${name} variable ${i}`));
      });

      test(`${name}: matches the op chain with tensor clipping`, () => {
        const r = rng(60 + CASES.findIndex(([n]) => n === name));
        const steps = Array.from({ length: 3 }, () => gradients(r));
        const options = { learningRate: 0.01, ...clip };
        const folded = train(options, steps, true, FAST[backend]);
        const chain = train(options, steps, false, 'tfops');
        if (clip.clipnorm === undefined && clip.globalClipnorm === undefined) {
          folded.forEach((w, i) => assertSameFloats(w, chain[i], `variable ${i}`));
          return;
        }
        // Σx² in float32 over n ≤ 37,000 terms differs from the float64 sum by at most
        // n·2⁻²⁴ relative (≈ 2.2e-3, worst case); a norm by half that, and each clipped
        // gradient by as much. With lr 0.01 and |g/√ms| ≤ 1/√(1−ρ) ≈ 3.2, three steps move
        // w by at most 3·0.01·3.2·1.1e-3 ≈ 1.1e-4 apart, plus float32 rounding of w.
        folded.forEach((w, i) => assertClose(w, chain[i], 2e-6, 1.1e-4, `variable ${i}`));
      });
    }

    test('clipvalue 0: signed zeros as TF\'s min and max give them, in the vector body and the scalar tail', () => {
      // clip_by_value(g, -0, 0) is +0 for g > 0 and −0 for g = −0 (min, then max, ties keep the
      // first operand); with learningRate 0 and w = −0, the sign of the clipped gradient shows in w.
      const grad = new Float32Array([1, -0, 2, 0, 3, -0, 4]);
      const run = (fast: boolean): Float32Array => {
        const w = tf.tidy(() => tf.variable(tf.tensor1d(new Float32Array(7).fill(-0))));
        const opt = new RMSprop({ learningRate: 0, clipvalue: 0 });
        const previous = setFastKernelsEnabled(fast);
        try {
          tf.tidy(() => opt.applyGradients([[tf.tensor1d(grad), w]]));
          assert.equal(opt.lastStepKernels()[0].kernel, fast ? FAST[backend] : 'tfops');
          return Float32Array.from(w.dataSync());
        } finally {
          setFastKernelsEnabled(previous);
          opt.dispose();
          w.dispose();
        }
      };
      const chain = run(false);
      assert.deepEqual(Array.from(chain, (x) => Object.is(x, -0)), [true, false, true, true, true, false, true]);
      assertSameFloats(run(true), chain, 'w');
    });

    test('an IndexedSlices gradient in the step: clipping runs as tensor ops, as on the op chain', () => {
      const r = rng(70);
      const table = randomValues(40 * 3, r);
      const dense = randomValues(50, r);
      const run = (fast: boolean): Float32Array[] => {
        const t = tf.tidy(() => tf.variable(tf.tensor(table, [40, 3])));
        const d = tf.tidy(() => tf.variable(tf.tensor(dense)));
        const opt = new RMSprop({ learningRate: 0.1, clipvalue: 0.3, globalClipnorm: 1 });
        const previous = setFastKernelsEnabled(fast);
        try {
          const slices = new IndexedSlices(tf.tensor(randomValues(6, rng(71)), [2, 3]), tf.tensor1d([4, 9], 'int32'), [40, 3]);
          const g = tf.tensor(randomValues(50, rng(72)).map((x) => 9 * x));
          opt.applyGradients([[slices, t], [g, d]]);
          tf.dispose([slices.values, slices.indices, g]);
          return [Float32Array.from(t.dataSync()), Float32Array.from(d.dataSync())];
        } finally {
          setFastKernelsEnabled(previous);
          opt.dispose();
          tf.dispose([t, d]);
        }
      };
      const [fast, chain] = [run(true), run(false)];
      assertSameFloats(fast[0], chain[0], 'table');
      assertSameFloats(fast[1], chain[1], 'dense variable');
    });

    for (const clip of [{ clipvalue: 0.1, clipnorm: 1 }, { globalClipnorm: 1 }]) test(`no tensor is left behind by a folded step (${Object.keys(clip).join(', ')})`, () => {
      const r = rng(73);
      const v = tf.tidy(() => tf.variable(tf.tensor(randomValues(300, r))));
      const g = tf.tensor(randomValues(300, r));
      const opt = new RMSprop({ learningRate: 0.01, ...clip });
      try {
        opt.applyGradients([[g, v]]);
        const before = tf.memory().numTensors;
        for (let i = 0; i < 20; i++) opt.applyGradients([[g, v]]);
        assert.equal(opt.lastStepKernels()[0].kernel, FAST[backend]);
        assert.equal(tf.memory().numTensors, before);
      } finally {
        opt.dispose();
        tf.dispose([v, g]);
      }
    });
  });
}
