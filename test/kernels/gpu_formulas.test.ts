/**
 * The shader formula table (src/kernels/gpu/formulas.ts) against the reference
 * loops, on the CPU: each statement evaluated in JavaScript with every
 * operation rounded to float32 (fmad fused, as PyTorch's kernels round it)
 * gives the rules' numbers to the bit, for every flavor × path (Nesterov too) × centering,
 * with and without weight decay and with each clipping. So the GPU kernels
 * differ from the rules only where a GPU rounds differently (the tolerance of
 * test/support/gpu_tolerance.ts), never by a formula. Also: which state each
 * form writes (the WebGL kernel's draws), and the version guard.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AROUND_UNIFORMS, aroundUniformValues, callStatements, catchUpFormOf, freeNames, NO_CLIP, rowStatements, stepStatements, UNIFORMS,
  uniformValues, type CatchUpForm, type ClipForm, type DecayForm, type Formula,
} from '../../src/kernels/gpu/formulas.js';
import { aroundScalars } from '../../src/rules/training.js';
import { tfjsVersionReason } from '../../src/kernels/gpu/internals.js';
import { foldClip, type ClipOptions } from '../../src/clipping/scalar.js';
import { denseStep } from '../../src/rules/dense.js';
import { FLAVOR_SPECS, FLAVORS, type Flavor } from '../../src/rules/flavors.js';
import { prepareRows, rowsStep } from '../../src/rules/rows.js';
import { rowPasses } from '../../src/rules/table.js';
import type { DensePath, DenseState, RowCatchUp, RuleKey, UpdateForm } from '../../src/rules/types.js';
import { runBounded, type Bounded } from '../support/gpu_tolerance.js';
import { aroundAt, clipReference, randomGrad, referenceCall, scalarsAt, type AroundState } from '../support/gpu_trajectory.js';
import { rng } from '../support/random.js';
import { assertSameFloats } from './support.js';

const NONE: ClipOptions = { clipnorm: null, clipvalue: null, globalClipnorm: null };
const CLIPS: Array<[string, ClipOptions]> = [
  ['unclipped', NONE],
  ['clipvalue', { ...NONE, clipvalue: 1e-3 }],
  ['clipvalue + clipnorm', { ...NONE, clipvalue: 0.5, clipnorm: 3 }],
  ['globalClipnorm', { ...NONE, globalClipnorm: 2 }],
];
const N = 700;
const STEPS = 6;

/** The update form of a rule-table key: Nesterov momentum is the momentum path with `nesterov`. */
const formOf = (flavor: Flavor, key: RuleKey, centered: boolean): UpdateForm => ({
  flavor, centered, path: key === 'plain' ? 'plain' : 'momentum', ...(key === 'nesterov' ? { nesterov: true } : {}),
});
const KEYS = ['plain', 'momentum', 'nesterov'] as const satisfies readonly RuleKey[];

for (const flavor of FLAVORS) {
  for (const key of KEYS) {
    if (stepStatements(formOf(flavor, key, false), NO_CLIP, 'none') === null) continue;
    const path: DensePath = key === 'plain' ? 'plain' : 'momentum';
    for (const centered of [false, true]) {
      describe(`${flavor} ${key}${centered ? '+centered' : ''}`, () => {
        for (const weightDecay of [0, 0.01]) {
          for (const [clipName, clip] of CLIPS) {
            test(`${clipName}${weightDecay ? ', weight decay' : ''}: the statements give the rules' numbers to the bit`, () => {
              const r = rng(300 + FLAVORS.indexOf(flavor) * 16 + KEYS.indexOf(key) * 4 + (centered ? 2 : 0) + (weightDecay ? 1 : 0));
              const momentum = path === 'momentum';
              const fresh = (): DenseState => ({
                w: Float32Array.from({ length: N }, () => r() * 2 - 1), ms: new Float32Array(N),
                ...(momentum ? { mom: new Float32Array(N) } : {}), ...(centered ? { mg: new Float32Array(N) } : {}),
              });
              const ref = fresh();
              const gpu: DenseState = { w: ref.w.slice(), ms: ref.ms.slice(), mom: ref.mom?.slice(), mg: ref.mg?.slice() };
              const folded = clip === NONE ? null : foldClip(clip);
              const form: ClipForm = {
                value: clip.clipvalue !== null, norm: clip.clipnorm !== null, global: clip.globalClipnorm !== null,
              };
              for (let step = 0; step < STEPS; step++) {
                const s = scalarsAt(flavor, step, weightDecay, r);
                const g = randomGrad(N, r);
                const decay: DecayForm = weightDecay === 0 ? 'none' : FLAVOR_SPECS[flavor].weightDecay;
                const st = stepStatements(formOf(flavor, key, centered), form, decay);
                assert.ok(st !== null);
                const values = uniformValues(s, folded);
                const cref = folded === null ? null : clipReference([g], clip);
                for (let i = 0; i < N; i++) {
                  const env = new Map<string, Bounded>(UNIFORMS.map((u, k) => [u, { v: values[k], e: 0 }]));
                  env.set('g', { v: g[i], e: 0 }).set('w', { v: gpu.w[i], e: 0 }).set('ms', { v: gpu.ms[i], e: 0 });
                  if (gpu.mom) env.set('mom', { v: gpu.mom[i], e: 0 });
                  if (gpu.mg) env.set('mg', { v: gpu.mg[i], e: 0 });
                  if (cref !== null) env.set('cS', { v: cref.sums[0], e: 0 }).set('cScale', { v: cref.scale, e: 0 });
                  runBounded(st.statements, env);
                  gpu.w[i] = (env.get(st.outputs.w) as Bounded).v;
                  gpu.ms[i] = (env.get(st.outputs.ms) as Bounded).v;
                  if (gpu.mom) gpu.mom[i] = (env.get(st.outputs.mom as string) as Bounded).v;
                  if (gpu.mg) gpu.mg[i] = (env.get(st.outputs.mg as string) as Bounded).v;
                }
                denseStep(formOf(flavor, key, centered), s, cref === null ? g : cref.clipped[0], ref);
                for (const name of ['w', 'ms', 'mom', 'mg'] as const) {
                  const a = gpu[name];
                  const e = ref[name];
                  if (e !== undefined) assertSameFloats(a as Float32Array, e, `step ${step} ${name}`);
                }
              }
            });
          }
        }
      });
    }
  }
}

// Keras 3's passes around every rule: accumulation windows of 3 with a loss scale of 3 (an inexact
// division), the EMA overwriting every third call; and the EMA alone, with weight decay.
const AROUND_CASES = [
  { accumulationSteps: 3, lossScale: 3, ema: true },
  { accumulationSteps: null, lossScale: null, ema: true },
  { accumulationSteps: 2, lossScale: 1024, ema: false },
] as const;

describe("Keras 3's passes (accumulation, loss scale, EMA) around each rule", () => {
  for (const flavor of FLAVORS) {
    for (const key of KEYS) {
      for (const centered of [false, true]) {
        const form = formOf(flavor, key, centered);
        if (stepStatements(form, NO_CLIP, 'none') === null) continue;
        AROUND_CASES.forEach((k3, c) => {
          test(`${flavor} ${key}${centered ? '+centered' : ''}, case ${c}: the statements give rules/training.ts's loops to the bit, call by call`, () => {
            const r = rng(900 + FLAVORS.indexOf(flavor) * 32 + KEYS.indexOf(key) * 8 + (centered ? 4 : 0) + c);
            const momentum = key !== 'plain';
            const ref: DenseState = {
              w: Float32Array.from({ length: N }, () => r() * 2 - 1), ms: new Float32Array(N),
              ...(momentum ? { mom: new Float32Array(N) } : {}), ...(centered ? { mg: new Float32Array(N) } : {}),
            };
            const refK: AroundState = { acc: new Float32Array(N), ema: new Float32Array(N) };
            const gpu: Record<string, Float32Array | undefined> = {
              w: ref.w.slice(), ms: ref.ms.slice(), mom: ref.mom?.slice(), mg: ref.mg?.slice(), acc: new Float32Array(N), ema: new Float32Array(N),
            };
            const weightDecay = c === 1 ? 0.01 : 0;
            const decay: DecayForm = weightDecay === 0 ? 'none' : FLAVOR_SPECS[flavor].weightDecay;
            for (let call = 0; call < 7; call++) {
              const s = scalarsAt(flavor, call, weightDecay, r);
              const g = randomGrad(N, r);
              const around = aroundAt(k3, call);
              const st = callStatements(form, NO_CLIP, decay, around);
              const values = uniformValues(s, null);
              const passes = aroundUniformValues(aroundScalars(s, around));
              for (let i = 0; i < N; i++) {
                const env = new Map<string, Bounded>(UNIFORMS.map((u, j) => [u, { v: values[j], e: 0 }]));
                AROUND_UNIFORMS.forEach((u, j) => env.set(u, { v: passes[j], e: 0 }));
                env.set('g', { v: g[i], e: 0 }).set('gIn', { v: g[i], e: 0 });
                for (const [name, arr] of Object.entries(gpu)) if (arr !== undefined) env.set(name, { v: arr[i], e: 0 });
                runBounded(st.statements, env);
                for (const [name, out] of Object.entries(st.outputs)) {
                  const arr = gpu[name];
                  if (arr !== undefined && out !== undefined) arr[i] = /^[0-9.]+$/.test(out) ? Number(out) : (env.get(out) as Bounded).v;
                }
              }
              referenceCall(form, s, around, g, ref, refK);
              const expected: Record<string, Float32Array | undefined> = { ...ref, acc: refK.acc, ema: refK.ema };
              for (const [name, e] of Object.entries(expected)) {
                if (e !== undefined && (k3.ema || name !== 'ema') && (k3.accumulationSteps !== null || name !== 'acc')) {
                  assertSameFloats(gpu[name] as Float32Array, e, `call ${call} ${name}`);
                }
              }
            }
          });
        });
      }
    }
  }
});

describe('the formula table', () => {
  test('each form writes w and ms, mom on the momentum path, mg when centered: 2 to 4 WebGL draws', () => {
    for (const flavor of FLAVORS) {
      for (const key of KEYS) {
        if (stepStatements(formOf(flavor, key, false), NO_CLIP, 'none') === null) {
          assert.equal(FLAVOR_SPECS[flavor].momentumSlot, 'always', `${flavor} has no ${key} rule but may be asked for one`);
          continue;
        }
        for (const centered of [false, true]) {
          const f = stepStatements(formOf(flavor, key, centered), NO_CLIP, 'none') as Formula;
          assert.deepEqual(Object.keys(f.outputs).sort(), ['ms', 'w', ...(key !== 'plain' ? ['mom'] : []), ...(centered ? ['mg'] : [])].sort());
        }
      }
    }
  });

  test("with Keras 3's passes, every statement name is defined once and none is an input's (a shader cannot declare a name twice)", () => {
    const inputs = new Set(['g', 'gIn', 'w', 'ms', 'mom', 'mg', 'acc', 'ema', 'cS', 'cScale', ...UNIFORMS, ...AROUND_UNIFORMS]);
    const arounds = [
      ...AROUND_CASES.flatMap((k3) => [0, 1, 2].map((t) => aroundAt(k3, t))),
      { phase: 'update' as const, combineSteps: null, unscale: null, ema: null },
    ];
    for (const flavor of FLAVORS) {
      for (const key of KEYS) {
        for (const centered of [false, true]) {
          const form = formOf(flavor, key, centered);
          if (stepStatements(form, NO_CLIP, 'none') === null) continue;
          for (const around of arounds) {
            const st = callStatements(form, { value: true, norm: false, global: false }, 'coupled', around);
            const names = st.statements.map((x) => x.name);
            assert.equal(new Set(names).size, names.length, `${flavor} ${key}: a name defined twice: ${names.join(' ')}`);
            // `g` is the one input a statement may define: Keras 3's passes make it from `gIn`.
            for (const name of names) assert.ok(name === 'g' || !inputs.has(name), `${flavor} ${key}: ${name} shadows an input`);
          }
        }
      }
    }
  });

  test('statements read only the inputs, uniforms, clip values and helpers the emitters define', () => {
    const known = new Set<string>([
      'g', 'w', 'ms', 'mom', 'mg', 'cS', 'cScale', 'fmad', 'clipDivisor', 'sqrt', 'rsqrt', 'min', 'max', ...UNIFORMS,
    ]);
    const rowKnown = new Set<string>([...known, 'wIn', 'msIn', 'momIn', 'mgIn', 'rDecay', 'rMuPow', 'rMuSum', 'moveBy']);
    for (const flavor of FLAVORS) {
      for (const key of KEYS) {
        for (const centered of [false, true]) {
          for (const row of ['dense', 'sparse'] as const) {
            for (const catchUp of ['none', 'decay', 'moving'] as const) {
              for (const values of [true, false]) {
                const st = rowStatements(formOf(flavor, key, centered), row, 'coupled', catchUp, values);
                if (st === null) continue;
                for (const name of freeNames(st.statements)) assert.ok(rowKnown.has(name), `${flavor} ${key} rows: unknown name ${name}`);
              }
            }
          }
        }
      }
    }
    for (const flavor of FLAVORS) {
      for (const key of KEYS) {
        for (const centered of [false, true]) {
          const st = stepStatements(formOf(flavor, key, centered), { value: true, norm: true, global: true }, 'coupled');
          if (st === null) continue;
          for (const name of freeNames(st.statements)) assert.ok(known.has(name), `${flavor} ${key}: unknown name ${name}`);
        }
      }
    }
  });

  test('another tfjs-core version turns the GPU kernels off, saying why', () => {
    assert.equal(tfjsVersionReason('4.22.0'), null);
    assert.match(tfjsVersionReason('4.23.1') ?? '', /tfjs-core 4\.23\.1: the GPU kernels use backend internals checked against 4\.22\.x/);
  });
});

/** Factors of a row that sat out `k` steps, as a row clock makes them (float64; PyTorch's weighted by the rates). */
function factors(k: number, decay: number, mu: number, lr: number, moving: boolean): { decay: number; muPow: number; muSum: number } {
  const muPow = mu ** k;
  return { decay: decay ** k, muPow: moving ? muPow : 1, muSum: moving && k > 0 ? lr * (mu * (1 - muPow)) / (1 - mu) : 0 };
}

describe('row statements (sparse rows on the GPU)', () => {
  const ROWS = 30;
  const D = 9;
  for (const flavor of FLAVORS) {
    for (const key of KEYS) {
      if (stepStatements(formOf(flavor, key, false), NO_CLIP, 'none') === null) continue;
      const path: DensePath = key === 'plain' ? 'plain' : 'momentum';
      for (const centered of [false, true]) {
        for (const row of ['dense', 'sparse'] as const) {
          for (const catchUp of (path === 'momentum' ? ['none', 'moving'] : ['none', 'decay']) as CatchUpForm[]) {
            const name = `${flavor} ${key}${centered ? '+centered' : ''}, ${row} rows, catch-up ${catchUp}`;
            test(`${name}: the catch-up and passes give the row loops' numbers to the bit (with weight decay, and catch-ups alone)`, () => {
              const r = rng(900 + FLAVORS.indexOf(flavor) * 64 + KEYS.indexOf(key) * 16 + (centered ? 8 : 0) + (row === 'sparse' ? 4 : 0));
              const momentum = path === 'momentum';
              const n = ROWS * D;
              const slot = (scale: number): Float32Array => Float32Array.from({ length: n }, () => r() * scale);
              const ref: DenseState = {
                w: Float32Array.from({ length: n }, () => r() * 2 - 1), ms: slot(0.01),
                ...(momentum ? { mom: slot(0.02).map((x) => x - 0.01) } : {}), ...(centered ? { mg: slot(0.001) } : {}),
              };
              const gpu: DenseState = { w: ref.w.slice(), ms: ref.ms.slice(), mom: ref.mom?.slice(), mg: ref.mg?.slice() };
              const form = formOf(flavor, key, centered);
              for (let step = 0; step < 6; step++) {
                const weightDecay = step % 2 === 0 ? 0 : 0.01;
                const s = scalarsAt(flavor, step, weightDecay, r);
                const values = step % 3 !== 2;
                const rows = Int32Array.from(new Set(Array.from({ length: 12 }, () => Math.floor(r() * ROWS))));
                const k = rows.length;
                const slice = Int32Array.from({ length: k }, (_, p) => k - 1 - p);
                const g = randomGrad(k * D, r);
                let c: RowCatchUp | null = null;
                if (catchUp !== 'none') {
                  const fs = Array.from(rows, () => factors(Math.floor(r() * 4), s.rho, s.momentum, s.lr, catchUp === 'moving'));
                  c = {
                    decay: Float64Array.from(fs, (x) => x.decay),
                    muPow: catchUp === 'moving' ? Float64Array.from(fs, (x) => x.muPow) : null,
                    muSum: catchUp === 'moving' ? Float64Array.from(fs, (x) => x.muSum) : null,
                  };
                }
                assert.equal(catchUpFormOf(c), catchUp);
                const decay: DecayForm = !values || weightDecay === 0 ? 'none' : FLAVOR_SPECS[flavor].weightDecay;
                const st = rowStatements(form, row, decay, catchUp, values);
                assert.ok(st !== null);
                const u = uniformValues(s, null);
                for (let p = 0; p < k; p++) {
                  for (let j = 0; j < D; j++) {
                    const i = rows[p] * D + j;
                    const env = new Map<string, Bounded>(UNIFORMS.map((name, x) => [name, { v: u[x], e: 0 }]));
                    for (const sn of ['w', 'ms', 'mom', 'mg'] as const) {
                      const arr = gpu[sn];
                      if (arr !== undefined) env.set(sn, { v: arr[i], e: 0 }).set(`${sn}In`, { v: arr[i], e: 0 });
                    }
                    env.set('g', { v: g[slice[p] * D + j], e: 0 });
                    env.set('rDecay', { v: c === null ? 1 : c.decay[p], e: 0 });
                    env.set('rMuPow', { v: c?.muPow == null ? 1 : c.muPow[p], e: 0 });
                    env.set('rMuSum', { v: c?.muSum == null ? 0 : c.muSum[p], e: 0 });
                    runBounded(st.statements, env);
                    for (const sn of ['w', 'ms', 'mom', 'mg'] as const) {
                      const out = st.outputs[sn];
                      if (out !== undefined) (gpu[sn] as Float32Array)[i] = (env.get(out) as Bounded).v;
                    }
                  }
                }
                if (values) rowsStep(ref, rows, slice, g, D, rowPasses(form, s, row), centered, s, c);
                else prepareRows(ref, rows, D, c);
                for (const sn of ['w', 'ms', 'mom', 'mg'] as const) {
                  const e = ref[sn];
                  if (e !== undefined) assertSameFloats(gpu[sn] as Float32Array, e, `step ${step} ${sn}`);
                }
              }
            });
          }
        }
      }
    }
  }

  test('TF 2.4\'s sparse momentum kernel has a shader form: the rows of sparse modes \'keras2\' and \'lazy\' run on the GPU', () => {
    for (const centered of [false, true]) {
      const st = rowStatements({ flavor: 'keras2', path: 'momentum', centered }, 'sparse', 'none', 'none', true);
      assert.ok(st !== null && st.statements.some((x) => x.expr.includes('rsqrt(')), 'the sparse pass reads rsqrt');
    }
  });
});
