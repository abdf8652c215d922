/**
 * Which variables have rows whose values are deferred by some optimizer
 * ('dense-equivalent' mode with momentum keeps moving untouched rows, lazily).
 * `embeddingLookup` asks here to bring the rows it gathers up to date first.
 */
import type * as tf from '@tensorflow/tfjs-core';

export interface RowCatcher {
  /** Brings `rows` of `variable` (all rows when omitted) up to date. */
  catchUpVariableRows(variable: tf.Variable, rows?: ArrayLike<number>): void;
}

const deferred = new WeakMap<tf.Variable, Set<RowCatcher>>();

export function registerDeferred(variable: tf.Variable, owner: RowCatcher): void {
  let set = deferred.get(variable);
  if (set === undefined) { set = new Set(); deferred.set(variable, set); }
  set.add(owner);
}

export function unregisterDeferred(variable: tf.Variable, owner: RowCatcher): void {
  deferred.get(variable)?.delete(owner);
}

/** Brings the given rows of `variable` up to date for every optimizer that defers them. */
export function bringRowsUpToDate(variable: tf.Variable, rows?: ArrayLike<number>): void {
  const set = deferred.get(variable);
  if (set === undefined) return;
  for (const owner of set) owner.catchUpVariableRows(variable, rows);
}
