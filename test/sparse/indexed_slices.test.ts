/**
 * IndexedSlices: bad input is a clear error before any row changes; duplicates
 * are summed in order of first appearance; clipping sees the raw values; one
 * object given again in a later step is read again (its values may be a tensor
 * a step wrote in place).
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { IndexedSlices, RMSprop } from '../../src/index.js';
import { sumDuplicates } from '../../src/sparse/indexed_slices.js';
import { assertClose, tf, useBackend, assertBitEqual, BACKENDS } from '../support/tf.js';

describe('IndexedSlices', () => {
  before(() => useBackend('cpu'));

  test('construction checks', () => {
    assert.throws(() => new IndexedSlices(tf.zeros([2, 3]), [0, 1, 2]), /3 indices but `values` has 2 slices/);
    assert.throws(() => new IndexedSlices(tf.zeros([1, 3]), [-1]), /index -1 at offset 0 is negative/);
    assert.throws(() => new IndexedSlices(tf.zeros([1, 3]), [0.5]), /index 0.5 at offset 0 is not an integer/);
    assert.throws(() => new IndexedSlices(tf.zeros([1, 3]), tf.tensor2d([[0]], [1, 1], 'int32')), /`indices` must be a vector, got shape \[1,1\]/);
    assert.throws(() => new IndexedSlices(tf.scalar(1), [0]), /`values` must have at least one dimension/);
    assert.throws(() => new IndexedSlices(tf.zeros([1, 3]), [0], [2, -3]), /`denseShape` must be an array of non-negative integers/);
    const s = new IndexedSlices(tf.zeros([2, 3]), tf.tensor1d([4, 1], 'int32'), [5, 3]);
    assert.deepEqual(Array.from(s.indices), [4, 1]);
  });

  test('duplicates are summed, unique rows in order of first appearance', () => {
    const { rows, slice, values } = sumDuplicates(Int32Array.from([3, 1, 3, 0, 1]), Float32Array.from([1, 2, 3, 4, 5]), 1);
    assert.deepEqual(Array.from(rows), [3, 1, 0]);
    assert.deepEqual(Array.from(slice).map((i) => values[i]), [4, 7, 4]);
    // Rows of width 2; no duplicates: the input comes back as it is.
    const once = Float32Array.from([1, 2, 3, 4]);
    const d = sumDuplicates(Int32Array.from([5, 2]), once, 2);
    assert.equal(d.values, once);
    assert.deepEqual(Array.from(d.slice), [0, 1]);
  });

  /** Two good variables then a bad sparse gradient: nothing may change. */
  function assertAtomic(bad: (table: tf.Variable) => IndexedSlices, message: RegExp, table = tf.variable(tf.ones([4, 2]))): void {
    const opt = new RMSprop({ momentum: 0.9 });
    const a = tf.variable(tf.ones([3]));
    const b = tf.variable(tf.ones([4, 2]));
    opt.applyGradients([[tf.ones([3]), a], [new IndexedSlices(tf.ones([1, 2]), [1]), b]]);
    const before = [Array.from(a.dataSync()), Array.from(b.dataSync()), Array.from(opt.getSlot(b, 'momentum').dataSync())];
    assert.throws(() => opt.applyGradients([[tf.ones([3]), a], [new IndexedSlices(tf.ones([2, 2]), [1, 3]), b], [bad(table), table]]), message);
    assert.deepEqual([Array.from(a.dataSync()), Array.from(b.dataSync()), Array.from(opt.getSlot(b, 'momentum').dataSync())], before);
    assert.equal(opt.iterations, 1);
  }

  test('an index out of range', () => {
    const t = tf.variable(tf.ones([4, 2]), true, 'sparse/bad/range');
    assertAtomic(() => new IndexedSlices(tf.ones([2, 2]), [1, 4]), /index 4 at offset 1 is out of range for variable "sparse\/bad\/range" with 4 rows/, t);
  });

  test('values whose shape does not match [indices.length, ...variable.shape.slice(1)]', () => {
    const t = tf.variable(tf.ones([4, 2]), true, 'sparse/bad/values');
    assertAtomic(() => new IndexedSlices(tf.ones([2, 3]), [0, 1]), /values for "sparse\/bad\/values" have shape \[2,3\], expected \[2,2\]/, t);
  });

  test('a denseShape that is not the variable shape', () => {
    const t = tf.variable(tf.ones([4, 2]), true, 'sparse/bad/dense-shape');
    assertAtomic(() => new IndexedSlices(tf.ones([1, 2]), [0], [5, 2]), /denseShape \[5,2\] does not match variable "sparse\/bad\/dense-shape" of shape \[4,2\]/, t);
  });

  test('a sparse gradient for a 0-d variable', () => {
    const t = tf.variable(tf.scalar(1), true, 'sparse/bad/scalar');
    assertAtomic(() => new IndexedSlices(tf.ones([1]), [0]), /cannot update the 0-d variable "sparse\/bad\/scalar"/, t);
  });

  test('clipping acts on the raw values, before duplicates are summed (clipvalue then clipnorm)', () => {
    const opt = new RMSprop({ learningRate: 0.1, rho: 0, clipvalue: 0.8, clipnorm: 1 });
    const v = tf.variable(tf.zeros([2, 1]));
    opt.applyGradients([[new IndexedSlices(tf.tensor2d([[5], [5]]), [0, 0]), v]]);
    // clipvalue: [0.8, 0.8]; clipnorm over the two raw entries: ‖·‖ = 0.8·√2 > 1, scale 1/(0.8√2);
    // then summed into row 0: 2·0.8/(0.8√2) = √2. With rho = 0, rms = g².
    const f = Math.fround;
    const c = f(f(f(0.8) * 1) / f(Math.sqrt(f(f(f(0.8) * f(0.8)) * 2))));
    assertClose(opt.getSlot(v, 'rms').dataSync(), [f(f(c + c) * f(c + c)), 0], 2e-7, 0, 'rms');
  });
});

for (const backend of BACKENDS) {
  describe(`IndexedSlices reused across steps (${backend})`, () => {
    before(() => useBackend(backend));

    test('whose values are a variable the steps write in place: each step reads them anew', () => {
      const run = (reuse: boolean): Float32Array => {
        const table = tf.tidy(() => tf.variable(tf.linspace(-1, 1, 40).reshape([10, 4])));
        const rows = tf.tidy(() => tf.variable(tf.linspace(0.5, 2, 8).reshape([2, 4])));
        const opt = new RMSprop({ learningRate: 0.1, momentum: 0.9 });
        const shared = new IndexedSlices(rows, [3, 7]);
        for (let i = 0; i < 3; i++) {
          tf.tidy(() => {
            const slices = reuse ? shared : new IndexedSlices(rows, [3, 7]);
            opt.applyGradients([[slices, table], [tf.onesLike(rows), rows]]);
          });
        }
        const out = Float32Array.from(table.dataSync());
        opt.dispose();
        tf.dispose([table, rows]);
        return out;
      };
      assertBitEqual(run(true), run(false), 'table after three steps');
    });
  });
}
