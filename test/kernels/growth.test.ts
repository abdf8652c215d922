/**
 * Memory changing under the kernels. wasm: large allocations between steps grow
 * the backend's heap, which detaches every view of the old ArrayBuffer (the
 * kernel's step table view included) while the kernel's own module sees the
 * grown memory; variables added mid-run enlarge the step table. cpu: variables
 * added mid-run get a new private chunk while earlier ones keep theirs. Every step
 * is compared with the reference rules bit for bit.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RMSprop } from '../../src/index.js';
import { denseStep } from '../../src/rules/keras2.js';
import { f32 } from '../../src/util/f32.js';
import type { DenseState } from '../../src/rules/types.js';
import { BACKENDS, tf, useBackend } from '../support/tf.js';
import { assertSameFloats, randomGrad, randomValues, rng } from './support.js';

const FAST: Record<(typeof BACKENDS)[number], string> = { cpu: 'cpu-simd', wasm: 'wasm-simd' };

function heapBytes(): number {
  const b = tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } };
  return b.wasm ? b.wasm.HEAPU8.buffer.byteLength : 0;
}

for (const backend of BACKENDS) {
  describe(`kernels across memory changes (${backend})`, () => {
    before(() => useBackend(backend));

    test('big allocations and new variables between steps', () => {
      const r = rng(9);
      const form = { path: 'momentum', centered: true } as const;
      const s = { lr: f32(0.01), rho: f32(0.9), oneMinusRho: f32(1 - f32(0.9)), momentum: f32(0.9), epsilon: f32(1e-7) };
      const opt = new RMSprop({ learningRate: 0.01, rho: 0.9, momentum: 0.9, centered: true, epsilon: 1e-7 });
      const vars: tf.Variable[] = [];
      const refs: DenseState[] = [];
      const ballast: tf.Tensor[] = [];
      const addVariables = (count: number, n: number) => {
        for (let i = 0; i < count; i++) {
          const w = randomValues(n + i, r);
          vars.push(tf.tidy(() => tf.variable(tf.tensor(w.slice()))));
          refs.push({ w, ms: new Float32Array(n + i), mom: new Float32Array(n + i), mg: new Float32Array(n + i) });
        }
      };
      const heapAtStart = heapBytes();
      try {
        addVariables(3, 1001);
        for (let step = 0; step < 12; step++) {
          if (step % 3 === 1) ballast.push(tf.zeros([8 * 1024 * 1024])); // 32 MiB each: the wasm heap must grow
          if (step % 4 === 2) addVariables(25, 13); // more table entries than before; on cpu, a new chunk
          const grads = vars.map((v) => randomGrad(v.size, r));
          const tensors = grads.map((g) => tf.tensor(g));
          opt.applyGradients(tensors.map((g, i) => [g, vars[i]] as const));
          tf.dispose(tensors);
          assert.ok(opt.lastStepKernels().every((c) => c.kernel === FAST[backend]), `step ${step}: ${JSON.stringify(opt.lastStepKernels())}`);
          refs.forEach((ref, i) => denseStep(form, s, grads[i], ref));
          vars.forEach((v, i) => {
            assertSameFloats(v.dataSync(), refs[i].w, `step ${step} var ${i} w`);
            assertSameFloats(opt.getSlot(v, 'rms').dataSync(), refs[i].ms, `step ${step} var ${i} ms`);
            assertSameFloats(opt.getSlot(v, 'momentum').dataSync(), refs[i].mom!, `step ${step} var ${i} mom`);
            assertSameFloats(opt.getSlot(v, 'mg').dataSync(), refs[i].mg!, `step ${step} var ${i} mg`);
          });
        }
        if (backend === 'wasm') assert.ok(heapBytes() > heapAtStart, 'the wasm heap did not grow: the test lost its point');
      } finally {
        opt.dispose();
        tf.dispose([...vars, ...ballast]);
      }
    });
  });
}
