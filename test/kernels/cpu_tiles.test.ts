/**
 * The cpu kernel's tiling: the variable and its slots live in the kernel's
 * memory and the gradient crosses over in tiles of TILE_ELEMENTS, with at most
 * TILE_ENTRIES variables per call. Variables that span several tiles, that
 * start mid-tile, that are listed twice, and steps with more variables than a
 * call holds must all equal the reference rules bit for bit. And a disposed
 * optimizer leaves its variables with plain arrays of their own.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RMSprop } from '../../src/index.js';
import { createdCpuBackend } from '../../src/kernels/cpu/storage.js';
import { cpuSimdKernel } from '../../src/kernels/cpu/simd.js';
import { TILE_ELEMENTS, TILE_ENTRIES } from '../../src/kernels/simd/tiles.js';
import { denseStep } from '../../src/rules/keras2.js';
import type { DenseState, UpdateForm } from '../../src/rules/types.js';
import { f32 } from '../../src/util/f32.js';
import { tf, useBackend } from '../support/tf.js';
import { assertSameFloats, formName, FORMS, randomGrad, randomValues, rng } from './support.js';

function values(t: tf.Tensor): Float32Array {
  return createdCpuBackend()!.data.get(t.dataId as object).values as Float32Array;
}

/** Trains variables of `sizes` through the optimizer, step by step against the rules. */
function trainAgainstRules(form: UpdateForm, sizes: readonly number[], steps: number, seed: number): void {
  const r = rng(seed);
  const s = { lr: f32(0.01), rho: f32(0.9), oneMinusRho: f32(1 - f32(0.9)), momentum: f32(0.5), epsilon: f32(1e-7) };
  const opt = new RMSprop({
    learningRate: 0.01, rho: 0.9, momentum: form.path === 'momentum' ? 0.5 : 0, centered: form.centered, epsilon: 1e-7,
  });
  const vars: tf.Variable[] = [];
  const refs: DenseState[] = [];
  for (const n of sizes) {
    const w = randomValues(n, r);
    vars.push(tf.tidy(() => tf.variable(tf.tensor(w.slice()))));
    refs.push({
      w, ms: new Float32Array(n),
      ...(form.path === 'momentum' ? { mom: new Float32Array(n) } : {}),
      ...(form.centered ? { mg: new Float32Array(n) } : {}),
    });
  }
  try {
    for (let step = 0; step < steps; step++) {
      const grads = vars.map((v) => randomGrad(v.size, r));
      const tensors = grads.map((g) => tf.tensor(g));
      opt.applyGradients(tensors.map((g, i) => [g, vars[i]] as const));
      tf.dispose(tensors);
      assert.ok(opt.lastStepKernels().every((c) => c.kernel === 'cpu-simd'), JSON.stringify(opt.lastStepKernels()));
      refs.forEach((ref, i) => denseStep(form, s, grads[i], ref));
    }
    vars.forEach((v, i) => {
      assertSameFloats(v.dataSync(), refs[i].w, `${formName(form)} var ${i} w`);
      assertSameFloats(opt.getSlot(v, 'rms').dataSync(), refs[i].ms, `${formName(form)} var ${i} ms`);
      if (refs[i].mom) assertSameFloats(opt.getSlot(v, 'momentum').dataSync(), refs[i].mom!, `var ${i} momentum`);
      if (refs[i].mg) assertSameFloats(opt.getSlot(v, 'mg').dataSync(), refs[i].mg!, `var ${i} mg`);
    });
  } finally {
    opt.dispose();
    tf.dispose(vars);
  }
}

describe('cpu kernel tiles (cpu)', () => {
  before(() => useBackend('cpu'));

  for (const form of FORMS) {
    test(`variables across tile boundaries equal the rules: ${formName(form)}`, () => {
      // Small ones first, so the large one starts mid-tile and ends mid-tile; an odd size leaves a scalar tail.
      trainAgainstRules(form, [5, 1001, 2 * TILE_ELEMENTS + 4097, 7, TILE_ELEMENTS, 3], 4, 11);
    });
  }

  test('a variable listed twice in one call is updated twice, in order', () => {
    // The optimizer refuses duplicates; the kernel still applies them as the op chain would.
    const r = rng(12);
    const form = { path: 'momentum', centered: true } as const;
    const s = { lr: f32(0.01), rho: f32(0.9), oneMinusRho: f32(1 - f32(0.9)), momentum: f32(0.5), epsilon: f32(1e-7) };
    const sizes = [13, TILE_ELEMENTS + 29];
    const make = (a: Float32Array) => tf.tidy(() => tf.variable(tf.tensor(a), false));
    const refs = sizes.map((n) => ({
      w: randomValues(n, r), ms: new Float32Array(n), mom: new Float32Array(n), mg: new Float32Array(n),
    }));
    const parts = refs.map((ref) => ({
      variable: make(ref.w.slice()),
      slots: { rms: make(ref.ms.slice()), momentum: make(ref.mom.slice()), mg: make(ref.mg.slice()) },
    }));
    try {
      for (let step = 0; step < 3; step++) {
        const order = [0, 1, 1, 0];
        const grads = order.map((i) => randomGrad(sizes[i], r));
        const updates = order.map((i, k) => ({ ...parts[i], grad: tf.tensor(grads[k]) }));
        for (const u of updates) assert.equal(cpuSimdKernel.unsupportedReason(u), null);
        tf.tidy(() => { cpuSimdKernel.run(updates, form, s); });
        tf.dispose(updates.map((u) => u.grad));
        order.forEach((i, k) => denseStep(form, s, grads[k], refs[i]));
        parts.forEach((p, i) => {
          assertSameFloats(p.variable.dataSync(), refs[i].w, `step ${step} var ${i} w`);
          assertSameFloats(p.slots.rms.dataSync(), refs[i].ms, `step ${step} var ${i} ms`);
          assertSameFloats(p.slots.momentum.dataSync(), refs[i].mom, `step ${step} var ${i} mom`);
          assertSameFloats(p.slots.mg.dataSync(), refs[i].mg, `step ${step} var ${i} mg`);
        });
      }
    } finally {
      for (const p of parts) tf.dispose([p.variable, p.slots.rms, p.slots.momentum, p.slots.mg]);
    }
  });

  test('more variables than one call holds', () => {
    const sizes = Array.from({ length: TILE_ENTRIES + 37 }, (_, i) => 1 + (i % 5));
    trainAgainstRules({ path: 'momentum', centered: false }, sizes, 2, 13);
  });

  test('a disposed optimizer leaves each variable a plain array of its own, with its values', () => {
    const r = rng(14);
    const v = tf.tidy(() => tf.variable(tf.tensor(randomValues(TILE_ELEMENTS + 5, r))));
    const g = tf.tensor(randomValues(v.size, r));
    try {
      const opt = new RMSprop({ learningRate: 0.01, momentum: 0.9 });
      opt.applyGradients([[g, v]]);
      assert.equal(opt.lastStepKernels()[0].kernel, 'cpu-simd');
      const inKernelMemory = values(v);
      // The view shares a buffer with the slots and the scratch, far larger than the variable.
      assert.ok(inKernelMemory.buffer.byteLength > 3 * inKernelMemory.byteLength);
      const trained = Float32Array.from(v.dataSync());
      opt.dispose();
      const after = values(v);
      assert.notEqual(after, inKernelMemory);
      assert.equal(after.buffer.byteLength, after.byteLength);
      assertSameFloats(after, trained, 'values after dispose');

      // A new optimizer takes it over, and the old view is never written again.
      const snapshot = Float32Array.from(inKernelMemory);
      const next = new RMSprop({ learningRate: 0.01 });
      next.applyGradients([[g, v]]);
      assert.equal(next.lastStepKernels()[0].kernel, 'cpu-simd');
      assertSameFloats(inKernelMemory, snapshot, 'old view');
      assert.notDeepEqual(Array.from(v.dataSync()), Array.from(trained));
      next.dispose();
    } finally {
      tf.dispose([v, g]);
    }
  });

  test('a variable trained by two optimizers in turn moves between them without losing a step', () => {
    const r = rng(15);
    const init = randomValues(300, r);
    const grads = Array.from({ length: 6 }, () => randomValues(300, r));
    const v = tf.tidy(() => tf.variable(tf.tensor(init.slice())));
    const a = new RMSprop({ learningRate: 0.01 });
    const b = new RMSprop({ learningRate: 0.02 });
    const s = (lr: number) => ({ lr: f32(lr), rho: f32(0.9), oneMinusRho: f32(1 - f32(0.9)), momentum: 0, epsilon: f32(1e-7) });
    // One w, updated in place by both references; each optimizer keeps its own ms.
    const w = init.slice();
    const refA = { w, ms: new Float32Array(300) };
    const refB = { w, ms: new Float32Array(300) };
    try {
      grads.forEach((gv, i) => {
        const g = tf.tensor(gv);
        (i % 2 === 0 ? a : b).applyGradients([[g, v]]);
        g.dispose();
        assert.equal((i % 2 === 0 ? a : b).lastStepKernels()[0].kernel, 'cpu-simd');
        denseStep({ path: 'plain', centered: false }, i % 2 === 0 ? s(0.01) : s(0.02), gv, i % 2 === 0 ? refA : refB);
      });
      assertSameFloats(v.dataSync(), w, 'variable');
    } finally {
      a.dispose();
      b.dispose();
      v.dispose();
    }
  });
});
