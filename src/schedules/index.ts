/** Learning-rate schedules with Keras's arguments, formulas and serialization. */
export {
  LearningRateSchedule, registerSchedule, registeredScheduleNames, serialize, deserialize,
} from './learning_rate_schedule.js';
export type { ScheduleConfig, ScheduleConfigValue, SerializedSchedule, ScheduleClass } from './learning_rate_schedule.js';
