/**
 * Each sparse mode over a long random run against its definition (test/sparse/oracle.ts,
 * float64, whole table every step): many duplicate indices, rows untouched for
 * hundreds of steps, every path. 'dense-equivalent' is also compared with the
 * dense optimizer fed the densified gradient.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { IndexedSlices, RMSprop, type SparseMode } from '../../src/index.js';
import { setOpChainOnly } from '../../src/kernels/registry.js';
import { assertClose, BACKENDS, tf, useBackend } from '../support/tf.js';
import { rng } from '../support/random.js';
import { newState, step, type OracleConfig } from './oracle.js';

const ROWS = 40;
const DIM = 3;
const STEPS = 300;

/**
 * Steps: rows 0–9 are hot (indexed most steps, often twice), rows 10–29 are
 * touched now and then, rows 30–37 only in the first and last 20 steps (idle
 * for ~260 steps), rows 38–39 never. Gradient magnitudes span 1e-3 to 10.
 */
function makeSteps(seed: number, count = STEPS): Array<{ indices: number[]; values: number[] }> {
  const r = rng(seed);
  const out: Array<{ indices: number[]; values: number[] }> = [];
  for (let s = 0; s < count; s++) {
    const indices: number[] = [];
    for (let k = 0; k < 6; k++) indices.push(Math.floor(r() * 10));
    if (r() < 0.3) indices.push(10 + Math.floor(r() * 20));
    if (s < 20 || s >= count - 20) indices.push(30 + Math.floor(r() * 8));
    const values = indices.flatMap(() => Array.from({ length: DIM }, () => (r() - 0.5) * 10 ** (r() * 4 - 3)));
    out.push({ indices, values });
  }
  return out;
}

const CONFIGS: Array<{ name: string; c: OracleConfig }> = [
  { name: 'plain', c: { lr: 0.01, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false, momentumPath: false } },
  { name: 'plain-centered', c: { lr: 0.01, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: true, momentumPath: false } },
  { name: 'momentum', c: { lr: 0.01, rho: 0.95, momentum: 0.9, epsilon: 1e-7, centered: false, momentumPath: true } },
  { name: 'momentum-centered', c: { lr: 0.005, rho: 0.9, momentum: 0.8, epsilon: 1e-6, centered: true, momentumPath: true } },
];

// Each float32 operation is off by at most 2^-24 relative; over 300 steps and
// a handful of operations per step the float32 run may drift from the float64
// definition by up to ~300·8·2^-24 ≈ 1.5e-4 relative (the op chain rounds its
// catch-up factors to float32 too: one more rounding per catch-up, within it). A mode error (a row that
// should decay but does not, for 100+ steps) is off by orders of magnitude more.
const RTOL = 2e-4;
const ATOL = 1e-6;

function runOptimizer(mode: SparseMode, c: OracleConfig, init: Float32Array, steps: ReturnType<typeof makeSteps>) {
  const opt = new RMSprop({
    learningRate: c.lr, rho: c.rho, momentum: c.momentum, epsilon: c.epsilon, centered: c.centered, sparseMode: mode,
  });
  const v = tf.variable(tf.tensor2d(init, [ROWS, DIM]));
  for (const s of steps) {
    tf.tidy(() => { opt.applyGradients([[new IndexedSlices(tf.tensor2d(s.values, [s.indices.length, DIM]), s.indices), v]]); });
  }
  return { opt, v };
}

for (const backend of BACKENDS) {
  describe(`sparse modes against their definitions (${backend})`, () => {
    before(() => useBackend(backend));
    // The op chain is what backends without kernels of their own (webgl, webgpu) run,
    // rows included (gather, rule, scatter back); here it runs on cpu and wasm.
    for (const [path, count] of [['kernels', STEPS], ['op chain', 120]] as const) for (const mode of ['keras2', 'lazy', 'dense-equivalent'] as const) {
      for (const { name, c } of CONFIGS) {
        test(`${mode}, ${name}: ${count} steps (${path})`, () => {
          const previous = setOpChainOnly(path === 'op chain');
          try {
            const steps = makeSteps(name.length * 7 + mode.length, count);
            const r = rng(99);
            const init = Float32Array.from({ length: ROWS * DIM }, () => r() * 2 - 1);
            const oracle = newState(init);
            for (const s of steps) step(mode, c, oracle, DIM, s.indices, s.values);
            const { opt, v } = runOptimizer(mode, c, init, steps);
            const ran = opt.lastStepKernels()[0].kernel;
            if (path === 'op chain') assert.equal(ran, `sparse-${mode}/tfops-rows`);
            else assert.notEqual(ran, `sparse-${mode}/tfops-rows`);
            // Slots read through getSlot are brought up to date first.
            assertClose(opt.getSlot(v, 'rms').dataSync(), oracle.ms, RTOL, ATOL, 'rms');
            if (c.centered) assertClose(opt.getSlot(v, 'mg').dataSync(), oracle.mg, RTOL, ATOL, 'mg');
            if (c.momentumPath) assertClose(opt.getSlot(v, 'momentum').dataSync(), oracle.mom, RTOL, ATOL, 'momentum');
            opt.finalizeVariableValues();
            assertClose(v.dataSync(), oracle.w, RTOL, ATOL, 'variable');
            // Rows 38–39 were never indexed: their state tells the modes apart.
            const idle = oracle.w.slice(38 * DIM);
            assertClose(v.dataSync().slice(38 * DIM), idle, RTOL, ATOL, 'never-indexed rows');
            opt.dispose();
            v.dispose();
          } finally {
            setOpChainOnly(previous);
          }
        });
      }
    }

    for (const { name, c } of CONFIGS) {
      test(`dense-equivalent equals the dense optimizer on the densified gradient (${name})`, () => {
        const steps = makeSteps(3);
        const r = rng(5);
        const init = Float32Array.from({ length: ROWS * DIM }, () => r() * 2 - 1);
        const { opt, v } = runOptimizer('dense-equivalent', c, init, steps);
        const dense = new RMSprop({ learningRate: c.lr, rho: c.rho, momentum: c.momentum, epsilon: c.epsilon, centered: c.centered });
        const d = tf.variable(tf.tensor2d(init, [ROWS, DIM]));
        for (const s of steps) {
          tf.tidy(() => {
            const g = tf.scatterND(tf.tensor2d(s.indices, [s.indices.length, 1], 'int32'), tf.tensor2d(s.values, [s.indices.length, DIM]), [ROWS, DIM]);
            dense.applyGradients([[g, d]]);
          });
        }
        // The deferred rows are caught up in closed form (ρ^k, a geometric sum) instead of
        // k rounded steps: up to ~k·2^-24 relative for k ≤ 300.
        opt.finalizeVariableValues();
        assertClose(v.dataSync(), d.dataSync(), 5e-5, 1e-7, 'variable');
        for (const slot of opt.getSlotNames()) {
          assertClose(opt.getSlot(v, slot).dataSync(), dense.getSlot(d, slot).dataSync(), 5e-5, 1e-9, slot);
        }
        tf.dispose([v, d]);
        opt.dispose();
        dense.dispose();
      });
    }
  });
}

describe('sparse modes: what differs', () => {
  before(() => useBackend('cpu'));

  test("without momentum, 'keras2' decays unindexed rows' rms, 'lazy' does not", () => {
    for (const [mode, expected] of [['keras2', Math.fround(0.9)], ['lazy', 1]] as const) {
      const opt = new RMSprop({ sparseMode: mode, rho: 0.9 });
      const v = tf.variable(tf.zeros([2, 1]));
      opt.applyGradients([[new IndexedSlices(tf.tensor2d([[1]]), [0]), v]]);
      opt.applyGradients([[new IndexedSlices(tf.tensor2d([[1]]), [1]), v]]);
      const rms = opt.getSlot(v, 'rms').dataSync();
      const first = Math.fround(1 - Math.fround(0.9));
      assertClose([rms[0]], [Math.fround(first * expected)], 1e-7, 0, `${mode} row 0`);
      opt.dispose();
    }
  });

  test("with momentum, 'dense-equivalent' keeps moving unindexed rows, 'keras2' does not", () => {
    const moved: number[] = [];
    for (const mode of ['keras2', 'dense-equivalent'] as const) {
      const opt = new RMSprop({ sparseMode: mode, momentum: 0.9, learningRate: 0.1 });
      const v = tf.variable(tf.zeros([2, 1]));
      opt.applyGradients([[new IndexedSlices(tf.tensor2d([[1]]), [0]), v]]);
      const afterOne = v.dataSync()[0];
      for (let i = 0; i < 5; i++) opt.applyGradients([[new IndexedSlices(tf.tensor2d([[1]]), [1]), v]]);
      opt.finalizeVariableValues();
      moved.push(v.dataSync()[0] - afterOne);
      opt.dispose();
    }
    assert.equal(moved[0], 0);
    assert.ok(moved[1] < -0.1, `dense-equivalent row 0 moved by ${moved[1]}`);
  });
});
