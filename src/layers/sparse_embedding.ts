/**
 * `SparseEmbedding`: a drop-in for `tf.layers.embedding` (same arguments) whose
 * table gradient reaches this package's optimizer as `IndexedSlices`, so
 * `model.fit` updates only the rows a batch uses.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { bringRowsUpToDate } from '../sparse/deferred_rows.js';
import { embeddingLookup } from '../sparse/embedding_lookup.js';

export type SparseEmbeddingArgs = Parameters<typeof tfl.layers.embedding>[0];

// tfjs-layers exports a factory, not the Embedding class; take the class from an
// instance (no weights are built until the layer is).
const EmbeddingBase = tfl.layers.embedding({ inputDim: 1, outputDim: 1 }).constructor as
  new (args: SparseEmbeddingArgs) => tfl.layers.Layer;

interface EmbeddingInternals {
  embeddings: tfl.LayerVariable;
}

export class SparseEmbedding extends EmbeddingBase {
  static get className(): string {
    return 'SparseEmbedding';
  }

  constructor(args: SparseEmbeddingArgs) {
    super(args);
  }

  private table(): tf.Variable | null {
    const e = (this as unknown as EmbeddingInternals).embeddings;
    return e ? (e.read() as tf.Variable) : null;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      this.invokeCallHook(inputs, kwargs);
      const input = Array.isArray(inputs) ? inputs[0] : inputs;
      const ids = input.dtype === 'int32' ? input : tf.cast(input, 'int32');
      return embeddingLookup(this.table() as tf.Variable, ids);
    });
  }

  // Everything that reads the layer's weights (getWeights, model.save) reads
  // them through here: bring rows an optimizer deferred up to date first.
  override get trainableWeights(): tfl.LayerVariable[] {
    const table = this.table();
    if (table !== null && !table.isDisposed) bringRowsUpToDate(table);
    return super.trainableWeights;
  }

  override set trainableWeights(weights: tfl.LayerVariable[]) {
    super.trainableWeights = weights;
  }
}

// Layer's static fromConfig is inherited at run time; the factory-derived base type does not show it.
tf.serialization.registerClass(SparseEmbedding as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);

/** Factory in the style of `tf.layers.embedding`. */
export function sparseEmbedding(args: SparseEmbeddingArgs): SparseEmbedding {
  return new SparseEmbedding(args);
}
