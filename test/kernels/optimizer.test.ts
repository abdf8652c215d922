/**
 * Through the optimizer: models of many variables train identically (to the bit)
 * with the fused kernels and with the op chain, the fused kernel is the one that
 * ran, and steady-state steps create no tensor and no buffer.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RMSprop } from '../../src/index.js';
import { setFastKernelsEnabled } from '../../src/kernels/registry.js';
import { BACKENDS, tf, useBackend } from '../support/tf.js';
import { assertSameFloats, randomValues, rng } from './support.js';

const FAST: Record<(typeof BACKENDS)[number], string> = { cpu: 'cpu-simd', wasm: 'wasm-simd' };
const CONFIGS = [
  { momentum: 0, centered: false },
  { momentum: 0, centered: true },
  { momentum: 0.9, centered: false },
  { momentum: 0.9, centered: true },
];

/** 150 variables of mixed shapes and a loss touching all of them; returns final values and slots. */
function trainManyVariables(config: object, fast: boolean, kernelNames: Set<string>): Float32Array[] {
  const previous = setFastKernelsEnabled(fast);
  const r = rng(7);
  const vars = Array.from({ length: 150 }, (_, i) => {
    const shape = i % 3 === 0 ? [i % 7 + 1, 5] : [i % 11 + 1];
    const n = shape.reduce((a, b) => a * b, 1);
    return tf.tidy(() => tf.variable(tf.tensor(randomValues(n, r), shape), true, `many_${fast}_${i}`));
  });
  const opt = new RMSprop({ learningRate: 0.01, ...config });
  try {
    for (let step = 0; step < 25; step++) {
      opt.minimize(() => tf.addN(vars.map((v, i) => tf.sum(tf.mul(tf.sin(tf.mul(v, i % 5 + 1)), tf.square(v))))) as tf.Scalar, vars);
      for (const c of opt.lastStepKernels()) kernelNames.add(c.kernel);
    }
    const out: Float32Array[] = [];
    for (const v of vars) {
      out.push(Float32Array.from(v.dataSync()));
      for (const slot of opt.getSlotNames()) out.push(Float32Array.from(opt.getSlot(v, slot).dataSync()));
    }
    return out;
  } finally {
    opt.dispose();
    tf.dispose(vars);
    setFastKernelsEnabled(previous);
  }
}

for (const backend of BACKENDS) {
  describe(`optimizer with fused kernels (${backend})`, () => {
    before(() => useBackend(backend));

    for (const config of CONFIGS) {
      test(`150 variables, ${JSON.stringify(config)}: the fused kernel ran and training equals the op chain to the bit`, () => {
        const fastNames = new Set<string>();
        const refNames = new Set<string>();
        const fast = trainManyVariables(config, true, fastNames);
        const ref = trainManyVariables(config, false, refNames);
        assert.deepEqual([...fastNames], [FAST[backend]]);
        assert.deepEqual([...refNames], ['tfops']);
        fast.forEach((a, i) => assertSameFloats(a, ref[i], `array ${i}`));
      });
    }

    test('a tfjs-layers model trained with fit equals the op chain to the bit', async () => {
      const run = async (fast: boolean): Promise<Float32Array[]> => {
        const previous = setFastKernelsEnabled(fast);
        const model = tf.sequential({
          layers: [
            tf.layers.dense({ inputShape: [6], units: 16, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
            tf.layers.dense({ units: 9, activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
            tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
          ],
        });
        const opt = new RMSprop({ learningRate: 0.01, momentum: 0.9, centered: true });
        model.compile({ optimizer: opt, loss: 'meanSquaredError' });
        const r = rng(3);
        const xs = tf.tensor(randomValues(64 * 6, r), [64, 6]);
        const ys = tf.tensor(randomValues(64 * 3, r), [64, 3]);
        try {
          await model.fit(xs, ys, { epochs: 4, batchSize: 16, shuffle: false, verbose: 0 });
          assert.deepEqual([...new Set(opt.lastStepKernels().map((c) => c.kernel))], [fast ? FAST[backend] : 'tfops']);
          return model.getWeights().map((w) => Float32Array.from(w.dataSync()));
        } finally {
          tf.dispose([xs, ys]);
          model.dispose();
          opt.dispose();
          setFastKernelsEnabled(previous);
        }
      };
      const fast = await run(true);
      const ref = await run(false);
      fast.forEach((a, i) => assertSameFloats(a, ref[i], `weight ${i}`));
    });

    test('steady state: no tensor, no backend buffer and no new memory per step', () => {
      const r = rng(11);
      const vars = [100_003, 37].map((n) => tf.tidy(() => tf.variable(tf.tensor(randomValues(n, r)))));
      const grads = vars.map((v) => tf.tensor(randomValues(v.size, r), v.shape));
      const opt = new RMSprop({ learningRate: 0.001, momentum: 0.9, centered: true });
      const step = () => opt.applyGradients(grads.map((g, i) => [g, vars[i]] as const));
      const heapBytes = (): number => {
        const b = tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } };
        return b.wasm ? b.wasm.HEAPU8.buffer.byteLength : 0;
      };
      try {
        step();
        step();
        assert.ok(opt.lastStepKernels().every((c) => c.kernel === FAST[backend]), JSON.stringify(opt.lastStepKernels()));
        const before = { ...tf.memory(), heap: heapBytes() };
        // On cpu the slots live in a private memory chunk made once: its views must stay the same objects.
        const slotData = opt.getSlotNames().map((s) => opt.getSlot(vars[0], s).dataSync());
        for (let i = 0; i < 200; i++) step();
        const after = { ...tf.memory(), heap: heapBytes() };
        assert.equal(after.numTensors, before.numTensors);
        assert.equal(after.numDataBuffers, before.numDataBuffers);
        assert.equal(after.numBytes, before.numBytes);
        assert.equal(after.heap, before.heap);
        if (backend === 'cpu') {
          opt.getSlotNames().forEach((s, i) => assert.equal(opt.getSlot(vars[0], s).dataSync(), slotData[i], `${s} moved`));
        }
      } finally {
        opt.dispose();
        tf.dispose([...vars, ...grads]);
      }
    });
  });
}
