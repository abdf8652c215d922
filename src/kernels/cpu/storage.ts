/**
 * Access to the `cpu` backend's storage (tfjs-backend-cpu 4.22): each tensor's
 * values live in `backend.data.get(dataId).values`, a Float32Array for float32,
 * and writing to it changes the tensor. Only buffers with refCount 1 are written:
 * `Variable.assign`, `tf.variable(init)` and `reshape` share buffers.
 */
import * as tf from '@tensorflow/tfjs-core';

export interface CpuTensorData {
  values?: unknown;
  dtype: string;
  refCount: number;
}

export interface CpuBackendInternals {
  data: { has(dataId: object): boolean; get(dataId: object): CpuTensorData };
}

function internals(b: unknown): CpuBackendInternals | null {
  const c = b as Partial<CpuBackendInternals> | undefined;
  return c?.data && typeof c.data.has === 'function' ? (c as CpuBackendInternals) : null;
}

/** The cpu backend when it is the active one, else null. */
export function cpuBackend(): CpuBackendInternals | null {
  return tf.getBackend() === 'cpu' ? internals(tf.backend()) : null;
}

/** The cpu backend if it has been created, active or not (its tensors may outlive a switch). */
export function createdCpuBackend(): CpuBackendInternals | null {
  return internals(tf.engine().registry.cpu);
}

/** The storage entry of a float32 tensor held by the active cpu backend, or null. */
export function cpuEntry(t: tf.Tensor): CpuTensorData | null {
  const b = cpuBackend();
  const id = t.dataId as object;
  if (b === null || !b.data.has(id)) return null;
  const d = b.data.get(id);
  return d.dtype === 'float32' && d.values instanceof Float32Array ? d : null;
}

/** The live values of a float32 tensor held by the active cpu backend, or null. */
export function cpuValues(t: tf.Tensor): Float32Array | null {
  return (cpuEntry(t)?.values as Float32Array | undefined) ?? null;
}

/** The live values of `t` when it may be written in place (its buffer is its own), or null. */
export function cpuWritableValues(t: tf.Tensor): Float32Array | null {
  const d = cpuEntry(t);
  return d !== null && d.refCount === 1 ? (d.values as Float32Array) : null;
}

/**
 * Whether `dataId` is alive on the cpu backend with `view` as its values. `has`
 * comes first because `get` would move the data over from another backend.
 */
export function holdsView(b: CpuBackendInternals, dataId: object, view: Float32Array): boolean {
  return b.data.has(dataId) && b.data.get(dataId).values === view;
}

/** Arrays the kernels made (private copies, or views into their own memory). */
const owned = new WeakSet<Float32Array>();

/** Records an array the kernels created as the values of a tensor. */
export function markOwned(values: Float32Array): void {
  owned.add(values);
}

/**
 * The live values of `t`, made private before anything is written to them, or
 * null when its buffer is shared. On cpu, `tf.tensor(array)` keeps the caller's
 * array as the tensor's values without copying (and `await t.data()` returns the
 * live array, so `tf.tensor(await t.data())` aliases `t`), so refCount 1 does not
 * prove nobody else sees the array. The first in-place write to an array the
 * kernels did not make therefore swaps in a copy: one copy per buffer, none in
 * steady state, and the old array keeps the old values, as with the op chain.
 */
export function cpuOwnedValues(t: tf.Tensor): Float32Array | null {
  const d = cpuEntry(t);
  if (d === null || d.refCount !== 1) return null;
  let values = d.values as Float32Array;
  if (!owned.has(values)) {
    values = values.slice();
    d.values = values;
    owned.add(values);
  }
  return values;
}
