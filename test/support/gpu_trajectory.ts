/**
 * A GPU kernel against the reference loops over a random trajectory, shared by
 * the Node WebGPU test and the Chromium page (bundled with esbuild): several
 * variables per step, a new gradient and new scalars every step, every state
 * value compared after every step within the running bound of gpu_tolerance.ts.
 * Returns a summary instead of throwing in the page, so the Node side asserts.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  AROUND_UNIFORMS, aroundUniformValues, callStatements, GLOBAL_SCALE, globalTerm, UNIFORMS, uniformValues, type ClipForm,
} from '../../src/kernels/gpu/formulas.js';
import type { DenseKernel, DenseUpdate } from '../../src/kernels/types.js';
import { foldClip, globalScale, hasClipping, normDivisor, type ClipOptions } from '../../src/clipping/scalar.js';
import { denseStep } from '../../src/rules/dense.js';
import { FLAVOR_SPECS, type Flavor } from '../../src/rules/flavors.js';
import type { DensePath, DenseState, StepScalars, UpdateForm } from '../../src/rules/types.js';
import { accumulateLoop, aroundScalars, combineLoop, emaLoop, unscaleLoop, type Around } from '../../src/rules/training.js';
import { runBounded, type Bounded } from './gpu_tolerance.js';
import { inTexture, isPacked, texturedCopy } from './gpu_work.js';
import { mulberry32 } from '../../app/random.js';
import { randomGrad } from '../kernels/support.js';

export { randomGrad };

const f = Math.fround;

export interface GpuCase {
  readonly flavor: Flavor;
  readonly path: DensePath;
  /** optax's Nesterov momentum (momentum path only). */
  readonly nesterov?: boolean;
  readonly centered: boolean;
  readonly clip: ClipOptions;
  readonly weightDecay: number;
  readonly steps: number;
  readonly shapes: ReadonlyArray<readonly number[]>;
  readonly seed: number;
  /** Keras 3's passes, for a kernel that folds them: accumulation window, loss scale, EMA (`keras3Cases`). */
  readonly keras3?: { readonly accumulationSteps: number | null; readonly lossScale: number | null; readonly ema: boolean };
  /**
   * Where the gradients and the initial state live before the kernel reads them:
   * in WebGL textures of the given layout, written by an op (packed: RGBA texels
   * of 2×2 elements, as TF.js's own elementwise ops leave them); unset, on the
   * CPU (uploaded in the layout the kernel asks for). Elsewhere the same values.
   */
  readonly textures?: { readonly gradients?: Layout; readonly state?: Layout };
}

export type Layout = 'packed' | 'unpacked';

/**
 * Keras 3's passes of call `t` of a case: accumulating calls until the window's
 * last, the EMA's `m` 0 on the first call and 0.9 after, overwriting every third call.
 */
export function aroundAt(k: NonNullable<GpuCase['keras3']>, t: number): Around {
  const n = k.accumulationSteps;
  const update = n === null || (t + 1) % n === 0;
  const m = t === 0 ? 0 : f(0.9);
  return {
    phase: update ? 'update' : 'accumulate',
    combineSteps: update && n !== null ? n : null,
    unscale: k.lossScale,
    ema: k.ema ? { momentum: m, oneMinus: f(1 - m), overwrite: t % 3 === 2 } : null,
  };
}

/** Keras 3's state of a reference trajectory. */
export interface AroundState {
  readonly acc: Float32Array;
  readonly ema: Float32Array;
}

/** One call of the reference loops (rules/training.ts around rules/dense.ts), on a copy of the gradient. */
export function referenceCall(form: UpdateForm, s: StepScalars, a: Around | null, grad: Float32Array, st: DenseState, k: AroundState): void {
  if (a === null) { denseStep(form, s, grad, st); return; }
  const sx = aroundScalars(s, a);
  const g = grad.slice();
  const n = g.length;
  if (a.unscale !== null) unscaleLoop(g, sx.lossScaleFactor as number, 0, n);
  if (a.phase === 'accumulate') accumulateLoop(g, k.acc, 0, n, 0);
  else {
    if (a.combineSteps !== null) combineLoop(g, k.acc, a.combineSteps, 0, n);
    denseStep(form, s, g, st);
  }
  if (a.ema !== null) emaLoop(a.ema.momentum, a.ema.oneMinus, a.ema.overwrite, st.w, k.ema, 0, n);
}

export interface CaseResult {
  readonly name: string;
  /** State values compared (all steps). */
  readonly compared: number;
  /** Values without a finite bound (centered variance rounding to about 0), not compared. */
  readonly unbounded: number;
  /** max |gpu − reference| / bound over the compared values. */
  readonly maxRatio: number;
  /** max |gpu − reference| relative to max(|reference|, 1e-30), for the record. */
  readonly maxRelative: number;
  /** The first value outside its bound, if any. */
  readonly failure?: string;
  /** Whether the bound is tight enough to tell this flavor from `alternative` (some value of its trajectory lies outside). */
  readonly discriminated: boolean;
  /** What the bound must tell this case from: another flavor, or for Nesterov momentum the same flavor's plain momentum. */
  readonly alternative: string;
  readonly kernelRefusal?: string;
  /** Of the state tensors after the last step, how many are in WebGL textures, and how many packed (none elsewhere); dense cases. */
  readonly layout?: { readonly inTextures: number; readonly packed: number };
}

export function caseName(c: GpuCase): string {
  const clip = Object.entries(c.clip).filter(([, v]) => v !== null).map(([k, v]) => `${k} ${v}`).join(', ');
  const k = c.keras3;
  const passes = k === undefined ? '' : [
    ...(k.accumulationSteps === null ? [] : [`accumulation ${k.accumulationSteps}`]),
    ...(k.lossScale === null ? [] : [`loss scale ${k.lossScale}`]), ...(k.ema ? ['EMA'] : []),
  ].map((x) => `, ${x}`).join('');
  const textures = Object.entries(c.textures ?? {}).map(([what, layout]) => `, ${what} in ${layout} textures`).join('');
  return `${c.flavor} ${c.nesterov === true ? 'nesterov' : c.path}${c.centered ? '+centered' : ''}${clip ? `, ${clip}` : ''}${c.weightDecay ? `, weightDecay ${c.weightDecay}` : ''}${passes}${textures}`;
}

/**
 * A flavor with the same slots whose arithmetic differs beyond rounding (ε
 * inside or outside the square root, lr inside or outside the momentum buffer):
 * what the bound must tell apart. (keras2 and keras3 with momentum, or tfjs and
 * keras2, differ only in rounding, which the bound is meant to absorb.)
 */
export function alternative(flavor: Flavor, path: DensePath): Flavor {
  if (flavor === 'pytorch') return 'keras3';
  if (path === 'momentum') return 'pytorch';
  return flavor === 'keras2' ? 'keras3' : 'keras2';
}

function randomValues(n: number, r: () => number): Float32Array {
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
}

/** The step's scalars as hyper.ts resolves them for the flavor, changing every step. */
export function scalarsAt(flavor: Flavor, step: number, weightDecay: number, r: () => number): StepScalars {
  const rhoGiven = r() < 0.5 ? 0.9 : 0.95;
  const rho = f(rhoGiven);
  return {
    lr: f(0.001 * (1 + 9 * r()) / (1 + step * 0.1)),
    rho,
    oneMinusRho: FLAVOR_SPECS[flavor].oneMinusRho === 'float32-rho' ? f(1 - rho) : f(1 - rhoGiven),
    momentum: f(r() < 0.5 ? 0.9 : 0.5),
    epsilon: f(r() < 0.5 ? 1e-7 : 1e-3),
    weightDecay: f(weightDecay),
  };
}

export interface ClipRef {
  /** The gradients after TF 2.4's clipping, float32 with float64 sums (clipping.ts's formulas). */
  readonly clipped: Float32Array[];
  /** Per gradient: Σx² of the value-clipped gradient, float32. */
  readonly sums: Float32Array;
  readonly scale: number;
}

export function clipReference(grads: readonly Float32Array[], c: ClipOptions): ClipRef {
  const fc = foldClip(c);
  const byValue = grads.map((g) => g.map((x) => Math.max(Math.min(x, fc.hi), fc.lo)));
  const sumSq = (g: Float32Array): number => f(g.reduce((s, x) => s + f(x * x), 0));
  const sums = Float32Array.from(byValue, sumSq);
  let out = byValue;
  if (fc.clipnorm !== null) {
    const cn = fc.clipnorm;
    out = out.map((g, k) => {
      const dn = normDivisor(sums[k], cn);
      return g.map((x) => f(f(x * cn) / dn));
    });
  }
  let scale = 1;
  if (fc.globalClipnorm !== null) {
    scale = globalScale(out.map(sumSq), fc.globalClipnorm);
    out = out.map((g) => g.map((x) => f(x * scale)));
  }
  return { clipped: out, sums, scale };
}

/** The bound on each per-variable clip input (cS, cScale) given the GPU's sum accuracy. */
function clipBounds(
  ref: ClipRef, clip: ClipForm, uniforms: ReadonlyMap<string, Bounded>, sumBound: (n: number) => number,
  sizes: readonly number[],
): { cS: Bounded[]; cScale: Bounded } {
  const cS = Array.from(ref.sums, (v, k) => ({ v, e: sumBound(sizes[k]) * Math.abs(v) }));
  if (!clip.global) return { cS, cScale: { v: ref.scale, e: 0 } };
  const term = globalTerm(clip.norm);
  let half: Bounded = { v: 0, e: 0 };
  for (const s of cS) {
    const env = new Map(uniforms);
    env.set('cS', s).set('cHalf', half);
    runBounded([...term, { name: 'cNext', expr: 'cHalf + cTerm' }], env);
    half = env.get('cNext') as Bounded;
  }
  const env = new Map(uniforms);
  env.set('cHalf', half);
  runBounded(GLOBAL_SCALE, env);
  return { cS, cScale: { v: ref.scale, e: (env.get('cScaleOut') as Bounded).e } };
}

/**
 * A variable whose buffer is its own (tf.variable shares its initial tensor's),
 * in a texture of `layout` when given (see GpuCase.textures).
 */
export function exclusiveVariable(values: Float32Array, shape: readonly number[], layout?: Layout): tf.Variable {
  return tf.tidy(() => {
    const init = tf.tensor(values, [...shape], 'float32');
    return tf.variable(layout === undefined ? init : texturedCopy(init, layout === 'packed'), false);
  });
}

const STATES = ['w', 'ms', 'mom', 'mg', 'acc', 'ema'] as const;

/**
 * Runs `kernel` over the case and compares every state value after every step.
 * `sumBound(n)` is the relative bound of the backend's float32 Σx² of n squares.
 */
export async function runCase(kernel: DenseKernel, c: GpuCase, sumBound: (n: number) => number): Promise<CaseResult> {
  const r = mulberry32(c.seed);
  const form: UpdateForm = { path: c.path, centered: c.centered, flavor: c.flavor, ...(c.nesterov === true ? { nesterov: true } : {}) };
  // Nesterov's alternative is the flavor's own momentum: a kernel that ignored `nesterov` must fail.
  const altForm: UpdateForm = c.nesterov === true ? { ...form, nesterov: false } : { ...form, flavor: alternative(c.flavor, c.path) };
  const momentum = c.path === 'momentum';
  const sizes = c.shapes.map((s) => s.reduce((a, b) => a * b, 1));
  const refs: DenseState[] = [];
  const alts: DenseState[] = [];
  const refsAround: AroundState[] = [];
  const altsAround: AroundState[] = [];
  const k3 = c.keras3;
  const bounds: Array<Record<string, Float64Array>> = [];
  const stateLayout = c.textures?.state;
  const gradientLayout = c.textures?.gradients;
  const updates = c.shapes.map((shape, k) => {
    const n = sizes[k];
    const w = randomValues(n, r);
    const zero = () => new Float32Array(n);
    refs.push({ w: w.slice(), ms: zero(), ...(momentum ? { mom: zero() } : {}), ...(c.centered ? { mg: zero() } : {}) });
    alts.push({ w: w.slice(), ms: zero(), ...(momentum ? { mom: zero() } : {}), ...(c.centered ? { mg: zero() } : {}) });
    refsAround.push({ acc: zero(), ema: zero() });
    altsAround.push({ acc: zero(), ema: zero() });
    bounds.push(Object.fromEntries(STATES.map((name) => [name, new Float64Array(n)])));
    return {
      variable: exclusiveVariable(w, shape, stateLayout),
      slots: {
        rms: exclusiveVariable(zero(), shape, stateLayout),
        ...(momentum ? { momentum: exclusiveVariable(zero(), shape, stateLayout) } : {}),
        ...(c.centered ? { mg: exclusiveVariable(zero(), shape, stateLayout) } : {}),
        ...(k3?.ema === true ? { ema: exclusiveVariable(zero(), shape, stateLayout) } : {}),
        ...(k3 !== undefined && k3.accumulationSteps !== null ? { accumulator: exclusiveVariable(zero(), shape, stateLayout) } : {}),
      },
    };
  });
  let compared = 0;
  let unbounded = 0;
  let maxRatio = 0;
  let maxRelative = 0;
  let failure: string | undefined;
  let kernelRefusal: string | undefined;
  const clipping = hasClipping(c.clip);
  try {
    for (let step = 0; step < c.steps && failure === undefined; step++) {
      const s = scalarsAt(c.flavor, step, c.weightDecay, r);
      const grads = sizes.map((n) => randomGrad(n, r));
      const full: DenseUpdate[] = tf.tidy(() => updates.map((u, k) => {
        const grad = tf.tensor(grads[k], [...c.shapes[k]]);
        return { ...u, grad: gradientLayout === undefined ? grad : texturedCopy(grad, gradientLayout === 'packed') };
      }));
      for (const u of full) kernelRefusal ??= kernel.unsupportedReason(u) ?? undefined;
      if (kernelRefusal !== undefined) break;
      const around = k3 === undefined ? null : aroundAt(k3, step);
      tf.tidy(() => { kernel.run(full, form, s, clipping ? c.clip : undefined, around ?? undefined); });
      tf.dispose(full.map((u) => u.grad));

      // The reference, and the bound carried from the previous step.
      const fc = clipping ? foldClip(c.clip) : null;
      const values = uniformValues(s, fc);
      const uniforms = new Map<string, Bounded>(UNIFORMS.map((name, i) => [name, { v: values[i], e: 0 }]));
      if (around !== null) {
        const passes = aroundUniformValues(aroundScalars(s, around));
        AROUND_UNIFORMS.forEach((name, i) => uniforms.set(name, { v: passes[i], e: 0 }));
      }
      const clip: ClipForm = {
        value: fc !== null && (fc.lo !== -Infinity || fc.hi !== Infinity),
        norm: fc?.clipnorm != null, global: fc?.globalClipnorm != null,
      };
      const cref = clipping ? clipReference(grads, c.clip) : null;
      const cb = cref === null ? null : clipBounds(cref, clip, uniforms, sumBound, sizes);
      const decay = (s.weightDecay ?? 0) === 0 ? 'none' : FLAVOR_SPECS[c.flavor].weightDecay;
      // The kernel's own statements for this call (the bound interprets them; the values compared are the loops').
      const st = callStatements(form, clip, decay, around);
      const fresh: Array<Record<string, Float64Array>> = [];
      for (let k = 0; k < sizes.length; k++) {
        const next: Record<string, Float64Array> = {};
        for (const name of STATES) next[name] = new Float64Array(sizes[k]);
        for (let i = 0; i < sizes[k]; i++) {
          const env = new Map(uniforms);
          env.set('g', { v: grads[k][i], e: 0 }).set('gIn', { v: grads[k][i], e: 0 });
          for (const name of STATES) {
            const arr = name === 'acc' || name === 'ema' ? refsAround[k][name] : refs[k][name];
            if (arr !== undefined) env.set(name, { v: arr[i], e: bounds[k][name][i] });
          }
          if (cb !== null) env.set('cS', cb.cS[k]).set('cScale', cb.cScale);
          runBounded(st.statements, env);
          // A state the call does not write keeps its bound; a literal (the accumulator's reset) is exact.
          for (const name of STATES) {
            const out = st.outputs[name];
            next[name][i] = out === undefined ? bounds[k][name][i] : /^[0-9.]+$/.test(out) ? 0 : (env.get(out) as Bounded).e;
          }
        }
        fresh.push(next);
        const g = cref === null ? grads[k] : cref.clipped[k];
        referenceCall(form, s, around, g, refs[k], refsAround[k]);
        referenceCall(altForm, s, around, g, alts[k], altsAround[k]);
      }
      bounds.splice(0, bounds.length, ...fresh);

      for (let k = 0; k < sizes.length && failure === undefined; k++) {
        const u = updates[k];
        const gpu: Record<string, tf.Variable | undefined> = {
          w: u.variable, ms: u.slots.rms, mom: u.slots.momentum, mg: u.slots.mg, acc: u.slots.accumulator, ema: u.slots.ema,
        };
        for (const name of STATES) {
          const t = gpu[name];
          const ref = name === 'acc' || name === 'ema' ? refsAround[k][name] : refs[k][name];
          if (t === undefined || ref === undefined) continue;
          const got = await t.data() as Float32Array;
          const bound = bounds[k][name];
          for (let i = 0; i < ref.length; i++) {
            if (!(bound[i] < Infinity)) { unbounded++; continue; }
            const diff = Math.abs(got[i] - ref[i]);
            compared++;
            if (!(diff <= bound[i])) {
              failure = `step ${step}, variable ${k}, ${name}[${i}]: gpu ${got[i]}, reference ${ref[i]}, |diff| ${diff} > bound ${bound[i]}`;
              break;
            }
            if (bound[i] > 0) maxRatio = Math.max(maxRatio, diff / bound[i]);
            maxRelative = Math.max(maxRelative, diff / Math.max(Math.abs(ref[i]), 1e-30));
          }
          if (failure !== undefined) break;
        }
      }
    }
    // The same trajectory under the alternative flavor must leave the bound somewhere.
    let discriminated = false;
    for (let k = 0; k < sizes.length && !discriminated; k++) {
      const got = await updates[k].variable.data() as Float32Array;
      const alt = alts[k].w;
      const bound = bounds[k].w;
      for (let i = 0; i < alt.length; i++) {
        if (bound[i] < Infinity && Math.abs(got[i] - alt[i]) > bound[i]) { discriminated = true; break; }
      }
    }
    const stateTensors = updates.flatMap((u) => [u.variable, ...Object.values(u.slots).filter((v): v is tf.Variable => v instanceof tf.Variable)]);
    return {
      name: caseName(c), compared, unbounded, maxRatio, maxRelative, discriminated, alternative: c.nesterov === true ? `${c.flavor} momentum` : alternative(c.flavor, c.path),
      layout: { inTextures: stateTensors.filter(inTexture).length, packed: stateTensors.filter(isPacked).length },
      ...(failure === undefined ? {} : { failure }),
      ...(kernelRefusal === undefined ? {} : { kernelRefusal }),
    };
  } finally {
    for (const u of updates) tf.dispose([u.variable, ...Object.values(u.slots).filter((v): v is tf.Variable => v instanceof tf.Variable)]);
  }
}

/** Each flavor × path × centering the GPU cases cover, in order (TF.js always keeps a momentum buffer: no plain path). */
export function* flavorForms(): Generator<{ flavor: Flavor; path: DensePath; centered: boolean }> {
  for (const flavor of ['keras2', 'keras3', 'pytorch', 'tfjs'] as const) {
    for (const path of ['plain', 'momentum'] as const) {
      if (flavor === 'tfjs' && path === 'plain') continue;
      for (const centered of [false, true]) yield { flavor, path, centered };
    }
  }
}

/** The cases every GPU backend runs: each flavor × path × centering, unclipped and clipped, with and without weight decay. */
export function gpuCases(shapes: ReadonlyArray<readonly number[]>, steps: number): GpuCase[] {
  const none: ClipOptions = { clipnorm: null, clipvalue: null, globalClipnorm: null };
  const cases: GpuCase[] = [];
  let seed = 9000;
  for (const form of flavorForms()) {
    const base = { ...form, steps, shapes };
    cases.push({ ...base, clip: none, weightDecay: 0, seed: seed++ });
    cases.push({ ...base, clip: { ...none, clipvalue: 0.5, clipnorm: 3 }, weightDecay: 0.01, seed: seed++ });
  }
  const base = { steps, shapes, weightDecay: 0 };
  cases.push({ ...base, flavor: 'keras2', path: 'momentum', centered: true, clip: { ...none, globalClipnorm: 2 }, seed: seed++ });
  cases.push({ ...base, flavor: 'pytorch', path: 'plain', centered: false, clip: { ...none, clipvalue: 0.7, globalClipnorm: 2 }, seed: seed++ });
  cases.push({ ...base, flavor: 'keras3', path: 'plain', centered: false, clip: { ...none, clipvalue: 0.25 }, seed: seed++ });
  // optax's Nesterov momentum, every flavor, plain and centered (one with clipping and weight decay).
  for (const flavor of ['keras2', 'keras3', 'pytorch', 'tfjs'] as const) {
    for (const centered of [false, true]) {
      cases.push({
        ...base, flavor, path: 'momentum', nesterov: true, centered, seed: seed++,
        ...(centered ? { clip: { ...none, clipvalue: 0.5, clipnorm: 3 }, weightDecay: 0.01 } : { clip: none }),
      });
    }
  }
  // Tensors already in WebGL textures: unpacked programs (gradients from the CPU
  // are uploaded packed), states converted to the gradient's layout either way,
  // and norm clipping (whose programs read unpacked elements) on packed tensors.
  cases.push({ ...base, flavor: 'keras2', path: 'momentum', centered: true, clip: none, textures: { gradients: 'unpacked' }, seed: seed++ });
  cases.push({
    ...base, flavor: 'pytorch', path: 'plain', centered: false, clip: { ...none, clipvalue: 0.5 }, weightDecay: 0.01,
    textures: { gradients: 'packed', state: 'unpacked' }, seed: seed++,
  });
  cases.push({ ...base, flavor: 'keras3', path: 'plain', centered: true, clip: none, textures: { gradients: 'unpacked', state: 'packed' }, seed: seed++ });
  cases.push({
    ...base, flavor: 'tfjs', path: 'momentum', centered: false, clip: { ...none, clipnorm: 3 }, textures: { gradients: 'packed', state: 'packed' }, seed: seed++,
  });
  return cases;
}

/**
 * Keras 3's passes around the rule for a kernel that folds them: accumulation
 * windows of 3 with a loss scale, and the EMA, on forms of each flavor.
 */
export function keras3Cases(shapes: ReadonlyArray<readonly number[]>, steps: number): GpuCase[] {
  const none: ClipOptions = { clipnorm: null, clipvalue: null, globalClipnorm: null };
  const base = { steps, shapes, clip: none, weightDecay: 0 };
  return [
    { ...base, flavor: 'keras2', path: 'momentum', centered: true, seed: 9700, keras3: { accumulationSteps: 3, lossScale: 4, ema: true } },
    { ...base, flavor: 'keras3', path: 'plain', centered: false, seed: 9701, weightDecay: 0.01, keras3: { accumulationSteps: null, lossScale: null, ema: true } },
    { ...base, flavor: 'pytorch', path: 'momentum', centered: true, seed: 9702, keras3: { accumulationSteps: 2, lossScale: 8, ema: true } },
    { ...base, flavor: 'tfjs', path: 'momentum', nesterov: true, centered: false, seed: 9703, keras3: { accumulationSteps: 3, lossScale: null, ema: true } },
  ];
}
