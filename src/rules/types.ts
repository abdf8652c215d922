/**
 * Types shared by the update rules. Rules are pure arithmetic: float32 loops
 * over arrays, and the same arithmetic over tensors through the operations a
 * kernel hands in, so nothing here imports TF.js. Kernels decide where the
 * arrays live and which form runs.
 */

import type { Flavor } from './flavors.js';

/** Per-step scalars, already float32-rounded as the flavor's framework rounds them. */
export interface StepScalars {
  /** The learning rate of this step (schedule and legacy decay applied). */
  readonly lr: number;
  readonly rho: number;
  /**
   * `1 - rho` as the flavor's framework computes it: TF 2.4 in float32 from the
   * float32 `rho` (0.100000024 for 0.9); Keras 3, PyTorch and TF.js in double
   * from the given rho, rounded once (0.1 for 0.9).
   */
  readonly oneMinusRho: number;
  readonly momentum: number;
  readonly epsilon: number;
  /** float32 weight decay; absent or 0 means none. Decoupled or coupled by flavor (flavors.ts). */
  readonly weightDecay?: number;
  /**
   * Keras 3's base-optimizer passes around the rule (training.ts), present only
   * on calls that run them: the EMA's float32 momentum of this call
   * (`ema_momentum·(iterations ≠ 0)`) and `1 −` it, the number of calls a
   * gradient-accumulation update averages, and the loss scale factor the
   * gradients are divided by.
   */
  readonly emaMomentum?: number;
  readonly emaOneMinus?: number;
  readonly accumulationSteps?: number;
  readonly lossScaleFactor?: number;
}

/**
 * Which TF 2.4 dense path a step takes: `'momentum'` is the C++ kernel
 * (`ResourceApply[Centered]RMSProp`, epsilon inside the square root), chosen when
 * momentum > 0 or is a function; `'plain'` is the Python path of momentum == 0
 * (epsilon outside the square root).
 */
export type DensePath = 'momentum' | 'plain';

export interface UpdateForm {
  /** `'momentum'` when the variable has a momentum slot (always for 'tfjs'). */
  readonly path: DensePath;
  readonly centered: boolean;
  /** Whose arithmetic; absent means 'keras2'. */
  readonly flavor?: Flavor;
  /**
   * optax's Nesterov momentum on the momentum path (`trace(nesterov=True)`):
   * `mom = μ·mom + s; w −= s + μ·mom`, `s` the flavor's scaled step. Absent means off.
   */
  readonly nesterov?: boolean;
}

/** The rule table's key of a form: its path, or 'nesterov' for the momentum path with Nesterov momentum. */
export type RuleKey = DensePath | 'nesterov';

/**
 * The state a rule updates in place. `mom` exists on the momentum path, `mg`
 * when centered; `avg` (the EMA of the weights) and `acc` (the gradient
 * accumulator) when the optimizer runs Keras 3's passes that use them.
 */
export interface DenseState {
  readonly w: Float32Array;
  readonly ms: Float32Array;
  readonly mom?: Float32Array;
  readonly mg?: Float32Array;
  readonly avg?: Float32Array;
  readonly acc?: Float32Array;
}

/**
 * What the rows of a sparse step sat out, in closed form, per row `p` of the
 * step (decay 1, muPow 1, muSum 0 where a row missed nothing).
 */
export interface RowCatchUp {
  /** The factor the row's accumulators decay by. */
  readonly decay: Float64Array;
  /**
   * Where the momentum keeps moving idle rows ('dense-equivalent' on the
   * momentum path): the factor of the momentum, and how far it moves the
   * variable in units of the momentum. Null where it does not.
   */
  readonly muPow: Float64Array | null;
  readonly muSum: Float64Array | null;
}

/**
 * A pass as float32 loops: updates elements `[start, end)` of the state in
 * place; the gradient of element `i` is `g[i + gShift]`, so one row of a table
 * can be updated from a gradient that holds only that row.
 */
export type Loop = (
  s: StepScalars, centered: boolean, g: Float32Array, st: DenseState, start: number, end: number, gShift: number,
) => void;

/** The tensor operations an op-chain form uses; the op-chain kernel hands in TF.js's. */
export interface TensorOps<T> {
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, b: T): T;
  div(a: T, b: T): T;
  sqrt(a: T): T;
  rsqrt(a: T): T;
  square(a: T): T;
}

/**
 * The step scalars as scalar tensors (`negLr` is `−lr`); `weightDecay` only when
 * it is not 0, the EMA and accumulation scalars only when the step has them.
 */
export type ScalarTensors<T> = Readonly<Record<'lr' | 'rho' | 'oneMinusRho' | 'momentum' | 'epsilon' | 'negLr', T>> & {
  readonly weightDecay?: T;
  readonly emaMomentum?: T;
  readonly emaOneMinus?: T;
  readonly accumulationSteps?: T;
  readonly lossScaleFactor?: T;
};

export interface TensorState<T> {
  readonly w: T;
  readonly ms: T;
  readonly mom?: T;
  readonly mg?: T;
  readonly avg?: T;
  readonly acc?: T;
}

/**
 * A pass as tensor ops: returns the new values of what it changes (the kernel
 * writes them back). Operation for operation the loop's arithmetic, so on
 * backends that compute IEEE float32 it equals the loop to the bit.
 */
export type OpChain = <T>(o: TensorOps<T>, k: ScalarTensors<T>, centered: boolean, g: T, st: TensorState<T>) => Partial<TensorState<T>>;

/** The modules of wasm-src/ that hold passes (`<flavor>_ema`: the flavor's with the EMA folded in). */
export type SimdModule =
  | 'keras2' | 'keras3' | 'tfjs' | 'pytorch' | 'sparse' | 'training'
  | 'keras2_ema' | 'keras3_ema' | 'tfjs_ema' | 'pytorch_ema';

/**
 * A pass as an export of a SIMD module (wasm-src/): `fn(table, count, ...args)`
 * over a table of `[w, g, ms, mom, mg, n, avg, acc]` entries (kernels/simd/module.ts).
 */
export interface SimdCall {
  readonly module: SimdModule;
  /** The export's name, with and without the centered form. */
  fn(centered: boolean): string;
  /** The scalar arguments after `(table, count)`. */
  args(s: StepScalars): number[];
  /** Every export name it may use, for the helper thread's call codes. */
  readonly exports: readonly string[];
  /**
   * The same pass with Keras 3's EMA of the weights folded into its loop, where
   * the flavor's module has one (wasm-src/<flavor>_ema.ts): the same export
   * names, taking after `args` the EMA's `m`, `1 − m`, and 1 when the weights
   * take the average (else 0).
   */
  readonly withEma?: Pick<SimdCall, 'module' | 'fn' | 'exports'>;
}

/** `name = expr`, a statement of a shader form. */
export interface Statement {
  readonly name: string;
  readonly expr: string;
}

/**
 * A pass as shader statements for the GPU kernels (kernels/gpu/formulas.ts
 * emits GLSL and WGSL from them): fully parenthesized expressions in what both
 * languages spell alike (+ − · /, unary minus, `sqrt`, `min`, `max`, float
 * literals with a point, `fmad(a, b, c)` = a·b + c, `rsqrt(a)` = 1/√a as one
 * operation), over `g0` (the gradient
 * the rule sees), `w0` (the weight before the update), the state `ms`, `mom`,
 * `mg`, and the step's uniforms `uLr`, `uRho`, `uOmr` (1 − ρ as the flavor
 * rounds it), `uMu`, `uEps`, `uWd`, `uNegLr` (−lr).
 */
export interface ShaderForm {
  readonly statements: readonly Statement[];
  /** The statement that gives each state tensor written. */
  readonly outputs: { readonly w: string; readonly ms: string; readonly mom?: string; readonly mg?: string };
}

/** One pass over a variable's state, in each form a kernel runs: the loops are the reference. */
export interface Pass {
  readonly name: string;
  readonly loop: Loop;
  readonly ops: OpChain;
  readonly simd: SimdCall;
  /** The shader form, by centering; absent where no GPU kernel takes the pass. */
  readonly shader?: (centered: boolean) => ShaderForm;
}

/** The dense update of one flavor × path, and what its sparse catch-up needs. */
export interface Rule {
  readonly update: Pass;
  /**
   * The framework's own kernel for the rows of a sparse gradient, where it is
   * not the dense rule on those rows (TF 2.4's `SparseApplyRMSProp`).
   */
  readonly sparse?: Pass;
  /**
   * The factor a step with a zero gradient multiplies the accumulators by:
   * what a row a sparse step did not index misses (sparse/row catch-up).
   */
  idleDecay(s: StepScalars): number;
}
