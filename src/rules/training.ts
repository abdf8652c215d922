/**
 * Keras 3's base-optimizer passes around any update rule (keras/src/optimizers/
 * base_optimizer.py, v3.15): gradient accumulation and the exponential moving
 * average of the weights, as float32 loops (the reference), tensor ops and SIMD
 * exports (wasm-src/training.ts). Each line is Keras's float32 arithmetic:
 *   g ← g / loss_scale_factor                      `g / scale`            (every call, first)
 *   acc ← g + acc                                  `g + acc_g`            (accumulating calls)
 *   g ← (g + acc) / steps;  acc ← 0                 `(g + acc_g) / steps`, then the reset (update calls)
 *   avg ← m·avg + (1 − m)·w;  w ← avg (overwrite)   `momentum * average + (1 - momentum) * var`
 * with `m = ema_momentum·(iterations ≠ 0)` as a float32 tensor and `1 − m`
 * subtracted in float32 (StepScalars.emaMomentum / emaOneMinus).
 */
// Module-local on purpose: an imported binding is a getter per call in transpiled code.
const f32 = Math.fround;
import type { OpChain, Pass, ScalarTensors, SimdCall, StepScalars, TensorOps, TensorState } from './types.js';

/**
 * What one optimizer call runs around (or instead of) the rule's update, for a
 * kernel that folds it in; the optimizer base decides it (optimizer/training.ts).
 */
export interface Around {
  /** 'accumulate': only `acc ← g + acc` (no update); 'update': the rule's passes. */
  readonly phase: 'update' | 'accumulate';
  /**
   * On an update call of gradient accumulation, the number of calls it averages:
   * `g ← (g + acc)/steps; acc ← 0` before anything else. Null otherwise.
   */
  readonly combineSteps: number | null;
  /** The loss scale factor the gradients are divided by first; null for none. */
  readonly unscale: number | null;
  /** After the update or the accumulation: the EMA of the weights; null without. */
  readonly ema: EmaScalars | null;
}

/** The EMA's scalars of one call: `m` and `1 − m` in float32, and whether the weights take the average. */
export interface EmaScalars {
  readonly momentum: number;
  readonly oneMinus: number;
  readonly overwrite: boolean;
}

/** `acc[i] ← g[i + gShift] + acc[i]` over `[start, end)`. */
export function accumulateLoop(g: Float32Array, acc: Float32Array, start: number, end: number, gShift: number): void {
  for (let i = start; i < end; i++) acc[i] = f32(g[i + gShift] + acc[i]);
}

/** `g[i] ← (g[i] + acc[i]) / steps; acc[i] ← 0` over `[start, end)`: `g` is a scratch the caller owns. */
export function combineLoop(g: Float32Array, acc: Float32Array, steps: number, start: number, end: number, gShift = 0): void {
  for (let i = start; i < end; i++) {
    g[i + gShift] = f32(f32(g[i + gShift] + acc[i]) / steps);
    acc[i] = 0;
  }
}

/** `g[i] ← g[i] / factor` over `[start, end)`: `g` is a scratch the caller owns. */
export function unscaleLoop(g: Float32Array, factor: number, start: number, end: number): void {
  for (let i = start; i < end; i++) g[i] = f32(g[i] / factor);
}

/** `avg ← m·avg + (1 − m)·w`, then `w ← avg` when `overwrite`, over `[start, end)`. */
export function emaLoop(
  m: number, oneMinus: number, overwrite: boolean, w: Float32Array, avg: Float32Array, start: number, end: number,
): void {
  for (let i = start; i < end; i++) {
    const a = f32(f32(m * avg[i]) + f32(oneMinus * w[i]));
    avg[i] = a;
    if (overwrite) w[i] = a;
  }
}

/** The tensor form of `emaLoop`: the new average (and weights, when overwritten). */
export function emaOps<T>(o: TensorOps<T>, m: T, oneMinus: T, w: T, avg: T): T {
  return o.add(o.mul(m, avg), o.mul(oneMinus, w));
}

const NO_ARGS = (): number[] => [];
const EMA_ARGS = (s: StepScalars): number[] => [s.emaMomentum ?? 0, s.emaOneMinus ?? 1];
const training = (fn: string, args: (s: StepScalars) => number[]): SimdCall => ({ module: 'training', fn: () => fn, args, exports: [fn] });

export const ACCUMULATE: Pass = {
  name: 'gradient accumulation',
  loop: (_s, _centered, g, st, start, end, gShift) => accumulateLoop(g, st.acc as Float32Array, start, end, gShift),
  ops: (o, _k, _centered, g, st) => ({ acc: o.add(g, st.acc!) }),
  simd: training('accumulate', NO_ARGS),
};

function emaPass(overwrite: boolean): Pass {
  const ops: OpChain = (o, k, _centered, _g, st) => {
    const avg = emaOps(o, k.emaMomentum!, k.emaOneMinus!, st.w, st.avg!);
    return overwrite ? { avg, w: avg } : { avg };
  };
  return {
    name: overwrite ? 'EMA of the weights, then overwrite' : 'EMA of the weights',
    loop: (s, _centered, _g, st, start, end) =>
      emaLoop(s.emaMomentum ?? 0, s.emaOneMinus ?? 1, overwrite, st.w, st.avg as Float32Array, start, end),
    ops,
    simd: training(overwrite ? 'emaOverwrite' : 'ema', EMA_ARGS),
  };
}

export const EMA = emaPass(false);
export const EMA_OVERWRITE = emaPass(true);

/**
 * The gradient of an update call of accumulation, `(g + acc)/steps`, with the
 * accumulator reset. Not a `Pass`: it writes the gradient, which a kernel must
 * hold in a scratch of its own (the caller's gradient is never written).
 */
export const COMBINE = {
  name: 'accumulated gradient',
  /** In place on the scratch `g`, elements `[start, end)` (gradient element `i` at `g[i + gShift]`). */
  loop: (s: StepScalars, g: Float32Array, st: { readonly acc?: Float32Array }, start: number, end: number, gShift = 0): void =>
    combineLoop(g, st.acc as Float32Array, s.accumulationSteps ?? 1, start, end, gShift),
  /** The combined gradient; the kernel writes the zeroed accumulator back. */
  ops: <T>(o: TensorOps<T>, k: ScalarTensors<T>, g: T, st: TensorState<T>): T => o.div(o.add(g, st.acc!), k.accumulationSteps!),
  simd: training('combine', (s) => [s.accumulationSteps ?? 1]),
};

/** The gradient divided by the loss scale factor (Keras's `apply`), in the kernel's scratch like `COMBINE`. */
export const UNSCALE = {
  name: 'loss scale',
  loop: (s: StepScalars, g: Float32Array, start: number, end: number): void => unscaleLoop(g, s.lossScaleFactor ?? 1, start, end),
  ops: <T>(o: TensorOps<T>, k: ScalarTensors<T>, g: T): T => o.div(g, k.lossScaleFactor!),
  simd: { ...training('unscale', (s) => unscaleArgs(s.lossScaleFactor ?? 1)), exports: ['unscale', 'unscaleInto'] },
};

// One float32's bits, without an allocation per call (this runs every scaled step).
const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/**
 * `1/f` where multiplying by it gives the same float32 as dividing by `f` for
 * every input, else 0: `f` a power of two whose reciprocal is a float32 (both
 * are then the exact quotient, rounded once). Loss scales are powers of two in
 * practice, and a SIMD multiply costs a fraction of a divide.
 */
export function exactReciprocal(f: number): number {
  F32[0] = f;
  const bits = U32[0];
  const exponent = (bits >>> 23) & 0xff;
  const r = Math.fround(1 / f);
  return (bits & 0x7fffff) === 0 && exponent !== 0 && exponent !== 0xff && r !== 0 && Number.isFinite(r) && r * f === 1 ? r : 0;
}

/** The SIMD arguments of the loss scale's division: the factor and its exact reciprocal (or 0). */
export function unscaleArgs(factor: number): number[] {
  return [factor, exactReciprocal(factor)];
}

/** The scalars of a call with Keras 3's passes: the rule's, with the EMA's, the accumulation's and the loss scale. */
export function aroundScalars(s: StepScalars, around: Around): StepScalars {
  const { ema, combineSteps, unscale } = around;
  return {
    ...s,
    ...(ema === null ? {} : { emaMomentum: ema.momentum, emaOneMinus: ema.oneMinus }),
    ...(combineSteps === null ? {} : { accumulationSteps: combineSteps }),
    ...(unscale === null ? {} : { lossScaleFactor: Math.fround(unscale) }),
  };
}

/** The passes that make a call's gradient in the kernel's scratch: the loss scale, then the accumulation's mean. */
export function gradientPasses(around: Around): Array<typeof UNSCALE | typeof COMBINE> {
  const out: Array<typeof UNSCALE | typeof COMBINE> = [];
  if (around.unscale !== null) out.push(UNSCALE);
  if (around.combineSteps !== null) out.push(COMBINE);
  return out;
}

/** The passes of a call after its gradient is ready: the rule's (or the accumulation), then the EMA. */
export function aroundPasses(rulePasses: readonly Pass[], around: Around): Pass[] {
  const first = around.phase === 'accumulate' ? [ACCUMULATE] : rulePasses;
  return around.ema === null ? [...first] : [...first, around.ema.overwrite ? EMA_OVERWRITE : EMA];
}
