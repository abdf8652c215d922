/**
 * `useRMSpropForOptimizerStrings`: an opt-in that makes
 * `model.compile({ optimizer: 'rmsprop' })` (also 'RMSprop', 'RMSProp') build
 * this package's `RMSprop`, so an existing TF.js program switches optimizer
 * without editing its compile calls.
 *
 * The hook. tfjs-layers 4.22 turns a string into an optimizer in one place:
 * `LayersModel.compile` calls `getOptimizer(identifier)` (src/optimizers.ts),
 * whose table calls `tf.train.rmsprop(0.001, 0.9, 0, epsilon())`.
 * - `getOptimizer` is private to tfjs-layers' module (and bundled into its
 *   CommonJS file): it cannot be replaced from outside.
 * - `tf.train.rmsprop` is tfjs-core's, shared by every caller in the process:
 *   replacing it would change `tf.train.rmsprop` for everyone, which this must
 *   not do.
 * - `LayersModel.prototype.compile` is public and the only caller of
 *   `getOptimizer`; `Sequential.compile` delegates to its inner model's
 *   `LayersModel.compile`, and `loadLayersModel` compiles with an optimizer
 *   instance. So the wrapper below goes there, and looks only at the three
 *   strings: every other argument reaches the original unchanged. It passes
 *   our instance instead of the string and then marks the model as owning it,
 *   as tfjs-layers does for an optimizer it built from a string (so
 *   `model.dispose()` disposes it).
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { RMSprop, type RMSpropOptions } from '../rmsprop/rmsprop.js';

/** The strings that build RMSprop: tfjs-layers' two and Keras's spelling. */
const RMSPROP_OPTIMIZER_STRINGS: readonly string[] = ['rmsprop', 'RMSprop', 'RMSProp'];

type Compile = (this: tfl.LayersModel, args: tfl.ModelCompileArgs) => void;

interface ModelOwnership {
  isOptimizerOwned: boolean;
}

/** Active opt-ins, oldest first: the last one's options are the ones used. */
const active: Array<{ readonly options: RMSpropOptions }> = [];

/**
 * The wrapper while it is in LayersModel.prototype's chain of `compile`s, with
 * what it replaced. It stays (passing everything through) if someone wrapped
 * `compile` after us, since restoring would remove their wrapper too.
 */
let installed: { readonly replaced: PropertyDescriptor | undefined; readonly wrapper: Compile } | null = null;

function install(): void {
  if (installed !== null) return;
  const proto = tfl.LayersModel.prototype;
  const replaced = Object.getOwnPropertyDescriptor(proto, 'compile');
  const original = proto.compile as Compile;
  const wrapper: Compile = function compile(this: tfl.LayersModel, args: tfl.ModelCompileArgs): void {
    const current = active[active.length - 1];
    const name = args?.optimizer;
    if (current === undefined || typeof name !== 'string' || !RMSPROP_OPTIMIZER_STRINGS.includes(name)) {
      return original.call(this, args);
    }
    const optimizer = new RMSprop(current.options);
    try {
      original.call(this, { ...args, optimizer });
    } finally {
      if (this.optimizer === optimizer) (this as unknown as ModelOwnership).isOptimizerOwned = true;
      else optimizer.dispose();
    }
  };
  Object.defineProperty(proto, 'compile', { value: wrapper, writable: true, enumerable: replaced?.enumerable ?? false, configurable: true });
  installed = { replaced, wrapper };
}

function uninstall(): void {
  if (installed === null) return;
  const proto = tfl.LayersModel.prototype;
  if (Object.getOwnPropertyDescriptor(proto, 'compile')?.value !== installed.wrapper) return;
  if (installed.replaced === undefined) delete (proto as Partial<tfl.LayersModel>).compile;
  else Object.defineProperty(proto, 'compile', installed.replaced);
  installed = null;
}

/**
 * After this call, `model.compile({ optimizer: 'rmsprop' | 'RMSprop' | 'RMSProp' })`
 * gives each model a new `RMSprop(options)`: Keras's defaults (learning rate
 * 0.001, rho 0.9, momentum 0, epsilon 1e-7) with `options` over them, any
 * option of `RMSprop` included (`{ flavor: 'tfjs' }` reproduces what the
 * string gave before, to the bit). Other strings and optimizer instances are
 * untouched, and `tf.train.rmsprop` is never changed. The model owns that
 * optimizer, as it owns one tfjs-layers builds from a string: `model.dispose()`
 * disposes it.
 *
 * Returns a function that undoes this call (calling it again does nothing).
 * Calls nest: the most recent call not yet undone decides the options, in
 * whatever order they are undone; once all are undone, `compile` is TF.js's
 * own again. Options are checked here, before anything changes.
 */
export function useRMSpropForOptimizerStrings(options: RMSpropOptions = {}): () => void {
  const where = 'useRMSpropForOptimizerStrings';
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    const got = Array.isArray(options) ? 'an array' : options === null ? 'null'
      : `${typeof options} ${typeof options === 'string' ? JSON.stringify(options) : String(options)}`;
    throw new TypeError(`${where}: options must be an object of RMSprop options, got ${got}`);
  }
  // A copy, so later edits of the caller's object change nothing; building one
  // optimizer checks every option with RMSprop's own messages.
  const copy: RMSpropOptions = { ...options };
  try {
    new RMSprop(copy).dispose();
  } catch (e) {
    if (e instanceof Error) e.message = `${where}: ${e.message}`;
    throw e;
  }
  const entry = { options: copy };
  active.push(entry);
  install();
  let undone = false;
  return () => {
    if (undone) return;
    undone = true;
    active.splice(active.indexOf(entry), 1);
    if (active.length === 0) uninstall();
  };
}
