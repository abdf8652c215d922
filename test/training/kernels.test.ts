/**
 * Every dense kernel folds Keras 3's passes (accumulation, the combined
 * gradient of an update call, the EMA and its overwrite) and optax's Nesterov
 * momentum exactly as the reference loops do them (rules/dense.ts
 * `aroundStep`): bit for bit on cpu and wasm, for small variables, SIMD tails,
 * variables that span tiles, and on cpu a step large enough for the helper thread.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { helperThreadReady } from '../../src/kernels/cpu/helper_thread.js';
import { cpuKernel } from '../../src/kernels/cpu/inplace.js';
import { THREAD_MIN_ELEMENTS } from '../../src/kernels/cpu/memory.js';
import { cpuSimdKernel } from '../../src/kernels/cpu/simd.js';
import { TILE_ELEMENTS } from '../../src/kernels/simd/tiles.js';
import { tfopsKernel } from '../../src/kernels/tfops/dense.js';
import type { DenseKernel } from '../../src/kernels/types.js';
import { wasmHeapJsKernel } from '../../src/kernels/wasm/heap_js.js';
import { wasmSimdKernel } from '../../src/kernels/wasm/simd.js';
import { aroundStep } from '../../src/rules/dense.js';
import type { Around } from '../../src/rules/training.js';
import type { DenseState, UpdateForm } from '../../src/rules/types.js';
import { assertSameFloats, randomGrad, randomValues, rng, scalarsAt } from '../kernels/support.js';
import { BACKENDS, tf, useBackend } from '../support/tf.js';

const KERNELS: Record<(typeof BACKENDS)[number], DenseKernel[]> = {
  cpu: [cpuSimdKernel, cpuKernel, tfopsKernel],
  wasm: [wasmSimdKernel, wasmHeapJsKernel, tfopsKernel],
};

const FORMS: UpdateForm[] = [
  { path: 'plain', centered: false },
  { path: 'momentum', centered: true },
  { path: 'momentum', centered: false, nesterov: true },
  { path: 'momentum', centered: true, nesterov: true },
  { path: 'plain', centered: true, flavor: 'keras3' },
  { path: 'momentum', centered: false, flavor: 'keras3', nesterov: true },
  { path: 'momentum', centered: true, flavor: 'keras3', nesterov: true },
  { path: 'momentum', centered: false, flavor: 'pytorch', nesterov: true },
  { path: 'momentum', centered: true, flavor: 'pytorch', nesterov: true },
  { path: 'momentum', centered: true, flavor: 'tfjs', nesterov: true },
];

const name = (f: UpdateForm): string => `${f.flavor ?? 'keras2'} ${f.nesterov ? 'nesterov' : f.path}${f.centered ? '+centered' : ''}`;

/**
 * A window of 3 calls with a loss scale and the EMA; a window of 2 whose update
 * overwrites; an EMA step with a loss scale; a plain step; then loss scales that
 * are powers of two (the kernels multiply by the exact reciprocal: it must equal
 * the loops' division to the bit), one as large as float32 allows (its
 * reciprocal is subnormal), in a window of 2.
 */
const CALLS: Around[] = [
  { phase: 'accumulate', combineSteps: null, unscale: 1000, ema: { momentum: 0, oneMinus: 1, overwrite: false } },
  { phase: 'accumulate', combineSteps: null, unscale: 1000, ema: { momentum: 0, oneMinus: 1, overwrite: false } },
  { phase: 'update', combineSteps: 3, unscale: 1000, ema: { momentum: Math.fround(0.9), oneMinus: Math.fround(1 - Math.fround(0.9)), overwrite: false } },
  { phase: 'accumulate', combineSteps: null, unscale: null, ema: null },
  { phase: 'update', combineSteps: 2, unscale: null, ema: { momentum: Math.fround(0.99), oneMinus: Math.fround(1 - Math.fround(0.99)), overwrite: true } },
  { phase: 'update', combineSteps: null, unscale: 3, ema: { momentum: Math.fround(0.5), oneMinus: Math.fround(0.5), overwrite: false } },
  { phase: 'update', combineSteps: null, unscale: null, ema: null },
  { phase: 'update', combineSteps: null, unscale: 1024, ema: null },
  { phase: 'accumulate', combineSteps: null, unscale: 2 ** -3, ema: null },
  { phase: 'update', combineSteps: 2, unscale: 2 ** 127, ema: null },
];

const exclusive = (v: Float32Array, shape: number[]) => tf.tidy(() => tf.variable(tf.tensor(v, shape), false));

function runKernel(kernel: DenseKernel, form: UpdateForm, sizes: readonly number[], what: string): string[] {
  const ran: string[] = [];
  const r = rng(5);
  const refs: Array<Required<DenseState>> = sizes.map((n) => ({
    w: randomValues(n, r), ms: new Float32Array(n), mom: new Float32Array(n), mg: new Float32Array(n),
    avg: new Float32Array(n), acc: new Float32Array(n),
  }));
  const ups = sizes.map((n, i) => ({
    variable: exclusive(refs[i].w.slice(), [n]),
    slots: {
      rms: exclusive(refs[i].ms.slice(), [n]),
      ...(form.path === 'momentum' ? { momentum: exclusive(refs[i].mom.slice(), [n]) } : {}),
      ...(form.centered ? { mg: exclusive(refs[i].mg.slice(), [n]) } : {}),
      ema: exclusive(refs[i].avg.slice(), [n]),
      accumulator: exclusive(refs[i].acc.slice(), [n]),
    },
  }));
  try {
    CALLS.forEach((around, call) => {
      const s = { ...scalarsAt(call, r), weightDecay: call % 2 === 0 ? Math.fround(0.01) : 0 };
      const grads = sizes.map((n) => randomGrad(n, r).map((g) => (Math.abs(g) > 1e3 ? g * 1e-3 : g)));
      const full = tf.tidy(() => ups.map((u, i) => ({ ...u, grad: tf.tensor(grads[i], [sizes[i]]) })));
      for (const u of full) assert.equal(kernel.unsupportedReason(u), null, `${what}: ${kernel.unsupportedReason(u)}`);
      tf.tidy(() => { ran.push(kernel.run(full, form, s, undefined, around)?.kernel ?? kernel.name); });
      tf.dispose(full.map((u) => u.grad));
      refs.forEach((ref, i) => aroundStep(form, s, around, grads[i], ref));
      ups.forEach((u, i) => {
        const at = `${what} call ${call} var ${i}`;
        assertSameFloats(u.variable.dataSync(), refs[i].w, `${at} w`);
        assertSameFloats(u.slots.rms.dataSync(), refs[i].ms, `${at} ms`);
        if (u.slots.momentum) assertSameFloats(u.slots.momentum.dataSync(), refs[i].mom, `${at} mom`);
        if (u.slots.mg) assertSameFloats(u.slots.mg.dataSync(), refs[i].mg, `${at} mg`);
        assertSameFloats(u.slots.ema.dataSync(), refs[i].avg, `${at} ema`);
        assertSameFloats(u.slots.accumulator.dataSync(), refs[i].acc, `${at} accumulator`);
      });
    });
  } finally {
    for (const u of ups) tf.dispose([u.variable, ...Object.values(u.slots).filter((t): t is tf.Variable => t instanceof tf.Variable)]);
  }
  return ran;
}

for (const backend of BACKENDS) {
  describe(`kernels fold Keras 3's passes and Nesterov momentum as the loops do (${backend})`, () => {
    before(() => useBackend(backend));
    for (const kernel of KERNELS[backend]) {
      test(`${kernel.name}: loss scale, accumulation, combined gradients, EMA and overwrite, every flavor's Nesterov form, bit for bit`, () => {
        assert.equal(kernel.foldsAround, true);
        for (const form of FORMS) {
          // The op chain has no fused multiply-add: 'pytorch' there is checked against the reference within a tolerance.
          if (kernel === tfopsKernel && form.flavor === 'pytorch') continue;
          runKernel(kernel, form, [1, 3, 17, 1031], `${kernel.name} ${name(form)}`);
        }
      });
    }
    test(`${KERNELS[backend][0].name}: variables spanning tiles`, () => {
      runKernel(KERNELS[backend][0], FORMS[3], [TILE_ELEMENTS + 9, 5, 2 * TILE_ELEMENTS - 3], `${backend} tiles`);
    });
  });
}

describe('the cpu kernel with its helper thread', () => {
  before(() => useBackend('cpu'));
  test('a step over THREAD_MIN_ELEMENTS with accumulation and the EMA equals the loops', async () => {
    assert.equal(await helperThreadReady(), true);
    const ran = runKernel(cpuSimdKernel, FORMS[2], [THREAD_MIN_ELEMENTS + 3 * TILE_ELEMENTS + 7], 'threaded');
    assert.deepEqual(new Set(ran), new Set(['cpu-simd-threaded']));
  });
});
