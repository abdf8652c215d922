/**
 * rmsprop: the RMSprop optimizer of tf.keras (TensorFlow 2.4) for TensorFlow.js.
 */
export { RMSprop } from './optimizer/rmsprop.js';
export type {
  RMSpropOptions, LearningRate, NumberOrFn, PyTorchParamGroup, PyTorchExtraOptions, PyTorchVariableGroup, WeightDecayExclusions,
} from './optimizer/rmsprop.js';
export type { Flavor } from './rules/flavors.js';
export type { GradientsInput, NamedTensor } from './optimizer/keras_optimizer.js';
export type { GradientValue, GradientVariablePairs } from './optimizer/gradients.js';
export type { SlotName } from './optimizer/slots.js';
export type { KernelChoice } from './kernels/select.js';
export { helperThreadReady, setHelperThreadEnabled } from './kernels/helper_thread.js';
export { IndexedSlices } from './sparse/indexed_slices.js';
export { embeddingLookup } from './sparse/embedding_lookup.js';
export type { SparseMode } from './sparse/sparse_update.js';
export * as schedules from './schedules/index.js';
