/**
 * The nonFinite policy: a gradient holding NaN or ±Infinity (dense, or the
 * values of IndexedSlices, of any variable) makes 'skip' change nothing and
 * count the step, 'error' throw naming the variable before any change, and
 * 'propagate' (the default, Keras's behaviour) let it flow. Checked on the fused
 * kernels' check and on the op chain's, on cpu and wasm; large finite values,
 * gradients longer than a tile and more gradients than a table holds included.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { IndexedSlices, RMSprop, type RMSpropOptions } from '../../src/index.js';
import { setOpChainOnly } from '../../src/kernels/registry.js';
import { TILE_ELEMENTS, TILE_ENTRIES } from '../../src/kernels/simd/tiles.js';
import { assertBitEqual, BACKENDS, tf, useBackend } from '../support/tf.js';

interface Model { vars: tf.Variable[]; opt: RMSprop }

function model(options: RMSpropOptions, sizes: number[]): Model {
  return {
    vars: sizes.map((n, i) => tf.tidy(() => tf.variable(tf.linspace(-1, 1, n).add(i)))),
    opt: new RMSprop({ learningRate: 0.01, momentum: 0.9, ...options }),
  };
}

function snapshot({ vars, opt }: Model): Float32Array[] {
  return vars.flatMap((v) => [v, ...opt.getSlotNames().map((s) => opt.getSlot(v, s))].map((t) => Float32Array.from(t.dataSync())));
}

function grads(sizes: number[], step: number, bad?: { at: number; index: number; value: number }): tf.Tensor[] {
  return sizes.map((n, i) => {
    const g = new Float32Array(n).map((_, j) => Math.sin(j + step * 7 + i) * 1e30 ** (j % 3 === 0 ? 1 : 0) * 1e-30 + 0.5);
    if (bad !== undefined && bad.at === i) g[bad.index] = bad.value;
    return tf.tensor1d(g);
  });
}

for (const backend of BACKENDS) {
  for (const path of ['kernels', 'op chain'] as const) {
    describe(`nonFinite (${backend}, ${path})`, () => {
      before(async () => {
        await useBackend(backend);
        setOpChainOnly(path === 'op chain');
      });

      const sizes = [5, TILE_ELEMENTS + 17, 3];
      for (const value of [NaN, Infinity, -Infinity]) {
        test(`'skip': a ${value} changes nothing, is counted, and the next steps go on as if it never came`, () => {
          const a = model({ nonFinite: 'skip' }, sizes);
          const b = model({}, sizes);
          tf.tidy(() => { for (const m of [a, b]) m.opt.applyGradients(grads(sizes, 0).map((g, i) => [g, m.vars[i]])); });
          const before = snapshot(a);
          tf.tidy(() => a.opt.applyGradients(grads(sizes, 1, { at: 1, index: TILE_ELEMENTS + 16, value }).map((g, i) => [g, a.vars[i]])));
          assert.equal(a.opt.skippedSteps, 1);
          assert.equal(a.opt.iterations, 1);
          assert.equal(a.opt.lastStepKernels()[0].kernel, 'skipped');
          snapshot(a).forEach((x, i) => assertBitEqual(x, before[i], `state ${i}`));
          tf.tidy(() => { for (const m of [a, b]) m.opt.applyGradients(grads(sizes, 2).map((g, i) => [g, m.vars[i]])); });
          const sa = snapshot(a);
          snapshot(b).forEach((x, i) => assertBitEqual(sa[i], x, `after state ${i}`));
          for (const m of [a, b]) { m.opt.dispose(); tf.dispose(m.vars); }
        });
      }

      test('a NaN or ±Infinity is found at every position of a gradient (each lane, the unrolled loop, its remainder, the tail)', () => {
        const n = 47; // 32 in the unrolled loop (16 a turn), 12 in its remainder (4 a turn), 3 in the tail
        const m = model({ nonFinite: 'skip' }, [n]);
        let skipped = 0;
        for (let index = 0; index < n; index++) {
          const value = [NaN, Infinity, -Infinity][index % 3];
          tf.tidy(() => m.opt.applyGradients(grads([n], index, { at: 0, index, value }).map((g, i) => [g, m.vars[i]])));
          assert.equal(m.opt.skippedSteps, ++skipped, `${value} at ${index} was not seen`);
        }
        // The largest finite float32 and the smallest subnormal are finite.
        tf.tidy(() => m.opt.applyGradients([[tf.tensor1d(new Float32Array(n).fill(3.4028234663852886e38).fill(1e-45, 20)), m.vars[0]]]));
        assert.equal(m.opt.skippedSteps, skipped);
        m.opt.dispose();
        tf.dispose(m.vars);
      });

      test('a NaN at either edge of a tile of the check, in a gradient larger than one', () => {
        // The cpu check copies tiles of the update's size (TILE_ELEMENTS) into wasm memory.
        const t = TILE_ELEMENTS;
        const sizes = [3, 3 * t + 5, 2];
        const m = model({ nonFinite: 'skip' }, sizes);
        let skipped = 0;
        for (const index of [0, t - 1, t, 2 * t - 1, 2 * t, 3 * t + 4]) {
          tf.tidy(() => m.opt.applyGradients(grads(sizes, index, { at: 1, index, value: NaN }).map((g, i) => [g, m.vars[i]])));
          assert.equal(m.opt.skippedSteps, ++skipped, `NaN at ${index} was not seen`);
        }
        m.opt.dispose();
        tf.dispose(m.vars);
      });

      test("'error': throws naming the variable, before any change", () => {
        const a = model({ nonFinite: 'error' }, sizes);
        tf.tidy(() => a.opt.applyGradients(grads(sizes, 0).map((g, i) => [g, a.vars[i]])));
        const before = snapshot(a);
        assert.throws(() => tf.tidy(() => a.opt.applyGradients(grads(sizes, 1, { at: 2, index: 1, value: NaN }).map((g, i) => [g, a.vars[i]]))),
          new RegExp(`the gradient for variable "${a.vars[2].name}" holds NaN or ±Infinity \\(nonFinite: 'error'\\); nothing was changed`));
        snapshot(a).forEach((x, i) => assertBitEqual(x, before[i], `state ${i}`));
        assert.equal(a.opt.iterations, 1);
        a.opt.dispose();
        tf.dispose(a.vars);
      });

      test("'propagate' (the default) lets NaN flow; huge finite gradients are not taken for non-finite", () => {
        const a = model({}, [4]);
        tf.tidy(() => a.opt.applyGradients([[tf.tensor1d([1, NaN, 3, 4]), a.vars[0]]]));
        assert.ok(Number.isNaN(a.vars[0].dataSync()[1]));
        const b = model({ nonFinite: 'error' }, [4]);
        tf.tidy(() => b.opt.applyGradients([[tf.tensor1d([3e38, -3e38, 1e-45, 0]), b.vars[0]]]));
        assert.equal(b.opt.iterations, 1);
        for (const m of [a, b]) { m.opt.dispose(); tf.dispose(m.vars); }
      });

      test('more gradients than a table holds: the last one is seen', () => {
        const many = Array.from({ length: TILE_ENTRIES + 5 }, () => 2);
        const a = model({ nonFinite: 'skip' }, many);
        tf.tidy(() => a.opt.applyGradients(grads(many, 0, { at: many.length - 1, index: 1, value: Infinity }).map((g, i) => [g, a.vars[i]])));
        assert.equal(a.opt.skippedSteps, 1);
        assert.equal(a.opt.iterations, 0);
        a.opt.dispose();
        tf.dispose(a.vars);
      });

      test("IndexedSlices: a NaN among the values skips the step, deferred rows included ('dense-equivalent')", () => {
        const table = tf.tidy(() => tf.variable(tf.ones([6, 2])));
        const twin = tf.tidy(() => tf.variable(tf.ones([6, 2])));
        const opt = new RMSprop({ momentum: 0.9, sparseMode: 'dense-equivalent', nonFinite: 'skip', learningRate: 0.1 });
        const ref = new RMSprop({ momentum: 0.9, sparseMode: 'dense-equivalent', learningRate: 0.1 });
        const step = (o: RMSprop, v: tf.Variable, values: number[], rows: number[]) =>
          tf.tidy(() => o.applyGradients([[new IndexedSlices(tf.tensor2d(values, [rows.length, 2]), rows), v]]));
        for (const [o, v] of [[opt, table], [ref, twin]] as const) step(o, v, [1, 2, 3, 4], [0, 3]);
        step(opt, table, [1, NaN, 3, 4], [1, 2]);
        assert.equal(opt.skippedSteps, 1);
        for (const [o, v] of [[opt, table], [ref, twin]] as const) step(o, v, [5, 6], [4]);
        opt.finalizeVariableValues();
        ref.finalizeVariableValues();
        assertBitEqual(Float32Array.from(table.dataSync()), Float32Array.from(twin.dataSync()), 'table');
        assert.equal(opt.iterations, ref.iterations);
        for (const o of [opt, ref]) o.dispose();
        tf.dispose([table, twin]);
      });
    });
  }
}

describe('nonFinite in the config', () => {
  test('getConfig carries it, fromConfig takes it, a bad value is refused', () => {
    const opt = new RMSprop({ nonFinite: 'skip' });
    assert.equal(opt.getConfig().nonFinite, 'skip');
    assert.equal(RMSprop.fromConfig(RMSprop, opt.getConfig()).nonFinite, 'skip');
    assert.equal(new RMSprop().getConfig().nonFinite, undefined);
    assert.throws(() => new RMSprop({ nonFinite: 'ignore' as never }), /`nonFinite` must be one of 'propagate', 'skip', 'error', got "ignore"/);
  });
});
