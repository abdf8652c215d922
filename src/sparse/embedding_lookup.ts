/**
 * `embeddingLookup(table, ids)`: gathers rows of `table`. Inside this package's
 * `minimize`, the table's gradient reaches the optimizer as `IndexedSlices`:
 * the gathered rows are a leaf the tape differentiates directly, so no
 * table-sized gradient, temporary or update is ever built. Elsewhere it is a
 * plain `tf.gather` (dense gradient). Rows a sparse mode deferred are brought up
 * to date before they are gathered.
 */
import * as tf from '@tensorflow/tfjs-core';
import { show } from '../util/config_keys.js';
import { bringRowsUpToDate } from './deferred_rows.js';
import { readBackSync } from '../kernels/read_back.js';

/** One lookup recorded while a minimize differentiates its loss. */
export interface CapturedLookup {
  readonly table: tf.Variable;
  readonly ids: Int32Array;
  /** The gathered rows, shaped `[...ids.shape, ...table.shape.slice(1)]`. */
  readonly rows: tf.Tensor;
}

const captures: CapturedLookup[][] = [];

/** Runs `fn` with lookups recorded into the returned list. */
export function withLookupCapture<T>(fn: (captured: CapturedLookup[]) => T): T {
  const captured: CapturedLookup[] = [];
  captures.push(captured);
  try {
    return fn(captured);
  } finally {
    captures.pop();
  }
}

interface EngineState { kernelDepth: number }

/**
 * Runs ops without recording them on the gradient tape. TF.js does not record
 * ops run inside a kernel (kernelDepth > 0); tfjs-core is pinned to 4.22.x for
 * internals like this one.
 */
function untaped<T>(fn: () => T): T {
  const state = (tf.engine() as unknown as { state: EngineState }).state;
  state.kernelDepth++;
  try {
    return fn();
  } finally {
    state.kernelDepth--;
  }
}

function hostIds(ids: tf.Tensor | Int32Array | readonly number[]): { flat: Int32Array; shape: number[] } {
  if (ids instanceof tf.Tensor) {
    if (ids.dtype !== 'int32' && ids.dtype !== 'float32') {
      throw new TypeError(`embeddingLookup: \`ids\` must be int32, got ${ids.dtype}`);
    }
    const data = readBackSync(ids, 'the ids of embeddingLookup');
    const flat = new Int32Array(data.length);
    for (let i = 0; i < data.length; i++) {
      if (!Number.isInteger(data[i])) throw new TypeError(`embeddingLookup: id ${data[i]} at offset ${i} is not an integer`);
      flat[i] = data[i];
    }
    return { flat, shape: ids.shape };
  }
  if (ids instanceof Int32Array) return { flat: ids, shape: [ids.length] };
  if (Array.isArray(ids)) {
    const flat = new Int32Array(ids.length);
    ids.forEach((x, i) => {
      if (!Number.isInteger(x)) throw new TypeError(`embeddingLookup: id ${show(x)} at offset ${i} is not an integer`);
      flat[i] = x;
    });
    return { flat, shape: [ids.length] };
  }
  throw new TypeError(`embeddingLookup: \`ids\` must be a tf.Tensor, an Int32Array or a number[], got ${show(ids)}`);
}

export function embeddingLookup(table: tf.Variable, ids: tf.Tensor | Int32Array | readonly number[]): tf.Tensor {
  if (!(table instanceof tf.Variable)) {
    throw new TypeError(`embeddingLookup: \`table\` must be a tf.Variable, got ${show(table)}`);
  }
  if (table.isDisposed) throw new Error(`embeddingLookup: the table ${show(table.name)} has been disposed`);
  if (table.rank < 1) throw new Error(`embeddingLookup: the table ${show(table.name)} is 0-d; it needs rows`);
  const { flat, shape } = hostIds(ids);
  const rows = table.shape[0];
  for (let i = 0; i < flat.length; i++) {
    if (flat[i] < 0 || flat[i] >= rows) {
      throw new RangeError(`embeddingLookup: id ${flat[i]} at offset ${i} is out of range for table ${show(table.name)} with ${rows} rows`);
    }
  }
  bringRowsUpToDate(table, flat);
  const outShape = [...shape, ...table.shape.slice(1)];
  const gather = () => tf.tidy(() => tf.reshape(tf.gather(table, tf.tensor1d(flat, 'int32')), outShape));
  const capture = captures[captures.length - 1];
  if (capture === undefined || !tf.engine().isTapeOn()) return gather();
  const gathered = untaped(gather);
  capture.push({ table, ids: flat, rows: gathered });
  return gathered;
}
