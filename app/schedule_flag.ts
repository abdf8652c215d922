/**
 * `--schedule`: a short name for a common Keras schedule, sized to the run, or
 * any serialized schedule as JSON. The result is what `schedules.deserialize`
 * takes, so both optimizers read one schedule object.
 */
import { schedules } from '../src/index.js';
import { AppError } from './errors.js';

export interface ScheduleFlag {
  readonly text: string;
}

export interface RunShape {
  readonly learningRate: number;
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
}

type Shortcut = (r: RunShape) => schedules.SerializedSchedule;

const SHORTCUTS: Record<string, Shortcut> = {
  // Halves the rate every epoch, smoothly.
  exponential: (r) => ({
    className: 'ExponentialDecay',
    config: { initialLearningRate: r.learningRate, decaySteps: r.stepsPerEpoch, decayRate: 0.5, staircase: false },
  }),
  // lr / (1 + epoch): the rate after e epochs is lr / (1 + e).
  'inverse-time': (r) => ({
    className: 'InverseTimeDecay',
    config: { initialLearningRate: r.learningRate, decaySteps: r.stepsPerEpoch, decayRate: 1, staircase: false },
  }),
  // Linear from lr to lr/10 over the whole run.
  polynomial: (r) => ({
    className: 'PolynomialDecay',
    config: {
      initialLearningRate: r.learningRate, decaySteps: r.totalSteps, endLearningRate: r.learningRate / 10,
      power: 1, cycle: false,
    },
  }),
  // Half a cosine from lr to 0 over the whole run.
  cosine: (r) => ({
    className: 'CosineDecay',
    config: { initialLearningRate: r.learningRate, decaySteps: r.totalSteps, alpha: 0 },
  }),
};

export const SCHEDULE_NAMES = Object.keys(SHORTCUTS);

/** The serialized schedule, checked by building it once. Throws AppError (exit code 2) when it cannot be built. */
export function resolveScheduleFlag(flag: ScheduleFlag, run: RunShape): schedules.SerializedSchedule {
  const text = flag.text.trim();
  let serialized: schedules.SerializedSchedule;
  if (text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw scheduleError(`--schedule is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
    serialized = parsed as schedules.SerializedSchedule;
  } else {
    const shortcut = SHORTCUTS[text];
    if (shortcut === undefined) {
      throw scheduleError(`unknown schedule "${text}": use one of ${SCHEDULE_NAMES.join(', ')}, or JSON {"className": ..., "config": ...}`);
    }
    serialized = shortcut(run);
  }
  try {
    schedules.deserialize(serialized);
  } catch (e) {
    throw scheduleError(`--schedule: ${e instanceof Error ? e.message : String(e)}`);
  }
  return serialized;
}

function scheduleError(message: string): AppError {
  return new AppError(`${message}\nRun \`npm start -- --help\` for the flags.`, 2);
}
