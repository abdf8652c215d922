/**
 * The row kernels (sparse rows through the SIMD kernels, on the wasm heap or
 * in the cpu kernel's memory) equal the
 * reference row loops to the bit, in every mode and form they take: the plain
 * path in each sparse mode (with the decay of the steps a row sat out), the
 * momentum path of 'dense-equivalent' (after the row's catch-up), and TF's
 * sparse momentum kernel in 'keras2' and 'lazy'. Rows of 6
 * floats exercise the kernel's scalar tail; batches grow so its heap workspace
 * is reallocated mid-run; a dense step in the middle catches every row up.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { IndexedSlices, RMSprop, type RMSpropOptions } from '../../src/index.js';
import { createdCpuBackend } from '../../src/kernels/cpu/storage.js';
import { setFastKernelsEnabled } from '../../src/kernels/registry.js';
import { assertBitEqual, BACKENDS, tf, useBackend } from '../support/tf.js';
import { randomValues, rng } from '../kernels/support.js';

const ROWS = 50;
const DIM = 6;

interface Run { values: Float32Array[]; kernels: string[] }

function trajectory(options: RMSpropOptions, fast: boolean, init: Float32Array): Run {
  const previous = setFastKernelsEnabled(fast);
  const table = tf.tidy(() => tf.variable(tf.tensor(init, [ROWS, DIM])));
  const opt = new RMSprop({ learningRate: 0.05, ...options });
  const r = rng(17);
  const kernels: string[] = [];
  try {
    for (let step = 0; step < 14; step++) {
      tf.tidy(() => {
        // PyTorch's dense op chain (the reference run's dense step) rounds its fused multiply-adds apart.
        if (step === 7 && options.flavor !== 'pytorch') {
          opt.applyGradients([[tf.tensor(randomValues(ROWS * DIM, r), [ROWS, DIM]), table]]);
          return;
        }
        const n = 3 + step * 5; // grows: the kernel's workspace is reallocated along the way
        const ids = Array.from({ length: n }, (_, i) => (i % 4 === 3 ? i % 3 : Math.floor(r() * ROWS)));
        opt.applyGradients([[new IndexedSlices(tf.tensor(randomValues(n * DIM, r, 2), [n, DIM]), ids), table]]);
        kernels.push(opt.lastStepKernels()[0].kernel);
      });
    }
    opt.finalizeVariableValues();
    const slots = opt.getSlotNames().map((name) => Float32Array.from(opt.getSlot(table, name as 'rms').dataSync()));
    return { values: [Float32Array.from(table.dataSync()), ...slots], kernels };
  } finally {
    opt.dispose();
    table.dispose();
    setFastKernelsEnabled(previous);
  }
}

const CASES: Array<{ options: RMSpropOptions; fast: boolean }> = [
  ...(['keras2', 'lazy', 'dense-equivalent'] as const).flatMap((sparseMode) => [false, true].map((centered) =>
    ({ options: { sparseMode, centered }, fast: true }))),
  ...[false, true].map((centered) => ({ options: { sparseMode: 'dense-equivalent' as const, momentum: 0.9, centered }, fast: true })),
  // TF's sparse momentum kernel (wasm-src/sparse.ts, its rsqrt in float64 lanes).
  ...(['keras2', 'lazy'] as const).flatMap((sparseMode) => [false, true].map((centered) =>
    ({ options: { sparseMode, momentum: 0.9, centered }, fast: true }))),
  // Other flavors' rows take their dense rule through the same kernels (their SIMD modules), as does weight decay.
  { options: { sparseMode: 'keras2', momentum: 0.9, flavor: 'keras3' }, fast: true },
  { options: { sparseMode: 'dense-equivalent', momentum: 0.9, centered: true, flavor: 'pytorch' }, fast: true },
  { options: { sparseMode: 'keras2', flavor: 'tfjs', centered: true }, fast: true },
  { options: { sparseMode: 'lazy', weightDecay: 0.01 }, fast: true },
  { options: { sparseMode: 'keras2', momentum: 0.9, weightDecay: 0.01, flavor: 'pytorch' }, fast: true },
];

const ROW_KERNEL = { wasm: 'wasm-simd-rows', cpu: 'cpu-simd-rows' } as const;

for (const backend of BACKENDS) describe(`sparse rows through the SIMD kernels (${backend})`, () => {
  before(() => useBackend(backend));

  for (const { options, fast } of CASES) {
    const label = `${options.sparseMode}, ${options.momentum ? 'momentum' : 'plain'}${options.centered ? ', centered' : ''}` +
      `${options.flavor ? `, ${options.flavor}` : ''}${options.weightDecay ? ', weight decay' : ''}`;
    test(`${label}: ${fast ? 'the row kernel equals the reference loops to the bit' : 'the reference loops run'}`, () => {
      const init = randomValues(ROWS * DIM, rng(3));
      const kernel = trajectory(options, true, init);
      const reference = trajectory(options, false, init);
      const expected = `sparse-${options.sparseMode}${fast ? `/${ROW_KERNEL[backend]}` : ''}`;
      assert.deepEqual(new Set(kernel.kernels), new Set([expected]));
      assert.deepEqual(new Set(reference.kernels), new Set([`sparse-${options.sparseMode}`]));
      kernel.values.forEach((v, i) => assertBitEqual(v, reference.values[i], i === 0 ? 'table' : `slot ${i}`));
    });
  }

  test('a table that shares its buffer takes the op chain\'s gather and scatter, and the other tensor keeps its values', () => {
    const init = tf.tensor(randomValues(ROWS * DIM, rng(4)), [ROWS, DIM]);
    const table = tf.variable(init); // shares init's buffer while init lives
    const before = Float32Array.from(init.dataSync());
    const opt = new RMSprop({ learningRate: 0.05 });
    try {
      tf.tidy(() => opt.applyGradients([[new IndexedSlices(tf.ones([2, DIM]), [1, 4]), table]]));
      const [choice] = opt.lastStepKernels();
      assert.equal(choice.kernel, 'sparse-keras2/tfops-rows');
      assert.match(choice.fallbackReason ?? '', /shares its buffer/);
      assertBitEqual(Float32Array.from(init.dataSync()), before, 'the shared tensor');
      assert.notEqual(table.dataSync()[DIM], before[DIM]);
    } finally {
      opt.dispose();
      tf.dispose([table, init]);
    }
  });
});

describe('sparse rows on cpu: the table lives in the kernel memory until the optimizer goes', () => {
  before(() => useBackend('cpu'));

  test('a disposed optimizer leaves the table a plain array of its own, with its values', () => {
    const values = (t: tf.Tensor) => createdCpuBackend()!.data.get(t.dataId as object).values as Float32Array;
    const table = tf.tidy(() => tf.variable(tf.tensor(randomValues(ROWS * DIM, rng(5)), [ROWS, DIM])));
    const opt = new RMSprop({ learningRate: 0.05, momentum: 0.9 });
    try {
      tf.tidy(() => opt.applyGradients([[new IndexedSlices(tf.ones([2, DIM]), [3, 8]), table]]));
      assert.equal(opt.lastStepKernels()[0].kernel, 'sparse-keras2/cpu-simd-rows');
      const inKernelMemory = values(table);
      assert.ok(inKernelMemory.buffer.byteLength > 3 * inKernelMemory.byteLength, 'a view into the kernel memory');
      const trained = Float32Array.from(table.dataSync());
      opt.dispose();
      const after = values(table);
      assert.equal(after.buffer.byteLength, after.byteLength, 'an array of its own');
      assertBitEqual(Float32Array.from(table.dataSync()), trained, 'values kept');
    } finally {
      table.dispose();
    }
  });
});
