/**
 * Every kernel of each backend against the reference rules, bit for bit, on long
 * random trajectories: several variables per call (lengths around the 4-lane
 * boundary and a large one), a new gradient and new scalars every step, and every
 * value compared after every step. The op chain is checked the same way: on cpu
 * and wasm it too equals the rules to the bit.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuKernel } from '../../src/kernels/cpu/inplace.js';
import { cpuSimdKernel } from '../../src/kernels/cpu/simd.js';
import { tfopsKernel } from '../../src/kernels/tfops/dense.js';
import type { DenseKernel, DenseUpdate } from '../../src/kernels/types.js';
import { wasmHeapJsKernel } from '../../src/kernels/wasm/heap_js.js';
import { wasmSimdKernel } from '../../src/kernels/wasm/simd.js';
import { denseStep } from '../../src/rules/keras2.js';
import type { DenseState, UpdateForm } from '../../src/rules/types.js';
import { BACKENDS, tf, useBackend } from '../support/tf.js';
import { FORMS, assertSameFloats, formName, randomGrad, randomValues, rng, scalarsAt } from './support.js';

const KERNELS: Record<(typeof BACKENDS)[number], DenseKernel[]> = {
  cpu: [cpuSimdKernel, cpuKernel, tfopsKernel],
  wasm: [wasmSimdKernel, wasmHeapJsKernel, tfopsKernel],
};

const SHAPES = [[1], [3], [4], [5], [2, 3], [17], [4099], [64, 33]];
const STEPS = 40;

function exclusiveVariable(values: Float32Array, shape: number[]): tf.Variable {
  return tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), false));
}

function trajectory(kernel: DenseKernel, form: UpdateForm, seed: number): void {
  const r = rng(seed);
  const refs: DenseState[] = [];
  const updates: Array<Omit<DenseUpdate, 'grad'>> = SHAPES.map((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const ref = { w: randomValues(n, r), ms: new Float32Array(n), mom: new Float32Array(n), mg: new Float32Array(n) };
    refs.push(ref);
    return {
      variable: exclusiveVariable(ref.w.slice(), shape),
      slots: {
        rms: exclusiveVariable(ref.ms.slice(), shape),
        ...(form.path === 'momentum' ? { momentum: exclusiveVariable(ref.mom.slice(), shape) } : {}),
        ...(form.centered ? { mg: exclusiveVariable(ref.mg.slice(), shape) } : {}),
      },
    };
  });
  try {
    for (let step = 0; step < STEPS; step++) {
      const s = scalarsAt(step, r);
      const grads = refs.map((ref) => randomGrad(ref.w.length, r));
      const full = tf.tidy(() => updates.map((u, i) => ({ ...u, grad: tf.tensor(grads[i], u.variable.shape) })));
      for (const u of full) {
        const why = kernel.unsupportedReason(u);
        assert.equal(why, null, `${kernel.name} refused an exclusive float32 update: ${why}`);
      }
      tf.tidy(() => { kernel.run(full, form, s); });
      tf.dispose(full.map((u) => u.grad));
      refs.forEach((ref, i) => denseStep(form, s, grads[i], ref));
      updates.forEach((u, i) => {
        const at = `${kernel.name} ${formName(form)} step ${step} var ${i}`;
        assertSameFloats(u.variable.dataSync(), refs[i].w, `${at} w`);
        assertSameFloats(u.slots.rms.dataSync(), refs[i].ms, `${at} ms`);
        if (u.slots.momentum) assertSameFloats(u.slots.momentum.dataSync(), refs[i].mom!, `${at} mom`);
        if (u.slots.mg) assertSameFloats(u.slots.mg.dataSync(), refs[i].mg!, `${at} mg`);
      });
    }
  } finally {
    for (const u of updates) tf.dispose([u.variable, ...Object.values(u.slots)]);
  }
}

for (const backend of BACKENDS) {
  describe(`kernel parity with the rules (${backend})`, () => {
    before(() => useBackend(backend));
    for (const kernel of KERNELS[backend]) {
      for (const form of FORMS) {
        test(`${kernel.name}, ${formName(form)}: ${STEPS} random steps equal the rules to the bit`, () => {
          trajectory(kernel, form, 1000 + FORMS.indexOf(form));
        });
      }
    }
  });
}
