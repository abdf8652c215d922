/**
 * The cpu kernel's staged gradients: with `nonFinite` 'skip' or 'error' the
 * check copies each gradient into the variable's chunk and the update reads it
 * there instead of copying it in again. Every step must equal, bit for bit,
 * the same step of an optimizer that checks nothing ('propagate'), with every
 * option that works on the copy in place (clipping, loss scale, accumulation,
 * EMA), a variable listed twice in a kernel call, and a variable that is its
 * own gradient; and the staged path must be the one that ran. Only dense steps
 * of checking optimizers on one thread get a stage.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { IndexedSlices, RMSprop, type RMSpropOptions } from '../../src/index.js';
import { helperThreadPossible } from '../../src/kernels/cpu/helper_thread.js';
import { cpuFiniteCheck } from '../../src/kernels/cpu/finite.js';
import { placementByRms, THREAD_MIN_ELEMENTS } from '../../src/kernels/cpu/memory.js';
import { cpuSimdKernel } from '../../src/kernels/cpu/simd.js';
import { stagedTaken } from '../../src/kernels/cpu/staging.js';
import { TILE_ELEMENTS } from '../../src/kernels/simd/tiles.js';
import { f32 } from '../../src/util/f32.js';
import { stateOf } from '../fuzz/harness.js';
import { assertBitEqual, collectGarbage, tf, useBackend } from '../support/tf.js';
import { randomGrad, randomValues, rng } from './support.js';

interface Run { vars: tf.Variable[]; opt: RMSprop }

function make(sizes: readonly number[], options: RMSpropOptions, seed: number): Run {
  const r = rng(seed);
  return {
    vars: sizes.map((n) => tf.tidy(() => tf.variable(tf.tensor(randomValues(n, r))))),
    opt: new RMSprop({ learningRate: 0.01, momentum: 0.5, ...options }),
  };
}

/**
 * Steps a checking and a non-checking optimizer through the same gradients and
 * compares their state after every step. Returns how many staged copies the
 * checking one's updates took.
 */
function compare(sizes: readonly number[], options: RMSpropOptions, steps: number, selfGradient = false): number {
  const checked = make(sizes, { ...options, nonFinite: 'skip' }, 1);
  const plain = make(sizes, options, 1);
  const r = rng(2);
  let taken = 0;
  try {
    for (let s = 0; s < steps; s++) {
      const grads = sizes.map((n) => randomGrad(n, r));
      const before = stagedTaken();
      for (const run of [checked, plain]) {
        const tensors = grads.map((g) => tf.tensor(g));
        const pairs = run.vars.map((v, i) => [selfGradient ? v : tensors[i], v] as const);
        run.opt.applyGradients(pairs);
        tf.dispose(tensors);
        assert.ok(run.opt.lastStepKernels().every((c) => c.kernel === 'cpu-simd'), JSON.stringify(run.opt.lastStepKernels()));
      }
      if (s > 0) taken += stagedTaken() - before;
      const [a, b] = [stateOf(checked.opt, checked.vars), stateOf(plain.opt, plain.vars)];
      a.forEach((x, i) => assertBitEqual(x, b[i], `step ${s}, array ${i}`));
    }
  } finally {
    for (const run of [checked, plain]) {
      run.opt.dispose();
      tf.dispose(run.vars);
    }
  }
  return taken;
}

describe('cpu kernel: staged gradients', () => {
  before(() => useBackend('cpu'));

  const sizes = [5, 40_000, 32_768, 7];
  const cases: Array<[string, RMSpropOptions]> = [
    ['plain', { momentum: 0 }],
    ['momentum, centered', { centered: true }],
    ['clipvalue', { clipvalue: 0.1 }],
    ['clipnorm', { clipnorm: 0.5 }],
    ['globalClipnorm', { globalClipnorm: 1 }],
    ['loss scale', { lossScaleFactor: 1024 }],
    ['gradient accumulation', { gradientAccumulationSteps: 2 }],
    ['EMA', { useEma: true, emaMomentum: 0.9 }],
    ['pytorch flavor, weight decay', { flavor: 'pytorch', weightDecay: 0.01 }],
    ['keras3 flavor, nesterov', { flavor: 'keras3', nesterov: true, clipnorm: 1 }],
  ];
  for (const [name, options] of cases) {
    test(`${name}: as a step that checks nothing, every gradient from its stage after the first step`, () => {
      const taken = compare(sizes, options, 4);
      assert.equal(taken, 3 * sizes.length);
    });
  }

  test('a variable listed twice in one kernel call (the optimizer refuses it): the first update takes the stage, the second copies', () => {
    // The kernel applies duplicates in order, as the op chain would; clipnorm
    // works on a staged copy in place, so the second update must not read it.
    const r = rng(7);
    const form = { path: 'momentum', centered: true } as const;
    const s = { lr: f32(0.01), rho: f32(0.9), oneMinusRho: f32(1 - f32(0.9)), momentum: f32(0.5), epsilon: f32(1e-7) };
    const clip = { clipnorm: 0.5, clipvalue: null, globalClipnorm: null };
    const sizes = [13, TILE_ELEMENTS + 29];
    const inits = sizes.map((n) => randomValues(n, r));
    const variable = (a: Float32Array): tf.Variable => tf.tidy(() => tf.variable(tf.tensor(a), false));
    const twins = [true, false].map((checks) => inits.map((w) => ({
      variable: variable(w),
      slots: { rms: variable(new Float32Array(w.length)), momentum: variable(new Float32Array(w.length)), mg: variable(new Float32Array(w.length)), checksGradients: checks },
    })));
    try {
      for (let step = 0; step < 3; step++) {
        const grads = sizes.map((n) => tf.tensor(randomGrad(n, r)));
        const order = [0, 1, 1, 0];
        const before = stagedTaken();
        for (const parts of twins) {
          if (parts[0].slots.checksGradients) assert.equal(cpuFiniteCheck.firstNonFinite(grads, parts), -1);
          const updates = order.map((i) => ({ ...parts[i], grad: grads[i] }));
          tf.tidy(() => { cpuSimdKernel.run(updates, form, s, clip); });
        }
        // From the second step on, the variables are placed with stages: one copy each is taken.
        assert.equal(stagedTaken() - before, step === 0 ? 0 : 2);
        tf.dispose(grads);
        twins[0].forEach((p, i) => {
          const q = twins[1][i];
          for (const [a, b] of [[p.variable, q.variable], [p.slots.rms, q.slots.rms], [p.slots.momentum, q.slots.momentum], [p.slots.mg, q.slots.mg]]) {
            assertBitEqual(Float32Array.from(a.dataSync()), Float32Array.from(b.dataSync()), `step ${step}, variable ${i}`);
          }
        });
      }
    } finally {
      for (const parts of twins) {
        for (const p of parts) {
          cpuSimdKernel.release?.(p.variable, p.slots);
          tf.dispose([p.variable, p.slots.rms, p.slots.momentum, p.slots.mg]);
        }
      }
    }
  });

  test('a variable that is its own gradient', () => {
    const taken = compare([6, 40_000], { clipvalue: 1 }, 3, true);
    assert.equal(taken, 2 * 2);
  });

  test('a disposed checking optimizer leaves its memory to the garbage collector, marks and all', async () => {
    const memoryOf = (): WeakRef<WebAssembly.Memory> => {
      const run = make([1000, 20], { nonFinite: 'skip' }, 6);
      const grads = run.vars.map((v) => tf.onesLike(v));
      const pairs = grads.map((g, i) => [g, run.vars[i]] as const);
      run.opt.applyGradients(pairs);
      run.opt.applyGradients(pairs);
      const memory = placementByRms(run.opt.getSlot(run.vars[0], 'rms'))?.chunk.kernels.memory;
      assert.ok(memory instanceof WebAssembly.Memory);
      // A step the check refuses after staging the first gradient: its mark stays behind.
      const poisoned = [grads[0], tf.fill([20], NaN)];
      run.opt.applyGradients(poisoned.map((g, i) => [g, run.vars[i]] as const));
      assert.equal(run.opt.skippedSteps, 1);
      run.opt.dispose();
      tf.dispose([...run.vars, ...grads, ...poisoned]);
      return new WeakRef(memory);
    };
    const ref = memoryOf();
    await collectGarbage();
    assert.equal(ref.deref(), undefined);
  });

  test('only dense steps of checking optimizers on one thread get a stage', () => {
    const stageOf = (opt: RMSprop, v: tf.Variable): unknown => placementByRms(opt.getSlot(v, 'rms'))?.stage;
    const step = ({ vars, opt }: Run): void => {
      tf.tidy(() => { opt.applyGradients([[tf.onesLike(vars[0]), vars[0]]]); });
      assert.deepEqual(opt.lastStepKernels().map((c) => c.kernel.startsWith('cpu-simd')), [true]);
    };
    const runs = (['skip', 'error', 'propagate'] as const).map((nonFinite) => make([100], { nonFinite }, 3));
    try {
      runs.forEach(step);
      assert.notEqual(stageOf(runs[0].opt, runs[0].vars[0]), undefined);
      assert.notEqual(stageOf(runs[0].opt, runs[0].vars[0]), null);
      assert.notEqual(stageOf(runs[1].opt, runs[1].vars[0]), null);
      assert.equal(stageOf(runs[2].opt, runs[2].vars[0]), null);
      // A table first stepped by rows: its gradient comes as rows, copied as they come.
      const table = { vars: [tf.tidy(() => tf.variable(tf.ones([16, 4])))], opt: new RMSprop({ nonFinite: 'skip' }) };
      runs.push(table);
      tf.tidy(() => {
        table.opt.applyGradients([[new IndexedSlices(tf.ones([2, 4]), tf.tensor1d([1, 3], 'int32'), [16, 4]), table.vars[0]]]);
      });
      assert.match(table.opt.lastStepKernels()[0].kernel, /cpu-simd-rows/);
      assert.equal(stageOf(table.opt, table.vars[0]), null);
      if (helperThreadPossible()) {
        // Large enough for the helper thread: its tiles copy the gradient while the other core updates.
        const large = make([THREAD_MIN_ELEMENTS], { nonFinite: 'skip' }, 5);
        runs.push(large);
        step(large);
        assert.equal(stageOf(large.opt, large.vars[0]), null);
      }
    } finally {
      for (const { vars, opt } of runs) {
        opt.dispose();
        tf.dispose(vars);
      }
    }
  });
});
