/**
 * Gradient accumulation for `IndexedSlices`, at the cost of the rows they
 * index: an accumulating call adds its (deduplicated) rows into the
 * accumulator; the update call applies the window's mean as `IndexedSlices`
 * over the rows it touched (the rows of its own gradient, and every row whose
 * accumulated sum is not zero), `(g + acc)/steps` each, and zeroes them. Which
 * rows may be non-zero is remembered per accumulator; after the state was
 * replaced (`setWeights`) it is found by a scan, so a resumed run picks the same
 * rows as one never stopped. In place on cpu and wasm, tensor ops elsewhere.
 */
import * as tf from '@tensorflow/tfjs-core';
import { hostArray } from '../kernels/host_state.js';
import { accumulateLoop } from '../rules/training.js';
import { hostValues, IndexedSlices, sumDuplicates } from './indexed_slices.js';
import { readBackSync } from '../kernels/read_back.js';

const f32 = Math.fround;

/** Rows that may be non-zero: a mark per row, or every row. */
type Dirty = Uint8Array | 'all';

/** `t` with `rows` replaced by `next` (`[k, ...rowShape]`); call inside a tidy. */
function withRows(t: tf.Variable, rows: Int32Array, next: tf.Tensor): tf.Tensor {
  const idx = tf.tensor2d(rows, [rows.length, 1], 'int32');
  // tensorScatterUpdate would do, but tfjs-backend-cpu 4.22 writes into its input's buffer (see tfops/rows.ts).
  const mask = tf.reshape(tf.cast(tf.scatterND(idx, tf.ones([rows.length], 'int32'), [t.shape[0]]), 'bool'), t.shape.map((d, i) => (i === 0 ? d : 1)));
  return tf.where(mask, tf.scatterND(idx, next, t.shape), t);
}

export class AccumulatedRows {
  /** Weak: an accumulator disposed with its optimizer or variable is forgotten with it. */
  private readonly dirty = new WeakMap<tf.Variable, Dirty>();

  /** `acc[r] ← g[r] + acc[r]` for the rows of `slices` (duplicates summed first, as TF densifies them). */
  add(acc: tf.Variable, slices: IndexedSlices): void {
    const rowSize = acc.size / acc.shape[0];
    const { rows, slice, values } = sumDuplicates(slices.indices, hostValues(slices), rowSize);
    if (rows.length === 0) return;
    const host = hostArray(acc);
    if (host !== null) {
      for (let p = 0; p < rows.length; p++) {
        const off = rows[p] * rowSize;
        accumulateLoop(values, host.values, off, off + rowSize, slice[p] * rowSize - off);
      }
      host.written();
    } else {
      tf.tidy(() => {
        const g = new Float32Array(rows.length * rowSize);
        for (let p = 0; p < rows.length; p++) g.set(values.subarray(slice[p] * rowSize, (slice[p] + 1) * rowSize), p * rowSize);
        const shape = [rows.length, ...acc.shape.slice(1)];
        const before = tf.gather(acc, tf.tensor1d(rows, 'int32'));
        acc.assign(withRows(acc, rows, tf.add(tf.tensor(g, shape), before)));
      });
    }
    let marks = this.dirty.get(acc);
    if (marks === 'all') return;
    if (marks === undefined) { marks = new Uint8Array(acc.shape[0]); this.dirty.set(acc, marks); }
    for (let p = 0; p < rows.length; p++) marks[rows[p]] = 1;
  }

  /** After a dense gradient was added into `acc`, or its values were replaced: any row may be non-zero. */
  markAll(acc: tf.Variable): void {
    this.dirty.set(acc, 'all');
  }

  /** After `acc` was zeroed as a whole. */
  markClear(acc: tf.Variable): void {
    this.dirty.delete(acc);
  }

  /**
   * The update call's gradient of a table: the window's rows, `(g + acc)/steps`
   * each, as IndexedSlices (values created in the caller's tidy); those rows
   * of `acc` are zeroed, and then all of it is zero.
   */
  combine(acc: tf.Variable, slices: IndexedSlices, steps: number): IndexedSlices {
    const rowSize = acc.size / acc.shape[0];
    const g = sumDuplicates(slices.indices, hostValues(slices), rowSize);
    const inG = new Set(g.rows);
    const candidates = this.candidates(acc, inG);
    const host = hostArray(acc);
    const accRows = (rows: ArrayLike<number>): Float32Array => {
      const out = new Float32Array(rows.length * rowSize);
      if (host !== null) {
        for (let p = 0; p < rows.length; p++) out.set(host.values.subarray(rows[p] * rowSize, (rows[p] + 1) * rowSize), p * rowSize);
      } else if (rows.length > 0) {
        out.set(tf.tidy(() => readBackSync(tf.gather(acc, tf.tensor1d(Int32Array.from(rows), 'int32')), 'rows of an accumulator')));
      }
      return out;
    };
    // Rows of the window beyond the gradient's: those with a non-zero sum.
    const candidateValues = accRows(candidates);
    const extra: number[] = [];
    for (let p = 0; p < candidates.length; p++) {
      for (let j = 0; j < rowSize; j++) {
        if (candidateValues[p * rowSize + j] !== 0) { extra.push(p); break; }
      }
    }
    const k = g.rows.length + extra.length;
    const rows = new Int32Array(k);
    const values = new Float32Array(k * rowSize);
    const own = accRows(g.rows);
    for (let p = 0; p < g.rows.length; p++) {
      rows[p] = g.rows[p];
      const src = g.slice[p] * rowSize;
      for (let j = 0; j < rowSize; j++) values[p * rowSize + j] = f32(f32(g.values[src + j] + own[p * rowSize + j]) / steps);
    }
    extra.forEach((p, q) => {
      const at = g.rows.length + q;
      rows[at] = candidates[p];
      // Keras adds the densified gradient, 0 at these rows: 0 + acc = acc.
      for (let j = 0; j < rowSize; j++) values[at * rowSize + j] = f32(candidateValues[p * rowSize + j] / steps);
    });
    this.zeroRows(acc, rows);
    this.dirty.delete(acc);
    return new IndexedSlices(tf.tensor(values, [k, ...acc.shape.slice(1)]), rows, acc.shape);
  }

  /** Zeroes every row of `acc` that may be non-zero (Keras resets every accumulator on an update call). */
  zero(acc: tf.Variable): void {
    const marks = this.dirty.get(acc);
    if (marks === undefined) return;
    if (marks === 'all') {
      const host = hostArray(acc);
      if (host !== null) { host.values.fill(0); host.written(); } else tf.tidy(() => { acc.assign(tf.zerosLike(acc)); });
    } else {
      const rows: number[] = [];
      marks.forEach((m, r) => { if (m !== 0) rows.push(r); });
      this.zeroRows(acc, Int32Array.from(rows));
    }
    this.dirty.delete(acc);
  }

  private candidates(acc: tf.Variable, exclude: ReadonlySet<number>): Int32Array {
    const marks = this.dirty.get(acc);
    if (marks === undefined) return new Int32Array(0);
    const out: number[] = [];
    for (let r = 0; r < acc.shape[0]; r++) if ((marks === 'all' || marks[r] !== 0) && !exclude.has(r)) out.push(r);
    return Int32Array.from(out);
  }

  private zeroRows(acc: tf.Variable, rows: Int32Array): void {
    if (rows.length === 0) return;
    const rowSize = acc.size / acc.shape[0];
    const host = hostArray(acc);
    if (host !== null) {
      for (let p = 0; p < rows.length; p++) host.values.fill(0, rows[p] * rowSize, (rows[p] + 1) * rowSize);
      host.written();
      return;
    }
    tf.tidy(() => { acc.assign(withRows(acc, rows, tf.zeros([rows.length, ...acc.shape.slice(1)]))); });
  }
}
