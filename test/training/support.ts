/**
 * Shared pieces of the training-feature tests: the forms of every flavor, the
 * kernel modes every backend runs (its fast kernels, the reference loops in
 * place, the op chain of backends without kernels), a seeded run of an
 * optimizer next to the independent reference (support/keras3_reference.ts),
 * and the float32-derived tolerances the comparisons use.
 */
import { IndexedSlices, RMSprop, schedules, type Flavor, type RMSpropOptions } from '../../src/index.js';
import { setFastKernelsEnabled, setOpChainOnly } from '../../src/kernels/registry.js';
import { rng } from '../support/random.js';
import { Keras3Reference, REFERENCE_DEFAULTS, float32, float64, type ReferenceConfig } from '../support/keras3_reference.js';
import { tf } from '../support/tf.js';

export interface Form {
  readonly momentum: number;
  readonly centered: boolean;
  readonly nesterov: boolean;
}

/** Every path of a flavor: plain (not 'tfjs'), momentum and Nesterov momentum, each with and without centering. */
export function formsOf(flavor: Flavor): Form[] {
  const paths = flavor === 'tfjs' ? [[0.5, false], [0.5, true]] as const : [[0, false], [0.9, false], [0.9, true]] as const;
  return paths.flatMap(([momentum, nesterov]) => [false, true].map((centered) => ({ momentum, centered, nesterov })));
}

export const formName = (f: Form): string =>
  `${f.nesterov ? 'nesterov' : f.momentum > 0 ? 'momentum' : 'plain'}${f.centered ? '+centered' : ''}`;

export type KernelMode = 'fast' | 'loops' | 'op-chain';
export const KERNEL_MODES: readonly KernelMode[] = ['fast', 'loops', 'op-chain'];

/** Runs `fn` with the kernels of `mode`, restoring the default after. */
export function withKernels<T>(mode: KernelMode, fn: () => T): T {
  const fast = setFastKernelsEnabled(mode !== 'loops');
  const chain = setOpChainOnly(mode === 'op-chain');
  try {
    return fn();
  } finally {
    setFastKernelsEnabled(fast);
    setOpChainOnly(chain);
  }
}

/**
 * float32's unit roundoff, 2^-24: every comparison's tolerance is a multiple of
 * it, scaled by the number of calls a value went through.
 */
export const U = 2 ** -24;

/** The training options of a case, and the matching reference configuration. */
export interface Case {
  readonly name: string;
  readonly options: RMSpropOptions;
  readonly shapes: readonly (readonly number[])[];
  readonly calls: number;
  /** Variables left out of a call, by call index: Keras still averages them, and resets their accumulators. */
  readonly absent?: Readonly<Record<number, readonly number[]>>;
}

export function referenceConfig(o: RMSpropOptions): ReferenceConfig {
  const lr = o.learningRate;
  const lrAt = typeof lr === 'number' ? () => lr : lr instanceof schedules.LearningRateSchedule ? (step: number) => lr.valueAt(step) : () => 0.001;
  return {
    ...REFERENCE_DEFAULTS,
    flavor: o.flavor ?? 'keras2', rho: (o.rho as number | undefined) ?? 0.9, momentum: (o.momentum as number | undefined) ?? 0,
    epsilon: o.epsilon ?? 1e-7, centered: o.centered ?? false, nesterov: o.nesterov ?? false, lrAt,
    weightDecay: o.weightDecay ?? 0, clipnorm: o.clipnorm ?? null, clipvalue: o.clipvalue ?? null,
    globalClipnorm: o.globalClipnorm ?? null, useEma: o.useEma ?? false, emaMomentum: o.emaMomentum ?? 0.99,
    emaOverwriteFrequency: o.emaOverwriteFrequency ?? null, gradientAccumulationSteps: o.gradientAccumulationSteps ?? null,
    lossScaleFactor: o.lossScaleFactor ?? null,
  };
}

/** Gradients of every call of a case: seeded, of mixed magnitudes and signs. */
export function caseGradients(c: Case, seed: number): Array<Array<Float32Array | null>> {
  const r = rng(seed);
  return Array.from({ length: c.calls }, (_, call) => c.shapes.map((shape, i) => {
    if (c.absent?.[call]?.includes(i)) return null;
    const n = shape.reduce((a, b) => a * b, 1);
    return Float32Array.from({ length: n }, () => (r() * 2 - 1) * 10 ** (r() * 3 - 2));
  }));
}

export function initialValues(c: Case, seed: number): Float32Array[] {
  const r = rng(seed + 1);
  return c.shapes.map((shape) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1));
}

export interface Observed {
  readonly w: Float32Array[];
  readonly ema: Float32Array[] | null;
  readonly iterations: number;
  readonly kernels: string[];
}

/**
 * Runs a case through the optimizer (dense gradients, or `IndexedSlices` of
 * every row when `sparse`), returning the weights and averages after the last call.
 */
export function runOptimizer(c: Case, seed: number, sparse = false): Observed {
  const grads = caseGradients(c, seed);
  const vars = initialValues(c, seed).map((v, i) => tf.variable(tf.tensor(v, c.shapes[i] as number[]), true));
  const opt = new RMSprop(c.options);
  opt.warn = () => {};
  try {
    for (const call of grads) {
      tf.tidy(() => {
        opt.applyGradients(call.map((g, i) => {
          if (g === null) return [null, vars[i]] as const;
          const shape = c.shapes[i] as number[];
          if (!sparse) return [tf.tensor(g, shape), vars[i]] as const;
          // Every row, in reverse order, as slices: the same gradient, sparse.
          const rows = shape[0];
          const rowSize = g.length / rows;
          const order = Array.from({ length: rows }, (_, k) => rows - 1 - k);
          const values = new Float32Array(g.length);
          order.forEach((row, k) => values.set(g.subarray(row * rowSize, (row + 1) * rowSize), k * rowSize));
          return [new IndexedSlices(tf.tensor(values, shape), order, shape), vars[i]] as const;
        }));
      });
    }
    opt.finalizeVariableValues === undefined || (opt.sparseMode !== 'keras2' && !opt.useEma && opt.finalizeVariableValues());
    return {
      w: vars.map((v) => v.dataSync() as Float32Array),
      ema: opt.useEma ? vars.map((v) => { const t = opt.getEmaWeight(v); const d = t.dataSync() as Float32Array; t.dispose(); return d; }) : null,
      iterations: opt.iterations,
      kernels: opt.lastStepKernels().map((k) => k.kernel),
    };
  } finally {
    opt.dispose();
    tf.dispose(vars);
  }
}

/** The reference in float32 and float64 after the same calls. */
export function runReference(c: Case, seed: number): { f32: Keras3Reference; f64: Keras3Reference } {
  const grads = caseGradients(c, seed);
  const init = initialValues(c, seed).map((v) => Array.from(v));
  const config = referenceConfig(c.options);
  const f32 = new Keras3Reference(config, init, float32);
  const f64 = new Keras3Reference(config, init, float64);
  for (const call of grads) {
    const plain = call.map((g) => (g === null ? null : Array.from(g)));
    f32.call(plain);
    f64.call(plain);
  }
  return { f32, f64 };
}

/**
 * The normwise relative error: the largest |a − e| of each array over the
 * largest |e| of that array. Elementwise, a weight that a step brings near zero
 * would count its operands' roundoff against its own tiny size.
 */
export function relativeError(actual: readonly ArrayLike<number>[], expected: readonly ArrayLike<number>[]): number {
  let worst = 0;
  actual.forEach((a, i) => {
    let size = 0;
    for (let j = 0; j < a.length; j++) size = Math.max(size, Math.abs(expected[i][j]));
    for (let j = 0; j < a.length; j++) {
      const d = Math.abs(a[j] - expected[i][j]) / size;
      if (!(d <= worst)) worst = d;
    }
  });
  return worst;
}
