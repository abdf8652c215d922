/**
 * `IndexedSlices`: a gradient that holds rows of a variable, as TF's
 * `tf.IndexedSlices` (what `tf.gather` and embedding lookups produce in TF).
 * `values` has shape `[indices.length, ...variable.shape.slice(1)]`; indices may
 * repeat, and repeated rows are summed before the update, as TF 2.4 does.
 */
import * as tf from '@tensorflow/tfjs-core';
import { show } from '../util/config_keys.js';
import { readBackSync } from '../kernels/read_back.js';

export class IndexedSlices {
  readonly values: tf.Tensor;
  /** The row of each slice of `values`, in order; a host copy. */
  readonly indices: Int32Array;
  readonly denseShape?: readonly number[];

  constructor(values: tf.Tensor, indices: tf.Tensor | Int32Array | readonly number[], denseShape?: readonly number[]) {
    if (!(values instanceof tf.Tensor)) {
      throw new TypeError(`IndexedSlices: \`values\` must be a tf.Tensor, got ${show(values)}`);
    }
    if (values.rank < 1) {
      throw new Error(`IndexedSlices: \`values\` must have at least one dimension (one slice per index), got shape [${values.shape}]`);
    }
    this.values = values;
    this.indices = toIndexArray(indices);
    if (this.indices.length !== values.shape[0]) {
      throw new Error(
        `IndexedSlices: ${this.indices.length} indices but \`values\` has ${values.shape[0]} slices (shape [${values.shape}])`,
      );
    }
    if (denseShape !== undefined) {
      if (!Array.isArray(denseShape) || denseShape.some((d) => !Number.isInteger(d) || d < 0)) {
        throw new TypeError(`IndexedSlices: \`denseShape\` must be an array of non-negative integers, got ${show(denseShape)}`);
      }
      this.denseShape = [...denseShape];
    }
  }

  /**
   * Checks these slices against the variable they update: a variable of rank
   * >= 1, slices of the variable's row shape, indices in [0, rows).
   */
  validateFor(variable: tf.Variable, what: string): void {
    if (variable.rank === 0) {
      throw new Error(`${what}: a sparse gradient cannot update the 0-d variable ${show(variable.name)}`);
    }
    const rowShape = variable.shape.slice(1);
    const expected = [this.indices.length, ...rowShape];
    if (this.values.shape.length !== expected.length || this.values.shape.some((d, i) => d !== expected[i])) {
      throw new Error(
        `${what}: the IndexedSlices values for ${show(variable.name)} have shape [${this.values.shape}], ` +
        `expected [${expected}] ([indices.length, ...variable.shape.slice(1)])`,
      );
    }
    if (this.values.dtype !== 'float32') {
      throw new TypeError(`${what}: the IndexedSlices values for ${show(variable.name)} have dtype ${this.values.dtype}, expected float32`);
    }
    if (this.values.isDisposed) {
      throw new Error(`${what}: the IndexedSlices values for ${show(variable.name)} have been disposed`);
    }
    if (this.denseShape !== undefined &&
        (this.denseShape.length !== variable.rank || this.denseShape.some((d, i) => d !== variable.shape[i]))) {
      throw new Error(
        `${what}: the IndexedSlices denseShape [${this.denseShape}] does not match variable ${show(variable.name)} of shape [${variable.shape}]`,
      );
    }
    const rows = variable.shape[0];
    for (let i = 0; i < this.indices.length; i++) {
      const r = this.indices[i];
      if (r < 0 || r >= rows) {
        throw new RangeError(
          `${what}: index ${r} at offset ${i} is out of range for variable ${show(variable.name)} with ${rows} rows`,
        );
      }
    }
  }

  /** The dense gradient of a variable of `shape` these slices equal (duplicate rows summed); call inside a tidy. */
  toDense(shape: readonly number[]): tf.Tensor {
    // scatterND sums duplicates and, unlike unsortedSegmentSum, exists on every backend.
    return tf.scatterND(tf.tensor2d(this.indices, [this.indices.length, 1], 'int32'), this.values, shape as number[]);
  }

  /** The same indices with other values (used by clipping). */
  withValues(values: tf.Tensor): IndexedSlices {
    return new IndexedSlices(values, this.indices, this.denseShape);
  }
}

/** Host copies of the values of a step's IndexedSlices, read before the step changes anything. */
const heldValues = new WeakMap<IndexedSlices, Float32Array>();

/**
 * `slices.values` on the host (kernels/read_back.ts: where the backend cannot
 * read them back synchronously, this throws saying so): the copy held for the
 * step, else read now.
 */
export function hostValues(slices: IndexedSlices): Float32Array {
  return heldValues.get(slices) ?? (readBackSync(slices.values, 'the values of an IndexedSlices') as Float32Array);
}

/**
 * Reads the values of a step's slices before anything changes, so a backend
 * that cannot read back fails the step whole; `release` drops the copies at the
 * step's end (given again later, the values are read again: they may be a
 * variable a step wrote in place).
 */
export function holdHostValues(slices: readonly IndexedSlices[]): { release(): void } {
  for (const s of slices) heldValues.set(s, hostValues(s));
  return { release: () => { for (const s of slices) heldValues.delete(s); } };
}

function toIndexArray(indices: tf.Tensor | Int32Array | readonly number[]): Int32Array {
  let raw: ArrayLike<number>;
  if (indices instanceof tf.Tensor) {
    if (indices.rank !== 1) throw new Error(`IndexedSlices: \`indices\` must be a vector, got shape [${indices.shape}]`);
    if (indices.dtype !== 'int32' && indices.dtype !== 'float32') {
      throw new TypeError(`IndexedSlices: \`indices\` must be int32, got ${indices.dtype}`);
    }
    raw = readBackSync(indices, 'the indices of an IndexedSlices') as ArrayLike<number>;
  } else if (indices instanceof Int32Array) {
    return new Int32Array(indices);
  } else if (Array.isArray(indices)) {
    if (indices.some((x) => Array.isArray(x))) throw new Error(`IndexedSlices: \`indices\` must be a vector, got a nested array`);
    raw = indices;
  } else {
    throw new TypeError(`IndexedSlices: \`indices\` must be a tf.Tensor1D, an Int32Array or a number[], got ${show(indices)}`);
  }
  const out = new Int32Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const x = raw[i];
    if (!Number.isInteger(x)) throw new TypeError(`IndexedSlices: index ${show(x)} at offset ${i} is not an integer`);
    if (x < 0) throw new RangeError(`IndexedSlices: index ${x} at offset ${i} is negative`);
    if (x > 0x7fffffff) throw new RangeError(`IndexedSlices: index ${x} at offset ${i} is too large`);
    out[i] = x;
  }
  return out;
}

/**
 * Sums the slices of repeated indices, as TF 2.4's `_deduplicate_indexed_slices`:
 * unique indices in order of first appearance, each row the float32 sum of its
 * slices in order (`unsorted_segment_sum`). Row `p`'s summed slice is
 * `values[slice[p]·rowSize …]`: rows that appear once are not copied, a repeated
 * row is summed into its first slice of a copy.
 */
let scratchKeys = new Int32Array(0);
let scratchSlots = new Int32Array(0);
let scratchPos = new Int32Array(0);

function scratch(capacity: number, n: number): { keys: Int32Array; slots: Int32Array; pos: Int32Array } {
  if (scratchKeys.length < capacity) { scratchKeys = new Int32Array(capacity); scratchSlots = new Int32Array(capacity); }
  if (scratchPos.length < n) scratchPos = new Int32Array(n);
  return { keys: scratchKeys, slots: scratchSlots, pos: scratchPos };
}

export function sumDuplicates(
  indices: Int32Array, values: Float32Array, rowSize: number,
): { rows: Int32Array; slice: Int32Array; values: Float32Array } {
  const n = indices.length;
  // Open addressing in typed arrays (a Map costs ~10x more per index), with
  // scratch space kept between calls.
  let capacity = 16;
  while (capacity < 2 * n) capacity *= 2;
  const mask = capacity - 1;
  const { keys, slots, pos } = scratch(capacity, n);
  keys.fill(-1, 0, capacity);
  const rows = new Int32Array(n);
  const slice = new Int32Array(n);
  let unique = 0;
  for (let i = 0; i < n; i++) {
    const r = indices[i];
    let h = Math.imul(r, 0x9e3779b1) & mask;
    while (keys[h] !== -1 && keys[h] !== r) h = (h + 1) & mask;
    if (keys[h] === -1) { keys[h] = r; slots[h] = unique; slice[unique] = i; rows[unique++] = r; }
    pos[i] = slots[h];
  }
  if (unique === n) return { rows, slice, values };
  const out = values.slice();
  for (let i = 0; i < n; i++) {
    const first = slice[pos[i]];
    if (first === i) continue;
    const o = first * rowSize;
    const s = i * rowSize;
    for (let j = 0; j < rowSize; j++) out[o + j] += values[s + j];
  }
  return { rows: rows.slice(0, unique), slice: slice.slice(0, unique), values: out };
}
