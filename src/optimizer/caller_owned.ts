/**
 * Tensors the optimizer hands to a caller who owns them (`getWeights`): the
 * caller may dispose them, and doing so never touches the optimizer's state.
 * A slot is handed over as a clone, which shares its buffer without a copy;
 * the optimizer's next in-place write sees the buffer shared and gives the slot
 * a new one, so the clone keeps the values it had.
 *
 * tfjs-layers' `model.save` asks for the optimizer's weights and never disposes
 * them (TF.js's own optimizers return their live variables). So that saving in
 * a loop does not leak, a handed-over tensor the caller drops without
 * disposing is disposed once the garbage collector has collected it.
 */
import * as tf from '@tensorflow/tfjs-core';

/** What `Engine.disposeTensor` reads of a tensor (tfjs-core 4.22). */
interface Surrogate {
  readonly dataId: object;
  readonly dtype: tf.DataType;
  readonly size: number;
}

interface Token {
  disposed: boolean;
  readonly surrogate: Surrogate;
}

type Registry<T> = { register(target: object, held: T): void };
const Finalization = (globalThis as { FinalizationRegistry?: new <T>(cleanup: (held: T) => void) => Registry<T> }).FinalizationRegistry;

const collected = Finalization === undefined ? null : new Finalization<Token>((token) => {
  if (token.disposed) return;
  token.disposed = true;
  tf.engine().disposeTensor(token.surrogate as unknown as tf.Tensor);
});

/** `t` made the caller's: kept out of any enclosing tidy, freed by the collector if the caller never disposes it. */
export function toCaller<T extends tf.Tensor>(t: T): T {
  tf.keep(t);
  if (collected === null) return t;
  const token: Token = { disposed: false, surrogate: { dataId: t.dataId as object, dtype: t.dtype, size: t.size } };
  const dispose = t.dispose;
  Object.defineProperty(t, 'dispose', {
    configurable: true,
    writable: true,
    value(this: T) {
      token.disposed = true;
      dispose.call(this);
    },
  });
  collected.register(t, token);
  return t;
}

/** A clone of `t` (no copy) that the caller owns. */
export function cloneToCaller<T extends tf.Tensor>(t: T): T {
  return toCaller(tf.clone(t) as T);
}
