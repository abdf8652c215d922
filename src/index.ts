/**
 * rmsprop: the RMSprop optimizer of tf.keras (TensorFlow 2.4) for TensorFlow.js.
 */
export { RMSprop } from './rmsprop/rmsprop.js';
export type {
  RMSpropOptions, LearningRate, NumberOrFn, PyTorchParamGroup, PyTorchExtraOptions, PyTorchVariableGroup, WeightDecayExclusions,
} from './rmsprop/rmsprop.js';
export type { Flavor } from './rules/flavors.js';
export type { GradientsInput, NamedTensor } from './optimizer/keras_optimizer.js';
export type { NonFinitePolicy } from './optimizer/non_finite.js';
export type { KernelChoice, SlotName } from './kernels/types.js';
export { helperThreadReady, setHelperThreadEnabled } from './kernels/cpu/helper_thread.js';
export type { GradientValue, GradientVariablePairs } from './optimizer/gradients.js';
export { IndexedSlices } from './sparse/indexed_slices.js';
export { embeddingLookup } from './sparse/embedding_lookup.js';
export type { SparseMode } from './sparse/modes.js';
export * as schedules from './schedules/index.js';
