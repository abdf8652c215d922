/**
 * In-place kernels never write a buffer that another tensor can see: a variable
 * or slot whose buffer is shared (`tf.variable(t)` with `t` alive, `assign`,
 * `reshape`) takes the op chain for that step, and the other tensor keeps its
 * values. Also: a gradient aliasing the variable, and tfjs-wasm's cached
 * operators (MatMul keeps packed weights per tensor id) seeing the new values.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { IndexedSlices, RMSprop } from '../../src/index.js';
import { cpuKernel } from '../../src/kernels/cpu/inplace.js';
import { cpuSimdKernel } from '../../src/kernels/cpu/simd.js';
import { tfopsKernel } from '../../src/kernels/tfops/dense.js';
import { wasmHeapJsKernel } from '../../src/kernels/wasm/heap_js.js';
import { wasmSimdKernel } from '../../src/kernels/wasm/simd.js';
import { denseStep } from '../../src/rules/keras2.js';
import { BACKENDS, tf, useBackend } from '../support/tf.js';
import { assertSameFloats, randomValues, rng } from './support.js';

const FAST: Record<(typeof BACKENDS)[number], string> = { cpu: 'cpu-simd', wasm: 'wasm-simd' };

/**
 * `x · t` through the path that may reuse an operator tfjs-wasm cached for `t`
 * equals it through a fresh tensor of `values` (t's current values by default).
 */
function assertMatMulFresh(x: tf.Tensor, t: tf.Tensor, label: string, values: Float32Array = Float32Array.from(t.dataSync())): void {
  const fresh = tf.tidy(() => tf.matMul(x, tf.tensor(values, [4, 3])).dataSync());
  const cachedPath = tf.tidy(() => tf.matMul(x, t).dataSync());
  assertSameFloats(cachedPath, Float32Array.from(fresh), label);
}

/** A 4 × 3 variable, a 2 × 4 input for MatMul, a centered momentum optimizer and a step of random gradients. */
function centeredCase(seed: number): { v: tf.Variable; x: tf.Tensor; opt: RMSprop; step: () => void } {
  const r = rng(seed);
  const v = tf.tidy(() => tf.variable(tf.tensor(randomValues(12, r), [4, 3])));
  const x = tf.tensor(randomValues(8, r), [2, 4]);
  const opt = new RMSprop({ learningRate: 0.1, momentum: 0.9, centered: true });
  return { v, x, opt, step: () => tf.tidy(() => { opt.applyGradients([[tf.tensor(randomValues(12, r), [4, 3]), v]]); }) };
}

function snapshot(t: tf.Tensor): Float32Array {
  return Float32Array.from(t.dataSync());
}

for (const backend of BACKENDS) {
  describe(`shared buffers are never written (${backend})`, () => {
    before(() => useBackend(backend));

    test('a variable sharing its initial tensor falls back, and the tensor keeps its values', () => {
      const t = tf.tensor(randomValues(37, rng(1)));
      const v = tf.variable(t); // shares t's buffer while t lives
      const before = snapshot(t);
      const opt = new RMSprop({ learningRate: 0.1, momentum: 0.9 });
      try {
        const g = tf.onesLike(v);
        opt.applyGradients([[g, v]]);
        g.dispose();
        const [choice] = opt.lastStepKernels();
        assert.equal(choice.kernel, 'tfops');
        assert.match(choice.fallbackReason ?? '', /shares its buffer/);
        assertSameFloats(t.dataSync(), before, 'initial tensor');
        assert.notDeepEqual(Array.from(v.dataSync()), Array.from(before));
      } finally {
        opt.dispose();
        tf.dispose([t, v]);
      }
    });

    test('after assign(t) and under a live reshape view, neither t nor the view changes', () => {
      const r = rng(2);
      const v = tf.tidy(() => tf.variable(tf.tensor(randomValues(24, r), [4, 6])));
      const opt = new RMSprop({ learningRate: 0.1, centered: true });
      const g = tf.tensor(randomValues(24, r), [4, 6]);
      try {
        opt.applyGradients([[g, v]]);
        assert.equal(opt.lastStepKernels()[0].kernel, FAST[backend]);
        const t = tf.tensor(randomValues(24, r), [4, 6]);
        v.assign(t);
        const tBefore = snapshot(t);
        opt.applyGradients([[g, v]]);
        assert.equal(opt.lastStepKernels()[0].kernel, 'tfops');
        assertSameFloats(t.dataSync(), tBefore, 'assigned tensor');
        t.dispose();
        // The variable's buffer is its own again (the op chain assigned a new one).
        opt.applyGradients([[g, v]]);
        assert.equal(opt.lastStepKernels()[0].kernel, FAST[backend]);
        const view = tf.reshape(v, [24]);
        const viewBefore = snapshot(view);
        opt.applyGradients([[g, v]]);
        assert.equal(opt.lastStepKernels()[0].kernel, 'tfops');
        assertSameFloats(view.dataSync(), viewBefore, 'reshape view');
        view.dispose();
      } finally {
        opt.dispose();
        tf.dispose([v, g]);
      }
    });

    test('a slot shared by a view falls back; the view keeps its values; training is unchanged', () => {
      const r = rng(3);
      const init = randomValues(50, r);
      const grads = Array.from({ length: 6 }, () => randomValues(50, r));
      const train = (shareAt: number | null): { w: Float32Array; view: Float32Array | null; viewAfter: Float32Array | null } => {
        const v = tf.tidy(() => tf.variable(tf.tensor(init)));
        const opt = new RMSprop({ learningRate: 0.05, momentum: 0.5, centered: true });
        let view: tf.Tensor | null = null;
        let viewBefore: Float32Array | null = null;
        try {
          grads.forEach((gv, step) => {
            if (step === shareAt) {
              view = tf.reshape(opt.getSlot(v, 'mg'), [5, 10]);
              viewBefore = snapshot(view);
            }
            const g = tf.tensor(gv);
            opt.applyGradients([[g, v]]);
            g.dispose();
            if (step === shareAt) assert.equal(opt.lastStepKernels()[0].kernel, 'tfops');
          });
          return { w: snapshot(v), view: viewBefore, viewAfter: view ? snapshot(view) : null };
        } finally {
          if (view) (view as tf.Tensor).dispose();
          opt.dispose();
          v.dispose();
        }
      };
      const plain = train(null);
      const shared = train(2);
      assertSameFloats(shared.viewAfter!, shared.view!, 'slot view after later steps');
      assertSameFloats(shared.w, plain.w, 'variable');
    });

    test('a gradient that is the variable itself is read before it is written', () => {
      const r = rng(4);
      const init = randomValues(21, r);
      const v = tf.tidy(() => tf.variable(tf.tensor(init)));
      const opt = new RMSprop({ learningRate: 0.01, momentum: 0.9 });
      try {
        opt.applyGradients([[v, v]]);
        assert.equal(opt.lastStepKernels()[0].kernel, FAST[backend]);
        const ref = { w: init.slice(), ms: new Float32Array(21), mom: new Float32Array(21) };
        const f = Math.fround;
        denseStep({ path: 'momentum', centered: false },
          { lr: f(0.01), rho: f(0.9), oneMinusRho: f(1 - f(0.9)), momentum: f(0.9), epsilon: f(1e-7) }, init.slice(), ref);
        assertSameFloats(v.dataSync(), ref.w, 'variable');
      } finally {
        opt.dispose();
        v.dispose();
      }
    });

    test('the typed arrays tensors were made from are never written (cpu keeps them uncopied)', () => {
      const kernels = backend === 'cpu' ? [cpuSimdKernel, cpuKernel, tfopsKernel] : [wasmSimdKernel, wasmHeapJsKernel, tfopsKernel];
      for (const kernel of kernels) {
        const r = rng(6);
        const arrays = { w: randomValues(9, r), ms: randomValues(9, r).map(Math.abs), mom: randomValues(9, r), mg: randomValues(9, r) };
        const copies = Object.fromEntries(Object.entries(arrays).map(([k, a]) => [k, a.slice()]));
        const make = (a: Float32Array) => tf.tidy(() => tf.variable(tf.tensor(a), false));
        const u = {
          variable: make(arrays.w), grad: tf.tensor(randomValues(9, r)),
          slots: { rms: make(arrays.ms), momentum: make(arrays.mom), mg: make(arrays.mg) },
        };
        try {
          assert.equal(kernel.unsupportedReason(u), null);
          const f = Math.fround;
          tf.tidy(() => {
            kernel.run([u], { path: 'momentum', centered: true },
              { lr: f(0.1), rho: f(0.9), oneMinusRho: f(1 - f(0.9)), momentum: f(0.9), epsilon: f(1e-7) });
          });
          for (const k of Object.keys(arrays) as Array<keyof typeof arrays>) {
            assertSameFloats(arrays[k], copies[k], `${kernel.name}: source array of ${k}`);
          }
          assert.notDeepEqual(Array.from(u.variable.dataSync()), Array.from(copies.w), `${kernel.name} did not update`);
        } finally {
          tf.dispose([u.variable, u.grad, u.slots.rms, u.slots.momentum, u.slots.mg]);
        }
      }
    });

    test('tensors given to setWeights keep their values while training continues', async () => {
      const r = rng(7);
      const v = tf.tidy(() => tf.variable(tf.tensor(randomValues(30, r))));
      const opt = new RMSprop({ learningRate: 0.1, momentum: 0.9, centered: true });
      const g = tf.tensor(randomValues(30, r));
      const saved = [tf.scalar(3, 'int32'), ...['rms', 'momentum', 'mg'].map(() => tf.tensor(randomValues(30, r).map(Math.abs)))];
      const before = saved.map((t) => Float32Array.from(t.dataSync()));
      try {
        opt.applyGradients([[g, v]]);
        await opt.setWeights(saved.map((tensor, i) => ({ name: i === 0 ? 'iter' : `w/${i}`, tensor })));
        for (let i = 0; i < 3; i++) opt.applyGradients([[g, v]]);
        assert.equal(opt.lastStepKernels()[0].kernel, FAST[backend]);
        saved.forEach((t, i) => assertSameFloats(t.dataSync(), before[i], `setWeights input ${i}`));
      } finally {
        opt.dispose();
        tf.dispose([v, g, ...saved]);
      }
    });

    test('ops that cache work per tensor (MatMul weights) see the updated values', () => {
      const r = rng(5);
      const v = tf.tidy(() => tf.variable(tf.tensor(randomValues(12, r), [4, 3])));
      const x = tf.tensor(randomValues(8, r), [2, 4]);
      const opt = new RMSprop({ learningRate: 0.1 });
      try {
        for (let step = 0; step < 3; step++) {
          tf.tidy(() => tf.matMul(x, v).dataSync()); // lets tfjs-wasm cache an operator on v
          const g = tf.tensor(randomValues(12, r), [4, 3]);
          opt.applyGradients([[g, v]]);
          g.dispose();
          assert.equal(opt.lastStepKernels()[0].kernel, FAST[backend]);
          assertMatMulFresh(x, v, `matMul after step ${step}`);
        }
      } finally {
        opt.dispose();
        tf.dispose([v, x]);
      }
    });

    test('ops that cache work per tensor see slot values after getSlot handed them out', () => {
      const { v, x, opt, step } = centeredCase(7);
      try {
        step();
        const slots = (['rms', 'momentum', 'mg'] as const).map((name) => opt.getSlot(v, name));
        for (let i = 0; i < 3; i++) {
          for (const slot of slots) tf.tidy(() => tf.matMul(x, slot).dataSync()); // lets tfjs-wasm cache operators
          step();
          assert.equal(opt.lastStepKernels()[0].kernel, FAST[backend]);
          slots.forEach((slot, k) => assertMatMulFresh(x, slot, `slot ${k}, matMul after step ${i}`));
        }
      } finally {
        opt.dispose();
        tf.dispose([v, x]);
      }
    });

    test('a getWeights snapshot keeps its values: shared buffers (cpu) take the op chain once, copies (wasm) need not', async () => {
      const { v, x, opt, step } = centeredCase(8);
      try {
        step();
        const snapshot = (await opt.getWeights()).slice(1).map((w) => w.tensor);
        const values = snapshot.map((t) => Float32Array.from(t.dataSync()));
        for (const t of snapshot) tf.tidy(() => tf.matMul(x, t).dataSync()); // lets tfjs-wasm cache operators
        step();
        const [choice] = opt.lastStepKernels();
        // tf.clone shares the buffer on cpu (Identity adds a reference) and copies it on wasm.
        if (backend === 'cpu') {
          assert.equal(choice.kernel, 'tfops');
          assert.match(choice.fallbackReason ?? '', /a slot shares its buffer/);
        } else {
          assert.equal(choice.kernel, FAST[backend]);
        }
        step();
        assert.equal(opt.lastStepKernels()[0].kernel, FAST[backend]);
        snapshot.forEach((t, k) => {
          assertSameFloats(t.dataSync(), values[k], `snapshot ${k}`);
          assertMatMulFresh(x, t, `snapshot ${k} through matMul`, values[k]);
        });
        tf.dispose(snapshot);
      } finally {
        opt.dispose();
        tf.dispose([v, x]);
      }
    });

    for (const sparseMode of ['keras2', 'lazy', 'dense-equivalent'] as const) {
      test(`ops that cache work per tensor see rows written by a sparse step (${sparseMode})`, () => {
        const r = rng(6);
        const v = tf.tidy(() => tf.variable(tf.tensor(randomValues(12, r), [4, 3])));
        const x = tf.tensor(randomValues(8, r), [2, 4]);
        const opt = new RMSprop({ learningRate: 0.1, momentum: 0.5, sparseMode });
        try {
          for (let step = 0; step < 3; step++) {
            tf.tidy(() => tf.matMul(x, v).dataSync()); // lets tfjs-wasm cache an operator on v
            const values = tf.tensor(randomValues(6, r), [2, 3]);
            opt.applyGradients([[new IndexedSlices(values, [step, 3]), v]]);
            values.dispose();
            // Reading the variable brings deferred rows (lazy) up to date first.
            assertMatMulFresh(x, v, `matMul after step ${step}`);
          }
        } finally {
          opt.dispose();
          tf.dispose([v, x]);
        }
      });
    }
  });
}
