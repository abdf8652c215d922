/**
 * An engine that refuses the cpu kernel a private memory (browsers on small
 * devices can): the step still happens, through the reference loops in place,
 * equal to the bit to a run without fast kernels, clipping included; sparse
 * rows likewise. The refusal is simulated by a WebAssembly.Memory that throws.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { IndexedSlices, RMSprop, type RMSpropOptions } from '../../src/index.js';
import { setFastKernelsEnabled } from '../../src/kernels/registry.js';
import { assertBitEqual, tf, useBackend } from '../support/tf.js';
import { randomValues, rng } from './support.js';

const RealMemory = WebAssembly.Memory;

function refuseMemory(): void {
  (WebAssembly as { Memory: unknown }).Memory = function Memory(): never {
    throw new RangeError('WebAssembly.Memory(): could not allocate memory');
  };
}

function restoreMemory(): void {
  (WebAssembly as { Memory: unknown }).Memory = RealMemory;
}

function run(options: RMSpropOptions, fast: boolean, sparse: boolean): { values: Float32Array[]; kernels: string[] } {
  const previous = setFastKernelsEnabled(fast);
  const r = rng(31);
  const vars = [tf.tidy(() => tf.variable(tf.tensor(randomValues(24, r), [6, 4]))), tf.tidy(() => tf.variable(tf.tensor(randomValues(5, r))))];
  const opt = new RMSprop({ learningRate: 0.05, momentum: 0.9, ...options });
  try {
    for (let step = 0; step < 4; step++) {
      tf.tidy(() => {
        const g0 = sparse
          ? new IndexedSlices(tf.tensor(randomValues(8, r, 3), [2, 4]), [step % 6, 5])
          : tf.tensor(randomValues(24, r, 3), [6, 4]);
        opt.applyGradients([[g0, vars[0]], [tf.tensor(randomValues(5, r, 3)), vars[1]]]);
      });
    }
    return { values: vars.map((v) => Float32Array.from(v.dataSync())), kernels: opt.lastStepKernels().map((c) => c.kernel) };
  } finally {
    opt.dispose();
    tf.dispose(vars);
    setFastKernelsEnabled(previous);
  }
}

describe('the cpu kernel when the engine refuses it memory', () => {
  before(() => useBackend('cpu'));
  after(restoreMemory);

  for (const [name, options, sparse] of [
    ['dense', {}, false], ['dense, clipnorm folded', { clipnorm: 0.5 }, false],
    ['dense, globalClipnorm folded', { globalClipnorm: 0.5 }, false], ['sparse rows', {}, true],
  ] as Array<[string, RMSpropOptions, boolean]>) {
    test(`${name}: the step runs the reference loops, equal to the bit`, () => {
      const expected = run(options, false, sparse);
      refuseMemory();
      let got: ReturnType<typeof run>;
      try {
        got = run(options, true, sparse);
      } finally {
        restoreMemory();
      }
      got.values.forEach((v, i) => assertBitEqual(v, expected.values[i], `variable ${i}`));
      // What ran is reported: the reference loops, not the kernel that handed the step on.
      assert.deepEqual(got.kernels, sparse ? ['cpu-inplace', 'sparse-keras2'] : ['cpu-inplace', 'cpu-inplace']);
    });
  }
});
