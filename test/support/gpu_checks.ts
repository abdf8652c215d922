/**
 * The GPU checks, written once for the Chromium page (test/browser/gpu_page.ts)
 * and for Node's WebGPU (test/kernels/webgpu_node.test.ts): every trajectory
 * case of gpu_trajectory.ts, the optimizer's choice of kernel with the GPU work
 * one step issues, and the leak check. Results are plain data.
 */
import * as tf from '@tensorflow/tfjs-core';
import { IndexedSlices, RMSprop, type RMSpropOptions } from '../../src/index.js';
import { setFastKernelsEnabled } from '../../src/kernels/registry.js';
import type { KernelChoice } from '../../src/kernels/types.js';
import type { DenseKernel } from '../../src/kernels/types.js';
import { sumBlocks } from '../../src/kernels/webgl/programs.js';
import { sumShape, TREE_LEVELS } from '../../src/kernels/webgpu/shaders.js';
import { gpuCases, keras3Cases, runCase, type CaseResult, type GpuCase } from './gpu_trajectory.js';
import { sumRelativeBound } from './gpu_tolerance.js';

import { countGpuWork, type GpuBackend } from './gpu_work.js';

export type { GpuBackend } from './gpu_work.js';

/** The relative bound of each backend's float32 Σx² of n squares (see the kernels' sum programs). */
export const SUM_BOUND: Record<GpuBackend, (n: number) => number> = {
  webgl: (n) => { const { block, count } = sumBlocks(n); return sumRelativeBound(block, count); },
  webgpu: (n) => { const { perThread, workgroups } = sumShape(n); return sumRelativeBound(perThread + TREE_LEVELS, workgroups); },
};

/** A variable whose buffer is its own (tf.variable shares its initial tensor's). */
function ownVariable(init: tf.Tensor): tf.Variable {
  const v = tf.variable(init);
  init.dispose();
  return v;
}

export interface OptimizerStep {
  readonly kernels: readonly KernelChoice[];
  /** Draw calls or dispatches of the third step. */
  readonly gpuWork: number;
  /** Kernels tf.profile saw in that step (the engine's kernels: ours issue none). */
  readonly profiledKernels: number;
  /** |w − w on cpu| max over the variables after three steps, relative to max |w|. */
  readonly maxRelativeToCpu: number;
}

/** Calls of an optimizer with Keras 3's passes on a GPU backend against the same calls on cpu. */
export interface TrainingFeaturesReport {
  /** Per call on the GPU backend: what ran, the draws or dispatches issued, and the engine kernels tf.profile saw. */
  readonly calls: ReadonlyArray<{ readonly kernels: readonly KernelChoice[]; readonly gpuWork: number; readonly profiledKernels: number }>;
  /** Per weight of `getWeights()` after the calls: |x − x on cpu| max relative to max |x on cpu| (absolute when that is 0). */
  readonly weights: ReadonlyArray<{ readonly name: string; readonly maxRelativeToCpu: number }>;
}

export interface LeakReport {
  readonly tensorsAfter10: number;
  readonly tensorsAfter1000: number;
  readonly bytesAfter10: number;
  readonly bytesAfter1000: number;
  /** GPU bytes before the optimizer existed, and after its dispose (variables and gradients still alive). */
  readonly bytesBefore: number;
  readonly bytesAfterDispose: number;
  readonly tensorsBefore: number;
  readonly tensorsAfterDispose: number;
  readonly kernel: string;
}

export interface NonFiniteReport {
  /** Per poisoned or large step with nonFinite 'skip': what it was, whether it was skipped, whether the state stayed as it was. */
  readonly steps: ReadonlyArray<{ readonly value: string; readonly index: number; readonly skipped: boolean; readonly unchanged: boolean }>;
  /** What nonFinite 'error' threw for a NaN in the second variable's gradient, and whether the state stayed as it was. */
  readonly error: string | null;
  readonly errorUnchanged: boolean;
  /** The first error a 'skip' step threw (a backend that cannot read back synchronously), or null. */
  readonly skipThrew: string | null;
  /** The second variable's name, which 'error' must name. */
  readonly secondName: string;
  /** Tensors after the steps against before them. */
  readonly tensorsBefore: number;
  readonly tensorsAfter: number;
}

export interface GpuSparseReport {
  /** What the step threw, or null. */
  readonly threw: string | null;
  /** Whether the table changed, and the optimizer's iterations after the step. */
  readonly changed: boolean;
  readonly iterations: number;
  /** |table − the same step on cpu| max, relative to max |table| (when the step ran). */
  readonly maxRelativeToCpu: number;
  readonly tensorsBefore: number;
  readonly tensorsAfter: number;
}

function gpuBytes(): number {
  return (tf.memory() as { numBytesInGPU?: number }).numBytesInGPU ?? NaN;
}

export interface SharingReport {
  readonly kernel: string;
  readonly fallbackReason?: string;
  /** The tensor the variable was made from (sharing its buffer) still holds its values. */
  readonly otherUnchanged: boolean;
  readonly variableChanged: boolean;
}

export interface CacheReport {
  /** `data()` after the step equals what a GPU op reads from the buffer (no stale CPU copy). */
  readonly readMatchesGpu: boolean;
  readonly changed: boolean;
  readonly kernel: string;
}

/**
 * One step of a new optimizer on a variable made with `tf.variable(init)`, `init`
 * kept (so the two share a buffer): what ran, whether `init` kept its values and
 * whether the variable moved. Disposes `init` and the variable.
 */
export async function stepOnShared(
  init: tf.Tensor, options: RMSpropOptions, step: (opt: RMSprop, v: tf.Variable) => void,
): Promise<Pick<KernelChoice, 'kernel' | 'fallbackReason'> & { otherUnchanged: boolean; changed: boolean }> {
  const v = tf.variable(init);
  const before = Float32Array.from(await init.data());
  const opt = new RMSprop(options);
  try {
    step(opt, v);
    const [choice] = opt.lastStepKernels();
    const other = await init.data();
    const now = await v.data();
    return {
      kernel: choice.kernel, ...(choice.fallbackReason === undefined ? {} : { fallbackReason: choice.fallbackReason }),
      otherUnchanged: before.every((x, i) => x === other[i]),
      changed: before.some((x, i) => x !== now[i]),
    };
  } finally {
    opt.dispose();
    tf.dispose([init, v]);
  }
}

/**
 * WebGPU reports a bad bind group or pipeline as an uncaptured error and runs
 * on without the work: the checks collect them from every device they use.
 */
const gpuErrors: string[] = [];
const watchedDevices = new WeakSet<object>();

/** Collects the uncaptured errors of the active backend's WebGPU device (once per device). */
export function watchDevice(): void {
  const device = (tf.backend() as unknown as { device?: EventTarget }).device;
  if (device === undefined || watchedDevices.has(device)) return;
  watchedDevices.add(device);
  device.addEventListener('uncapturederror', (e) => {
    gpuErrors.push(String((e as Event & { error?: { message?: string } }).error?.message ?? e.type));
  });
}

/** The WebGPU errors reported so far on the devices the checks used, once the queued work has completed. */
export async function uncapturedErrors(): Promise<string[]> {
  const device = (tf.backend() as unknown as { device?: { queue: { onSubmittedWorkDone(): Promise<void> } } }).device;
  if (device !== undefined) await device.queue.onSubmittedWorkDone();
  return [...gpuErrors];
}

export function gpuChecks(kernels: Record<GpuBackend, DenseKernel>, setBackend: (name: string) => Promise<boolean>) {
  const use = async (backend: string): Promise<void> => {
    if (!(await setBackend(backend))) throw new Error(`the ${backend} backend did not start`);
    await tf.ready();
    if (backend === 'webgpu') watchDevice();
  };
  return {
    uncapturedErrors,

    /** Backends that start here. */
    async backends(): Promise<string[]> {
      const out: string[] = [];
      for (const b of ['webgl', 'webgpu']) if (await setBackend(b)) out.push(b);
      return out;
    },

    caseCount(steps: number): number {
      return gpuCases([[1]], steps).length;
    },

    /** Trajectory case `index` of keras3Cases(shapes, steps) on `backend` (for a kernel that folds Keras 3's passes). */
    async runKeras3Case(backend: GpuBackend, index: number, shapes: number[][], steps: number): Promise<CaseResult> {
      await use(backend);
      return runCase(kernels[backend], keras3Cases(shapes, steps)[index], SUM_BOUND[backend]);
    },

    /** A trajectory case given whole (the fuzz draws them) on `backend`. */
    async runGivenCase(backend: GpuBackend, c: GpuCase): Promise<CaseResult> {
      await use(backend);
      return runCase(kernels[backend], c, SUM_BOUND[backend]);
    },

    /** Trajectory case `index` of gpuCases(shapes, steps) on `backend`. */
    async runCase(backend: GpuBackend, index: number, shapes: number[][], steps: number): Promise<CaseResult> {
      await use(backend);
      return runCase(kernels[backend], gpuCases(shapes, steps)[index], SUM_BOUND[backend]);
    },

    /** Three optimizer steps on `backend` with `options`; the kernels it chose and the work of one step. */
    async optimizerStep(backend: GpuBackend, options: RMSpropOptions, shapes: number[][]): Promise<OptimizerStep> {
      const finals: Float32Array[][] = [];
      let kernelsSeen: readonly KernelChoice[] = [];
      let gpuWork = 0;
      let profiledKernels = 0;
      for (const name of [backend, 'cpu']) {
        await use(name);
        const vars = shapes.map((s, k) => ownVariable(tf.randomNormal(s, 0, 1, 'float32', 10 + k)));
        const grads = shapes.map((s, k) => tf.randomNormal(s, 0, 1, 'float32', 20 + k));
        const opt = new RMSprop(options);
        const step = () => { opt.applyGradients(grads.map((g, k) => [g, vars[k]] as const)); };
        step();
        step();
        if (name === backend) {
          // Both counts from the same kind of step: the GPU work issued, and what the engine's profiler sees.
          gpuWork = await countGpuWork(backend, step);
          kernelsSeen = opt.lastStepKernels();
          profiledKernels = (await tf.profile(() => { step(); })).kernels.length;
        } else {
          step();
          step();
        }
        finals.push(await Promise.all(vars.map(async (v) => await v.data() as Float32Array)));
        opt.dispose();
        tf.dispose([...vars, ...grads]);
      }
      let worst = 0;
      finals[0].forEach((w, k) => {
        const ref = finals[1][k];
        const scale = ref.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
        for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(w[i] - ref[i]) / scale);
      });
      return { kernels: kernelsSeen, gpuWork, profiledKernels, maxRelativeToCpu: worst };
    },

    /**
     * `calls` calls of an optimizer with `options` on `backend` and on cpu, a new
     * gradient each call (the same on both): per call on `backend` what ran and
     * the GPU work issued, then every weight (`getWeights()`: slots, EMA,
     * accumulators) against cpu's.
     */
    async trainingFeatures(backend: GpuBackend, options: RMSpropOptions, shapes: number[][], calls: number): Promise<TrainingFeaturesReport> {
      const out: Array<TrainingFeaturesReport['calls'][number]> = [];
      const weights: Array<Array<readonly [string, Float32Array]>> = [];
      for (const name of [backend, 'cpu']) {
        await use(name);
        const vars = shapes.map((s, k) => ownVariable(tf.randomNormal(s, 0, 1, 'float32', 10 + k)));
        const opt = new RMSprop(options);
        for (let c = 0; c < calls; c++) {
          const grads = shapes.map((s, k) => tf.randomNormal(s, 0, 1, 'float32', 100 * (c + 1) + k));
          const step = (): void => { opt.applyGradients(grads.map((g, k) => [g, vars[k]] as const)); };
          if (name === backend) {
            // On the GPU before the call (as a model's gradients are): on WebGL an upload is a draw.
            tf.dispose(grads.map((g) => tf.mul(g, 1)));
            let profiledKernels = 0;
            const gpuWork = await countGpuWork(backend, async () => { profiledKernels = (await tf.profile(step)).kernels.length; });
            out.push({ kernels: opt.lastStepKernels(), gpuWork, profiledKernels });
          } else {
            step();
          }
          tf.dispose(grads);
        }
        const ws = await opt.getWeights();
        weights.push(await Promise.all(ws.map(async (w) => [w.name, Float32Array.from(await w.tensor.data())] as const)));
        tf.dispose(ws.map((w) => w.tensor));
        opt.dispose();
        tf.dispose(vars);
      }
      const [gpu, cpu] = weights;
      return {
        calls: out,
        // In the same order on both (the variables' generated names differ).
        weights: cpu.map(([name, ref], i) => {
          const got = gpu[i]?.[1];
          if (got === undefined || got.length !== ref.length) return { name, maxRelativeToCpu: Infinity };
          const scale = ref.reduce((m, x) => Math.max(m, Math.abs(x)), 0) || 1;
          let worst = 0;
          for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]) / scale);
          return { name, maxRelativeToCpu: worst };
        }),
      };
    },

    /** A variable made with tf.variable(t), t kept: its buffer is shared. */
    async sharing(backend: GpuBackend): Promise<SharingReport> {
      await use(backend);
      const g = tf.randomNormal([2000], 0, 1, 'float32', 6);
      try {
        const { changed, ...r } = await stepOnShared(tf.randomNormal([2000], 0, 1, 'float32', 5), { learningRate: 0.01 }, (opt, v) => {
          opt.applyGradients([[g, v]]);
        });
        return { ...r, variableChanged: changed };
      } finally {
        g.dispose();
      }
    },

    /**
     * Gradients that are tensors the step writes: b's gradient is variable a, c's is c itself.
     * Returns max |fused − op chain| / max |op chain| over the variables after three steps.
     */
    async aliasedGradients(backend: GpuBackend, clipnorm?: number): Promise<{ kernels: string[]; maxRelativeToOpChain: number }> {
      await use(backend);
      const finals: Float32Array[][] = [];
      let kernels: string[] = [];
      for (const fast of [true, false]) {
        const previous = setFastKernelsEnabled(fast);
        const vars = [0, 1, 2].map((k) => ownVariable(tf.randomNormal([1500], 0, 1, 'float32', 30 + k)));
        const ga = tf.randomNormal([1500], 0, 1, 'float32', 40);
        const opt = new RMSprop({ learningRate: 0.01, momentum: 0.5, ...(clipnorm === undefined ? {} : { clipnorm }) });
        try {
          for (let i = 0; i < 3; i++) opt.applyGradients([[ga, vars[0]], [vars[0], vars[1]], [vars[2], vars[2]]]);
          if (fast) kernels = opt.lastStepKernels().map((c) => c.kernel);
          finals.push(await Promise.all(vars.map(async (v) => Float32Array.from(await v.data()))));
        } finally {
          setFastKernelsEnabled(previous);
          opt.dispose();
          tf.dispose([...vars, ga]);
        }
      }
      let worst = 0;
      finals[0].forEach((w, k) => {
        const ref = finals[1][k];
        const scale = ref.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
        for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(w[i] - ref[i]) / scale);
      });
      return { kernels, maxRelativeToOpChain: worst };
    },

    /** Values read (and cached on the CPU) before a step, then read again after it. */
    async cpuCache(backend: GpuBackend): Promise<CacheReport> {
      await use(backend);
      const v = ownVariable(tf.randomNormal([3000], 0, 1, 'float32', 7));
      const g = tf.randomNormal([3000], 0, 1, 'float32', 8);
      const opt = new RMSprop({ learningRate: 0.01, momentum: 0.9 });
      opt.applyGradients([[g, v]]);
      const first = Float32Array.from(await v.data());
      opt.applyGradients([[g, v]]);
      const read = await v.data();
      const copy = tf.add(v, 0);
      const gpu = await copy.data();
      const report = {
        readMatchesGpu: read.every((x, i) => x === gpu[i]),
        changed: first.some((x, i) => x !== read[i]),
        kernel: opt.lastStepKernels()[0].kernel,
      };
      opt.dispose();
      tf.dispose([v, g, copy]);
      return report;
    },

    /**
     * nonFinite on the GPU: NaN, +Infinity and −Infinity at the first, a middle and the
     * last element of a 70,000-element gradient (several workgroups or texture rows), and
     * the largest finite float32, with 'skip'; then 'error' with a NaN in the second variable.
     */
    async nonFinite(backend: GpuBackend): Promise<NonFiniteReport> {
      await use(backend);
      const n = 70_000;
      const a = ownVariable(tf.randomNormal([n], 0, 1, 'float32', 50));
      const b = ownVariable(tf.randomNormal([7], 0, 1, 'float32', 51));
      const base = tf.randomNormal([n], 0, 1, 'float32', 52);
      const values = Float32Array.from(await base.data());
      base.dispose();
      const small = Float32Array.from([0.5, -1, 2, 0.25, 1, -0.5, 3]);
      const state = async (): Promise<Float32Array[]> => Promise.all([a, b].map(async (v) => Float32Array.from(await v.data())));
      const same = (x: Float32Array[], y: Float32Array[]): boolean => x.every((arr, k) => arr.every((v, i) => Object.is(v, y[k][i])));
      const tensorsBefore = tf.memory().numTensors;
      const steps: Array<{ value: string; index: number; skipped: boolean; unchanged: boolean }> = [];
      let skipThrew: string | null = null;
      const opt = new RMSprop({ learningRate: 0.01, momentum: 0.9, nonFinite: 'skip' });
      // A finite step first, so that slots exist and a skipped step has something to leave alone.
      try {
        tf.tidy(() => opt.applyGradients([[tf.tensor1d(values), a], [tf.tensor1d(small), b]]));
      } catch (e) {
        skipThrew = (e as Error).message;
      }
      for (const [value, index] of [[NaN, 0], [Infinity, 35_001], [-Infinity, n - 1], [3.4028234663852886e38, 12_345]]) {
        const poisoned = Float32Array.from(values);
        poisoned[index] = value;
        const before = await state();
        const skippedBefore = opt.skippedSteps;
        try {
          tf.tidy(() => opt.applyGradients([[tf.tensor1d(poisoned), a], [tf.tensor1d(small), b]]));
        } catch (e) {
          skipThrew ??= (e as Error).message;
        }
        steps.push({ value: String(value), index, skipped: opt.skippedSteps === skippedBefore + 1, unchanged: same(before, await state()) });
      }
      opt.dispose();
      const strict = new RMSprop({ learningRate: 0.01, nonFinite: 'error' });
      let error: string | null = null;
      const before = await state();
      try {
        tf.tidy(() => strict.applyGradients([[tf.tensor1d(values), a], [tf.tensor1d(Float32Array.from(small).fill(NaN, 3, 4)), b]]));
      } catch (e) {
        error = (e as Error).message;
      }
      const errorUnchanged = same(before, await state());
      strict.dispose();
      const tensorsAfter = tf.memory().numTensors;
      const secondName = b.name;
      tf.dispose([a, b]);
      return { steps, error, errorUnchanged, skipThrew, secondName, tensorsBefore, tensorsAfter };
    },

    /**
     * A sparse step whose IndexedSlices values were computed on the GPU (2,048 of them,
     * so TF.js does not compute them on the CPU): their host copy is read back synchronously.
     */
    async sparseFromGpu(backend: GpuBackend): Promise<GpuSparseReport> {
      const run = async (name: string): Promise<{ threw: string | null; before: Float32Array; after: Float32Array; iterations: number; tensors: [number, number] }> => {
        await use(name);
        const table = ownVariable(tf.randomNormal([500, 32], 0, 1, 'float32', 60));
        const before = Float32Array.from(await table.data());
        const raw = tf.randomNormal([64, 32], 0, 1, 'float32', 61);
        const values = tf.mul(raw, 2);
        raw.dispose();
        const tensorsBefore = tf.memory().numTensors;
        const opt = new RMSprop({ learningRate: 0.01, momentum: 0.9 });
        let threw: string | null = null;
        try {
          opt.applyGradients([[new IndexedSlices(values, Int32Array.from({ length: 64 }, (_, i) => (i * 7) % 500)), table]]);
        } catch (e) {
          threw = (e as Error).message;
        }
        const after = Float32Array.from(await table.data());
        const iterations = opt.iterations;
        opt.dispose();
        const tensorsAfter = tf.memory().numTensors;
        tf.dispose([table, values]);
        return { threw, before, after, iterations, tensors: [tensorsBefore, tensorsAfter] };
      };
      const gpu = await run(backend);
      const cpu = await run('cpu');
      const scale = cpu.after.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      let worst = 0;
      for (let i = 0; i < gpu.after.length; i++) worst = Math.max(worst, Math.abs(gpu.after[i] - cpu.after[i]) / scale);
      return {
        threw: gpu.threw, changed: gpu.after.some((x, i) => x !== gpu.before[i]), iterations: gpu.iterations,
        maxRelativeToCpu: worst, tensorsBefore: gpu.tensors[0], tensorsAfter: gpu.tensors[1],
      };
    },

    /** 1,000 steps of an optimizer on two variables; counts after 10 and 1,000 steps and after dispose. */
    async leaks(backend: GpuBackend, options: RMSpropOptions): Promise<LeakReport> {
      await use(backend);
      const a = ownVariable(tf.randomNormal([40, 30], 0, 1, 'float32', 1));
      const b = ownVariable(tf.randomNormal([1031], 0, 1, 'float32', 2));
      const ga = tf.randomNormal([40, 30], 0, 1, 'float32', 3);
      const gb = tf.randomNormal([1031], 0, 1, 'float32', 4);
      // One step of a throwaway optimizer first: it puts the variables and gradients on the GPU
      // in the kernel's texture layout (WebGL counts packed and unpacked textures differently),
      // so the bytes counted before and after are those of the same four tensors.
      // (Both sizes are over those below which the backends compute on the CPU instead.)
      const warm = new RMSprop(options);
      warm.applyGradients([[ga, a], [gb, b]]);
      warm.dispose();
      await a.data();
      const tensorsBefore = tf.memory().numTensors;
      const bytesBefore = gpuBytes();
      const opt = new RMSprop(options);
      const step = () => { opt.applyGradients([[ga, a], [gb, b]]); };
      for (let i = 0; i < 10; i++) step();
      await a.data();
      const tensorsAfter10 = tf.memory().numTensors;
      const bytesAfter10 = gpuBytes();
      for (let i = 0; i < 990; i++) {
        step();
        if (i % 100 === 99) await a.data(); // let the queue drain now and then, as training does
      }
      await a.data();
      const tensorsAfter1000 = tf.memory().numTensors;
      const bytesAfter1000 = gpuBytes();
      const kernel = [...new Set(opt.lastStepKernels().map((c) => c.kernel))].join('+');
      opt.dispose();
      await a.data();
      const report = {
        tensorsAfter10, tensorsAfter1000, bytesAfter10, bytesAfter1000, bytesBefore, bytesAfterDispose: gpuBytes(),
        tensorsBefore, tensorsAfterDispose: tf.memory().numTensors, kernel,
      };
      tf.dispose([a, b, ga, gb]);
      return report;
    },
  };
}

export type GpuChecks = ReturnType<typeof gpuChecks>;
