/**
 * rmsprop/layers: tfjs-layers integration (needs `@tensorflow/tfjs-layers`,
 * or `@tensorflow/tfjs`, which includes it).
 */
export { SparseEmbedding, sparseEmbedding } from './sparse_embedding.js';
export type { SparseEmbeddingArgs } from './sparse_embedding.js';
export { FinalizeVariableValues } from './finalize_callback.js';
