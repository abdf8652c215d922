/**
 * `minimize`'s differentiation: the loss's gradients with respect to a variable
 * list, Keras-style (a var-list function is called after the loss, so lazily
 * built variables exist). Rows gathered with `embeddingLookup` come back as
 * `IndexedSlices` for their table.
 */
import * as tf from '@tensorflow/tfjs-core';
import { show } from '../util/config_keys.js';
import { withLookupCapture, type CapturedLookup } from '../sparse/embedding_lookup.js';
import { IndexedSlices } from '../sparse/indexed_slices.js';

const GRADIENT_HINT =
  'TF.js registers gradients only when @tensorflow/tfjs or @tensorflow/tfjs-layers is loaded ' +
  '(the CommonJS build of @tensorflow/tfjs-core alone has none): import one of them.';

interface TapeState {
  gradientDepth: number;
  activeTape: Array<{ saved?: tf.Tensor[] }> | null;
}

/**
 * Frees what the engine's tape kept for a backward pass that will not run: it
 * does so itself only after a successful one (tfjs-core 4.22 `Engine.gradients`),
 * so a loss or var-list function that throws would leave those tensors behind.
 */
function releaseTape(): void {
  const state = (tf.engine() as unknown as { state: TapeState }).state;
  if (state.gradientDepth !== 0 || state.activeTape === null) return;
  for (const node of state.activeTape) for (const t of node.saved ?? []) t.dispose();
  state.activeTape = null;
}

function withGradientHint<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    releaseTape();
    if (e instanceof Error && /gradient function not found/i.test(e.message)) {
      e.message = `${e.message}. ${GRADIENT_HINT}`;
    }
    throw e;
  }
}

/**
 * The gradient of one variable: its dense gradient, the `IndexedSlices` of the
 * rows gathered from it, or (both present) their dense sum.
 */
function combineGradients(
  v: tf.Variable, dense: tf.Tensor | null, lookups: readonly CapturedLookup[], rowGrads: ReadonlyArray<tf.Tensor | undefined>, owned: tf.Tensor[],
): tf.Tensor | IndexedSlices | null {
  const mine = lookups.map((c, j) => ({ c, g: rowGrads[j] })).filter((e) => e.c.table === v && e.g != null);
  if (mine.length === 0) return dense;
  const rowShape = v.shape.slice(1);
  const values = tf.tidy(() => {
    const parts = mine.map((e) => tf.reshape(e.g as tf.Tensor, [e.c.ids.length, ...rowShape]));
    return parts.length === 1 ? parts[0] : tf.concat(parts, 0);
  });
  owned.push(values);
  const indices = new Int32Array(mine.reduce((n, e) => n + e.c.ids.length, 0));
  let at = 0;
  for (const e of mine) { indices.set(e.c.ids, at); at += e.c.ids.length; }
  const slices = new IndexedSlices(values, indices, v.shape);
  if (dense === null) return slices;
  const sum = tf.tidy(() => tf.add(dense, slices.toDense(v.shape)));
  owned.push(sum);
  return sum;
}

/**
 * Differentiates `loss` with respect to `varList` and hands the gradient pairs
 * to `apply`; returns the cost when `keepCost`, else null. `where` names the
 * method in messages. With a loss scale factor, the loss is multiplied by it
 * before differentiating (Keras 3's `scale_loss`) and the cost returned is the
 * loss itself, unscaled, as Keras's train step reports it.
 */
export function differentiateAndApply(
  where: string, loss: () => tf.Scalar, varList: tf.Variable[] | (() => tf.Variable[]), keepCost: boolean,
  apply: (pairs: Array<readonly [tf.Tensor | IndexedSlices | null, tf.Variable]>) => void,
  lossScaleFactor: number | null = null,
): tf.Scalar | null {
  const checkVars = (vars: unknown): tf.Variable[] => {
    if (!Array.isArray(vars)) throw new TypeError(`${where}: the varList function must return an array, got ${show(vars)}`);
    vars.forEach((v, i) => {
      if (!(v instanceof tf.Variable)) throw new TypeError(`${where}: varList[${i}] is not a tf.Variable: ${show(v)}`);
    });
    return vars as tf.Variable[];
  };
  let vars: tf.Variable[] = Array.isArray(varList) ? checkVars(varList) : [];
  // The engine checks `xs` is non-empty before running the loss and reads it
  // only afterwards, so the list is completed (var-list function, gathered
  // rows) once the loss has run.
  const placeholder = tf.scalar(0);
  const xs: tf.Tensor[] = [placeholder];
  let lookups: CapturedLookup[] = [];
  const kept: { unscaled: tf.Scalar | null } = { unscaled: null };
  try {
    let differentiated: tf.Scalar;
    let grads: tf.Tensor[];
    try {
      ({ value: differentiated, grads } = withLookupCapture((captured) => withGradientHint(() =>
        tf.engine().gradients(() => {
          const cost = loss();
          if (!Array.isArray(varList)) vars = checkVars(varList());
          const wanted = new Set(vars);
          lookups = captured.filter((c) => wanted.has(c.table));
          xs.length = 0;
          xs.push(...vars, ...lookups.map((c) => c.rows));
          if (lossScaleFactor === null) return cost;
          kept.unscaled = tf.keep(cost);
          return tf.mul(cost, tf.scalar(lossScaleFactor, 'float32')) as tf.Scalar;
        }, xs as tf.Variable[], undefined, true))));
    } catch (e) {
      // The unscaled loss was kept out of the tape's scope: a failed differentiation frees it here.
      (kept.unscaled as tf.Scalar | null)?.dispose();
      throw e;
    }
    let value: tf.Scalar = differentiated;
    if (kept.unscaled !== null) {
      differentiated.dispose();
      value = kept.unscaled;
    }
    const owned: tf.Tensor[] = grads.filter((g) => g != null);
    try {
      if (vars.length > 0) {
        apply(vars.map((v, i) => [combineGradients(v, grads[i] ?? null, lookups, grads.slice(vars.length), owned), v] as const));
      }
    } catch (e) {
      // A refused step (no gradient at all, a variable listed twice, ...) hands back nothing.
      value.dispose();
      throw e;
    } finally {
      tf.dispose(owned);
    }
    if (keepCost) return value;
    value.dispose();
    return null;
  } finally {
    placeholder.dispose();
  }
}
