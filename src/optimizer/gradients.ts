/**
 * Turns the two call forms of `applyGradients` into one list of (gradient,
 * variable) pairs, drops missing gradients with Keras's warning, and checks
 * every pair before the optimizer changes anything.
 */
import * as tf from '@tensorflow/tfjs-core';
import { show } from '../util/config_keys.js';
import { IndexedSlices } from '../sparse/indexed_slices.js';

/** `{name, tensor}`, as TF.js's optimizers exchange weights and gradients. */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/**
 * What a Keras-form gradient may be: a tensor, nested numbers / a typed array of
 * the variable's shape, or `IndexedSlices` for rows of the variable's first axis.
 */
export type GradientValue = tf.Tensor | IndexedSlices | tf.TensorLike;

/** Keras form: `[gradient, variable]` pairs. */
export type GradientVariablePairs = ReadonlyArray<readonly [GradientValue | null | undefined, tf.Variable]>;

/** Everything `applyGradients` accepts. */
export type GradientsInput = GradientVariablePairs | tf.NamedTensorMap | NamedTensor[];

export interface GradientPair {
  readonly variable: tf.Variable;
  readonly grad: tf.Tensor | IndexedSlices;
}

function lookupVariable(where: string, name: string): tf.Variable {
  const v = tf.engine().registeredVariables[name];
  if (v === undefined) {
    throw new Error(`${where}: no variable named ${show(name)} is registered (was it disposed?)`);
  }
  return v;
}

function describe(v: tf.Variable, i: number): string {
  return `variable ${show(v.name)} (entry ${i})`;
}

function isPairForm(input: readonly unknown[]): boolean {
  return input.every((e) => Array.isArray(e));
}

interface RawPair { grad: unknown; variable: unknown; index: number }

function rawPairs(where: string, input: GradientsInput): RawPair[] {
  if (Array.isArray(input)) {
    if (isPairForm(input)) {
      return (input as unknown as unknown[][]).map((e, index) => {
        if (e.length !== 2) {
          throw new TypeError(`${where}: entry ${index} must be a [gradient, variable] pair, got ${e.length} elements`);
        }
        return { grad: e[0], variable: e[1], index };
      });
    }
    return (input as unknown[]).map((e, index) => {
      const nt = e as Partial<NamedTensor> | null;
      if (nt === null || typeof nt !== 'object' || typeof nt.name !== 'string') {
        throw new TypeError(
          `${where}: entry ${index} must be a [gradient, variable] pair or a {name, tensor} object, got ${show(e)}`,
        );
      }
      return { grad: nt.tensor, variable: lookupVariable(where, nt.name), index };
    });
  }
  if (input === null || typeof input !== 'object') {
    throw new TypeError(`${where}: expected [gradient, variable] pairs, {name, tensor}[] or a name→tensor map, got ${show(input)}`);
  }
  return Object.entries(input).map(([name, grad], index) => ({ grad, variable: lookupVariable(where, name), index }));
}

export type Normalized =
  | { kind: 'empty' }
  | { kind: 'pairs'; pairs: GradientPair[]; converted: tf.Tensor[] };

/**
 * Checks every pair and returns them with missing gradients dropped. Array
 * gradients are converted to tensors (listed in `converted`, for the caller to
 * dispose). `where` names the method in messages (`RMSprop.applyGradients`).
 */
export function normalizeGradients(where: string, input: GradientsInput, warn: (msg: string) => void): Normalized {
  const raw = rawPairs(where, input);
  if (raw.length === 0) return { kind: 'empty' };
  const seen = new Set<tf.Variable>();
  const present: RawPair[] = [];
  const missing: string[] = [];
  for (const p of raw) {
    if (!(p.variable instanceof tf.Variable)) {
      throw new TypeError(`${where}: entry ${p.index} must pair a gradient with a tf.Variable, got ${show(p.variable)}`);
    }
    const v = p.variable;
    if (v.isDisposed) throw new Error(`${where}: ${describe(v, p.index)} has been disposed`);
    if (v.dtype !== 'float32') {
      throw new TypeError(`${where}: ${describe(v, p.index)} has dtype ${v.dtype}; only float32 variables can be trained`);
    }
    if (seen.has(v)) throw new Error(`${where}: ${describe(v, p.index)} appears more than once in one step`);
    seen.add(v);
    if (p.grad == null) missing.push(v.name);
    else present.push(p);
  }
  if (present.length === 0) {
    throw new Error(`${where}: no gradients provided for any variable: [${missing.join(', ')}]`);
  }
  if (missing.length > 0) {
    warn(`Gradients do not exist for variables [${missing.join(', ')}] when minimizing the loss.`);
  }
  const converted: tf.Tensor[] = [];
  try {
    const pairs = present.map((p) => ({ variable: p.variable as tf.Variable, grad: toTensor(where, p, converted) }));
    return { kind: 'pairs', pairs, converted };
  } catch (e) {
    tf.dispose(converted);
    throw e;
  }
}

function toTensor(where: string, p: RawPair, converted: tf.Tensor[]): tf.Tensor | IndexedSlices {
  const v = p.variable as tf.Variable;
  if (p.grad instanceof IndexedSlices) {
    p.grad.validateFor(v, `${where}: entry ${p.index}`);
    return p.grad;
  }
  let g: tf.Tensor;
  if (p.grad instanceof tf.Tensor) {
    g = p.grad;
    if (g.isDisposed) throw new Error(`${where}: the gradient for ${describe(v, p.index)} has been disposed`);
  } else {
    const bad = firstNonNumber(p.grad, '');
    if (bad !== null) {
      throw new TypeError(
        `${where}: the gradient for ${describe(v, p.index)} holds ${show(bad.value)} at ${bad.at || 'its top'}; expected numbers`,
      );
    }
    try {
      g = tf.tensor(p.grad as tf.TensorLike, undefined, 'float32');
    } catch (e) {
      throw new TypeError(`${where}: the gradient for ${describe(v, p.index)} is not a tensor or array: ${(e as Error).message}`);
    }
    converted.push(g);
    if (g.size === v.size && g.shape.length !== v.shape.length) {
      g = tf.reshape(g, v.shape);
      converted.push(g);
    }
  }
  if (g.dtype !== 'float32') {
    throw new TypeError(`${where}: the gradient for ${describe(v, p.index)} has dtype ${g.dtype}, expected float32`);
  }
  if (g.shape.length !== v.shape.length || g.shape.some((d, i) => d !== v.shape[i])) {
    throw new Error(
      `${where}: the gradient for ${describe(v, p.index)} has shape [${g.shape}], but the variable has shape [${v.shape}]`,
    );
  }
  return g;
}

/**
 * The first leaf of a nested-array gradient that is not a number, with its
 * position (`[2][0]`), or null. TF.js would turn a string or a boolean into a
 * number (NaN, 0, 1) without a word.
 */
function firstNonNumber(value: unknown, at: string): { value: unknown; at: string } | null {
  if (typeof value === 'number') return null;
  if (value instanceof Float32Array || value instanceof Float64Array || value instanceof Int32Array ||
      value instanceof Uint8Array || value instanceof Int16Array || value instanceof Uint16Array ||
      value instanceof Int8Array || value instanceof Uint32Array || value instanceof Uint8ClampedArray) return null;
  if (!Array.isArray(value)) return { value, at };
  for (let i = 0; i < value.length; i++) {
    const bad = firstNonNumber(value[i], `${at}[${i}]`);
    if (bad !== null) return bad;
  }
  return null;
}
