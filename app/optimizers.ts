/**
 * The two optimizers the main job compares, built from one set of options, and
 * the stopwatch around their update step.
 *
 * `tf.train.rmsprop` has no schedule and no clipping, so the baseline below adds
 * both around TF.js's own update (same formulas and order as Keras: clipvalue,
 * clipnorm, global clipnorm; the schedule read at the step count before the
 * increment). Without those options it is exactly `tf.train.rmsprop`.
 */
import * as tf from '@tensorflow/tfjs';
import { RMSprop, schedules } from '../src/index.js';

type NamedTensor = { name: string; tensor: tf.Tensor };

export interface OptimizerOptions {
  readonly learningRate: number;
  readonly rho: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly centered: boolean;
  /** `{className, config}` as `schedules.deserialize` takes it, or null for a constant rate. */
  readonly schedule: schedules.SerializedSchedule | null;
  readonly clipnorm: number | null;
  readonly clipvalue: number | null;
  readonly globalClipnorm: number | null;
}

export type OptimizerKind = 'rmsprop' | 'tf.train.rmsprop';
export const OPTIMIZER_KINDS: readonly OptimizerKind[] = ['rmsprop', 'tf.train.rmsprop'];

export function createOptimizer(kind: OptimizerKind, o: OptimizerOptions): tf.Optimizer {
  const schedule = o.schedule === null ? null : schedules.deserialize(o.schedule);
  if (kind === 'rmsprop') {
    return new RMSprop({
      learningRate: schedule ?? o.learningRate,
      rho: o.rho, momentum: o.momentum, epsilon: o.epsilon, centered: o.centered,
      clipnorm: o.clipnorm ?? undefined, clipvalue: o.clipvalue ?? undefined, globalClipnorm: o.globalClipnorm ?? undefined,
    });
  }
  return new TfjsRMSpropBaseline(o, schedule);
}

/** `tf.train.rmsprop` plus the schedule and clipping it lacks. */
export class TfjsRMSpropBaseline extends tf.RMSPropOptimizer {
  private step = 0;

  constructor(private readonly o: OptimizerOptions, private readonly schedule: schedules.LearningRateSchedule | null) {
    super(o.learningRate, o.rho, o.momentum, o.epsilon, o.centered);
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    // TF.js reads this number on every step, so setting it here schedules the rate.
    if (this.schedule !== null) this.learningRate = this.schedule.valueAt(this.step);
    this.step++;
    const named: NamedTensor[] = Array.isArray(variableGradients)
      ? variableGradients
      : Object.keys(variableGradients).map((name) => ({ name, tensor: variableGradients[name] }));
    if (this.o.clipnorm === null && this.o.clipvalue === null && this.o.globalClipnorm === null) {
      super.applyGradients(named);
      return;
    }
    const clipped = tf.tidy(() => clip(named.map((g) => g.tensor), this.o));
    try {
      super.applyGradients(named.map((g, i) => ({ name: g.name, tensor: clipped[i] })));
    } finally {
      tf.dispose(clipped);
    }
  }
}

function clip(grads: tf.Tensor[], o: OptimizerOptions): tf.Tensor[] {
  let out = grads;
  if (o.clipvalue !== null) {
    const c = o.clipvalue;
    out = out.map((g) => tf.clipByValue(g, -c, c));
  }
  if (o.clipnorm !== null) {
    const c = o.clipnorm;
    out = out.map((g) => tf.div(tf.mul(g, c), tf.maximum(tf.norm(g), c)));
  }
  if (o.globalClipnorm !== null) {
    const c = o.globalClipnorm;
    const norm = tf.sqrt(tf.addN(out.map((g) => tf.sum(tf.square(g)))));
    const scale = tf.div(c, tf.maximum(norm, c));
    out = out.map((g) => tf.mul(g, scale));
  }
  return out;
}

/** Wall time spent inside one optimizer's `applyGradients`, which `model.fit` calls once per batch. */
export interface StepTimer {
  /** Seconds accumulated since the last `take()`; resets the count. */
  take(): number;
}

/**
 * Wraps `applyGradients` on this instance. On the cpu and wasm backends every
 * op runs before the call returns, so the wall time is the step's cost; on
 * webgl it is the time to enqueue the work.
 */
export function timeOptimizerSteps(optimizer: tf.Optimizer): StepTimer {
  let seconds = 0;
  const apply = optimizer.applyGradients.bind(optimizer) as (g: unknown) => unknown;
  Object.defineProperty(optimizer, 'applyGradients', {
    configurable: true,
    writable: true,
    value: (grads: unknown): unknown => {
      const start = performance.now();
      try {
        return apply(grads);
      } finally {
        seconds += (performance.now() - start) / 1000;
      }
    },
  });
  return {
    take(): number {
      const s = seconds;
      seconds = 0;
      return s;
    },
  };
}
