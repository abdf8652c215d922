/** Learning-rate schedules with Keras's arguments, formulas and serialization. */
export {
  LearningRateSchedule, registerSchedule, registeredScheduleNames, serialize, deserialize,
} from './learning_rate_schedule.js';
export type { ScheduleConfig, ScheduleConfigValue, SerializedSchedule, ScheduleClass } from './learning_rate_schedule.js';

// Importing each module registers its class in the allow-list of `deserialize`.
export { ExponentialDecay, type ExponentialDecayOptions } from './exponential_decay.js';
export { PiecewiseConstantDecay, type PiecewiseConstantDecayOptions } from './piecewise_constant_decay.js';
export { PolynomialDecay, type PolynomialDecayOptions } from './polynomial_decay.js';
export { InverseTimeDecay, type InverseTimeDecayOptions } from './inverse_time_decay.js';
export { CosineDecay, type CosineDecayOptions } from './cosine_decay.js';
export { CosineDecayRestarts, type CosineDecayRestartsOptions } from './cosine_decay_restarts.js';
export { LinearCosineDecay, type LinearCosineDecayOptions } from './linear_cosine_decay.js';
export { NoisyLinearCosineDecay, type NoisyLinearCosineDecayOptions } from './noisy_linear_cosine_decay.js';
