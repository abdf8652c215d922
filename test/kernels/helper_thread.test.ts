/**
 * The cpu kernel's helper thread: a large step's tiles are updated by a second
 * thread while the main thread copies the next ones in (and runs tiles itself
 * when it would wait). Tiles are independent and run the same calls, so every
 * form, flavor and clipping mode must give, to the bit, what one thread gives;
 * for TF 2.4's rules also what the reference rules give. A variable listed
 * twice stays on one thread (its updates must run in order), the helper never
 * keeps a process alive, and turning it off is honoured at once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RMSprop, type RMSpropOptions } from '../../src/index.js';
import { THREAD_MIN_ELEMENTS } from '../../src/kernels/cpu/memory.js';
import { cpuSimdKernel } from '../../src/kernels/cpu/simd.js';
import { helperThreadPossible, helperThreadReady, setHelperThreadEnabled } from '../../src/kernels/cpu/helper_thread.js';
import { setFastKernelsEnabled } from '../../src/kernels/registry.js';
import { TILE_ELEMENTS } from '../../src/kernels/simd/tiles.js';
import { denseStep } from '../../src/rules/keras2.js';
import type { DenseState, UpdateForm } from '../../src/rules/types.js';
import { f32 } from '../../src/util/f32.js';
import { assertClose, tf, useBackend } from '../support/tf.js';
import { assertSameFloats, formName, FORMS, randomGrad, randomValues, rng } from './support.js';

/** One variable over the threshold with a ragged end, one smaller than a tile, one that starts mid-tile. */
const SIZES = [THREAD_MIN_ELEMENTS + 3 * TILE_ELEMENTS + 7, 1001, TILE_ELEMENTS + 5];

interface Run {
  w: Float32Array[];
  slots: Float32Array[][];
  kernels: string[];
}

/** `steps` seeded steps of an optimizer made with `options`; `threads` says whether the helper may run. */
async function train(options: RMSpropOptions, sizes: readonly number[], steps: number, seed: number, threads: boolean): Promise<Run> {
  if (threads) await helperOn();
  else setHelperThreadEnabled(false);
  const r = rng(seed);
  const opt = new RMSprop(options);
  const vars = sizes.map((n) => tf.tidy(() => tf.variable(tf.tensor(randomValues(n, r)))));
  const kernels: string[] = [];
  try {
    for (let step = 0; step < steps; step++) {
      const grads = sizes.map((n) => tf.tensor(randomGrad(n, r)));
      opt.applyGradients(grads.map((g, i) => [g, vars[i]] as const));
      tf.dispose(grads);
      kernels.push(...new Set(opt.lastStepKernels().map((c) => c.kernel)));
    }
    return {
      w: vars.map((v) => v.dataSync() as Float32Array),
      slots: vars.map((v) => opt.getSlotNames().map((name) => opt.getSlot(v, name).dataSync() as Float32Array)),
      kernels,
    };
  } finally {
    opt.dispose();
    tf.dispose(vars);
  }
}

async function helperOn(): Promise<void> {
  setHelperThreadEnabled(true);
  assert.equal(await helperThreadReady(), true, 'the helper thread started');
}

function assertSameRuns(a: Run, b: Run, what: string): void {
  a.w.forEach((w, i) => assertSameFloats(w, b.w[i], `${what}: variable ${i}`));
  a.slots.forEach((slots, i) => {
    assert.equal(slots.length, b.slots[i].length, `${what}: slots of variable ${i}`);
    slots.forEach((s, j) => assertSameFloats(s, b.slots[i][j], `${what}: slot ${j} of variable ${i}`));
  });
}

const CLIPS: ReadonlyArray<[string, RMSpropOptions]> = [
  ['no clipping', {}],
  ['clipvalue', { clipvalue: 1e-3 }],
  ['clipnorm', { clipnorm: 0.5 }],
  ['globalClipnorm', { globalClipnorm: 0.5 }],
];

test('setHelperThreadEnabled takes a boolean only, and changes nothing otherwise', () => {
  const before = setHelperThreadEnabled(true);
  for (const bad of ['false', 0, 1, null, undefined]) {
    assert.throws(() => setHelperThreadEnabled(bad as unknown as boolean), (e: Error) => e instanceof TypeError && /`on` must be true or false, got/.test(e.message) && e.message.includes(String(bad)));
    assert.equal(setHelperThreadEnabled(true), true, `still on after ${String(bad)}`);
  }
  setHelperThreadEnabled(before);
});

describe('cpu kernel with its helper thread', { skip: helperThreadPossible() ? false : 'no helper thread possible here (needs Node 20.16+ and two cores)' }, () => {
  before(async () => { await useBackend('cpu'); });
  after(() => { setHelperThreadEnabled(true); });

  for (const form of FORMS) {
    const options = { learningRate: 0.01, rho: 0.9, momentum: form.path === 'momentum' ? 0.5 : 0, centered: form.centered, epsilon: 1e-7 };
    for (const [clipName, clip] of CLIPS) {
      test(`${formName(form)}, ${clipName}: bit-equal to one thread`, async () => {
        const threaded = await train({ ...options, ...clip }, SIZES, 3, 11, true);
        const single = await train({ ...options, ...clip }, SIZES, 3, 11, false);
        // The helper starts before the first step (awaited), so every step uses it.
        assert.deepEqual(threaded.kernels, ['cpu-simd-threaded', 'cpu-simd-threaded', 'cpu-simd-threaded']);
        assert.deepEqual(single.kernels, ['cpu-simd', 'cpu-simd', 'cpu-simd']);
        assertSameRuns(threaded, single, `${formName(form)} ${clipName}`);
      });
    }
  }

  test('TF 2.4 rules: threaded steps equal the reference rules', async () => {
    for (const form of FORMS) {
      const r = rng(5);
      const sizes = [SIZES[0]];
      const run = await train({ learningRate: 0.01, rho: 0.9, momentum: form.path === 'momentum' ? 0.5 : 0, centered: form.centered, epsilon: 1e-7 }, sizes, 2, 5, true);
      const s = { lr: f32(0.01), rho: f32(0.9), oneMinusRho: f32(1 - f32(0.9)), momentum: f32(0.5), epsilon: f32(1e-7) };
      const ref: DenseState = {
        w: randomValues(sizes[0], r), ms: new Float32Array(sizes[0]),
        ...(form.path === 'momentum' ? { mom: new Float32Array(sizes[0]) } : {}),
        ...(form.centered ? { mg: new Float32Array(sizes[0]) } : {}),
      };
      for (let step = 0; step < 2; step++) denseStep(form as UpdateForm, s, randomGrad(sizes[0], r), ref);
      assertSameFloats(run.w[0], ref.w, `${formName(form)} w`);
      assertSameFloats(run.slots[0][0], ref.ms, `${formName(form)} ms`);
    }
  });

  for (const flavor of ['keras3', 'tfjs', 'pytorch'] as const) {
    for (const form of [FORMS[0], FORMS[3]]) {
      test(`${flavor} flavor, ${formName(form)}, weight decay: bit-equal to one thread`, async () => {
        const options: RMSpropOptions = {
          flavor, learningRate: 0.01, rho: 0.9, momentum: form.path === 'momentum' ? 0.5 : 0, centered: form.centered,
          epsilon: 1e-7, weightDecay: flavor === 'tfjs' ? 0 : 0.01,
        };
        const threaded = await train(options, SIZES, 3, 17, true);
        const single = await train(options, SIZES, 3, 17, false);
        assert.deepEqual(threaded.kernels, ['cpu-simd-threaded', 'cpu-simd-threaded', 'cpu-simd-threaded']);
        assertSameRuns(threaded, single, `${flavor} ${formName(form)}`);
      });
    }
  }

  test('a variable listed twice in one kernel call stays on one thread, updated twice in order', async () => {
    // The optimizer refuses duplicates; the kernel still applies them as the op chain would.
    await helperOn();
    const r = rng(12);
    const form = { path: 'momentum', centered: true } as const;
    const s = { lr: f32(0.01), rho: f32(0.9), oneMinusRho: f32(1 - f32(0.9)), momentum: f32(0.5), epsilon: f32(1e-7) };
    const n = SIZES[0];
    const make = (a: Float32Array) => tf.tidy(() => tf.variable(tf.tensor(a), false));
    const ref = { w: randomValues(n, r), ms: new Float32Array(n), mom: new Float32Array(n), mg: new Float32Array(n) };
    const part = {
      variable: make(ref.w.slice()),
      slots: { rms: make(ref.ms.slice()), momentum: make(ref.mom.slice()), mg: make(ref.mg.slice()) },
    };
    try {
      for (let step = 0; step < 2; step++) {
        const grads = [randomGrad(n, r), randomGrad(n, r)];
        const updates = grads.map((g) => ({ ...part, grad: tf.tensor(g) }));
        let report: unknown;
        tf.tidy(() => { report = cpuSimdKernel.run(updates, form, s); });
        tf.dispose(updates.map((u) => u.grad));
        assert.equal(report, undefined, 'ran as cpu-simd, on one thread');
        for (const g of grads) denseStep(form, s, g, ref);
        assertSameFloats(part.variable.dataSync(), ref.w, `step ${step} w`);
        assertSameFloats(part.slots.rms.dataSync(), ref.ms, `step ${step} ms`);
        assertSameFloats(part.slots.momentum.dataSync(), ref.mom, `step ${step} mom`);
        assertSameFloats(part.slots.mg.dataSync(), ref.mg, `step ${step} mg`);
      }
    } finally {
      cpuSimdKernel.release?.(part.variable, part.slots);
      tf.dispose([part.variable, part.slots.rms, part.slots.momentum, part.slots.mg]);
    }
  });

  test('a tfjs-layers model trained with fit (clipnorm): threaded steps equal one thread to the bit, and the op chain', async () => {
    const run = async (mode: 'threaded' | 'one thread' | 'op chain'): Promise<{ weights: Float32Array[]; kernels: string[] }> => {
      if (mode === 'threaded') await helperOn();
      else setHelperThreadEnabled(false);
      const previous = setFastKernelsEnabled(mode !== 'op chain');
      const model = tf.sequential({
        layers: [
          // 1024 × 1024 + 1024 parameters: a step just over THREAD_MIN_ELEMENTS.
          tf.layers.dense({ inputShape: [1024], units: 1024, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
          tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
        ],
      });
      const opt = new RMSprop({ learningRate: 0.001, momentum: 0.9, centered: true, clipnorm: 1 });
      model.compile({ optimizer: opt, loss: 'meanSquaredError' });
      const r = rng(8);
      const xs = tf.tensor(randomValues(32 * 1024, r), [32, 1024]);
      const ys = tf.tensor(randomValues(32 * 3, r), [32, 3]);
      try {
        await model.fit(xs, ys, { epochs: 2, batchSize: 16, shuffle: false, verbose: 0 });
        return {
          weights: model.getWeights().map((w) => Float32Array.from(w.dataSync())),
          kernels: [...new Set(opt.lastStepKernels().map((c) => c.kernel))],
        };
      } finally {
        tf.dispose([xs, ys]);
        model.dispose();
        opt.dispose();
        setFastKernelsEnabled(previous);
      }
    };
    const threaded = await run('threaded');
    const one = await run('one thread');
    const chain = await run('op chain');
    assert.deepEqual(threaded.kernels, ['cpu-simd-threaded']);
    assert.deepEqual(one.kernels, ['cpu-simd']);
    assert.deepEqual(chain.kernels, ['tfops']);
    threaded.weights.forEach((w, i) => assertSameFloats(w, one.weights[i], `weight ${i}, threaded vs one thread`));
    // clipnorm's float64 norm differs from the op chain's float32 sum by the order of summation only.
    threaded.weights.forEach((w, i) => assertClose(w, chain.weights[i], 1e-5, 1e-6, `weight ${i}, threaded vs op chain`));
  });

  test('an engine that refuses a shared memory: the large step runs on one thread, equal to the bit', async () => {
    const RealMemory = WebAssembly.Memory;
    const refusing = function Memory(descriptor: WebAssembly.MemoryDescriptor): WebAssembly.Memory {
      if (descriptor.shared) throw new RangeError('WebAssembly.Memory(): shared memory is not allowed');
      return new RealMemory(descriptor);
    };
    const options = { learningRate: 0.01, momentum: 0.9, centered: true };
    const expected = await train(options, SIZES, 2, 29, false);
    (WebAssembly as { Memory: unknown }).Memory = refusing;
    let got: Run;
    try {
      got = await train(options, SIZES, 2, 29, true);
    } finally {
      (WebAssembly as { Memory: unknown }).Memory = RealMemory;
    }
    assert.deepEqual(got.kernels, ['cpu-simd', 'cpu-simd']);
    assertSameRuns(got, expected, 'shared memory refused');
  });

  test('steps below the threshold run on one thread', async () => {
    const run = await train({ learningRate: 0.01 }, [THREAD_MIN_ELEMENTS - 4], 1, 3, true);
    assert.deepEqual(run.kernels, ['cpu-simd']);
  });

  test('turned off between steps, the next step runs on one thread', async () => {
    await helperOn();
    const opt = new RMSprop({ learningRate: 0.01 });
    const v = tf.tidy(() => tf.variable(tf.zeros([SIZES[0]])));
    const g = tf.ones([SIZES[0]]);
    try {
      opt.applyGradients([[g, v]]);
      assert.equal(opt.lastStepKernels()[0].kernel, 'cpu-simd-threaded');
      assert.equal(setHelperThreadEnabled(false), true);
      opt.applyGradients([[g, v]]);
      assert.equal(opt.lastStepKernels()[0].kernel, 'cpu-simd');
      assert.equal(await helperThreadReady(), false);
    } finally {
      setHelperThreadEnabled(true);
      opt.dispose();
      tf.dispose([v, g]);
    }
  });

  test('a disposed optimizer leaves its variable a plain, unshared array', async () => {
    await helperOn();
    const opt = new RMSprop({ learningRate: 0.01 });
    const v = tf.tidy(() => tf.variable(tf.zeros([SIZES[0]])));
    const g = tf.ones([SIZES[0]]);
    opt.applyGradients([[g, v]]);
    assert.ok(v.dataSync().buffer instanceof SharedArrayBuffer, 'placed in the shared memory while the optimizer lives');
    const before = v.dataSync().slice() as Float32Array;
    opt.dispose();
    assert.ok(v.dataSync().buffer instanceof ArrayBuffer && !(v.dataSync().buffer instanceof SharedArrayBuffer));
    assertSameFloats(v.dataSync(), before, 'values kept');
    tf.dispose([v, g]);
  });

  test('weights in the shared memory save and load through tf.io', async () => {
    await helperOn();
    const opt = new RMSprop({ learningRate: 0.01, momentum: 0.9 });
    const v = tf.tidy(() => tf.variable(tf.randomUniform([SIZES[0]])));
    const g = tf.randomNormal([SIZES[0]]);
    try {
      opt.applyGradients([[g, v]]);
      const weights = await opt.getWeights();
      const { data, specs } = await tf.io.encodeWeights(weights);
      const decoded = tf.io.decodeWeights(data, specs);
      for (const { name, tensor } of weights) assertSameFloats(decoded[name].dataSync(), Float32Array.from(tensor.dataSync()), name);
      tf.dispose(Object.values(decoded));
    } finally {
      opt.dispose();
      tf.dispose([v, g]);
    }
  });

  test('a process that used the helper exits on its own', () => {
    const script = fileURLToPath(new URL('./helper_exit_fixture.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.signal, null, `killed after ${60} s: the helper kept the process alive`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /cpu-simd-threaded/);
  });
});
