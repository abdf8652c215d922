/**
 * rmsprop/layers: tfjs-layers integration (needs `@tensorflow/tfjs-layers`,
 * or `@tensorflow/tfjs`, which includes it).
 */
export { SparseEmbedding, sparseEmbedding } from './sparse_embedding.js';
export type { SparseEmbeddingArgs } from './sparse_embedding.js';
export { useRMSpropForOptimizerStrings } from './optimizer_strings.js';
export { FinalizeVariableValues } from './finalize_callback.js';
