/**
 * The GPU row-kernel checks, written once for the Chromium page
 * (test/browser/gpu_page.ts) and Node's WebGPU (test/kernels/webgpu_node.test.ts):
 * the trajectories of gpu_rows.ts, sparse training through the optimizer (its
 * catch-ups from embeddingLookup and finalizeVariableValues included) against
 * the reference row loops on cpu, a table that shares its buffer, fresh reads,
 * and the leak check. Results are plain data.
 */
import * as tf from '@tensorflow/tfjs-core';
import { embeddingLookup, IndexedSlices, RMSprop, type RMSpropOptions } from '../../src/index.js';
import { setFastKernelsEnabled } from '../../src/kernels/registry.js';
import type { RowKernel } from '../../src/kernels/types.js';
import { mulberry32 } from '../../app/random.js';
import { rowCases, runRowCase, type RowCase } from './gpu_rows.js';
import { stepOnShared, uncapturedErrors, watchDevice } from './gpu_checks.js';
import type { CaseResult } from './gpu_trajectory.js';
import { countGpuWork, isPacked, texturedCopy, type GpuBackend } from './gpu_work.js';

export interface SparseTraining {
  /** Kernels `lastStepKernels()` reported for the sparse steps. */
  readonly kernels: readonly string[];
  /** Jobs the row kernel ran: with gradient rows, and catch-ups only (embeddingLookup, finalizeVariableValues). */
  readonly sparseJobs: number;
  readonly catchUpJobs: number;
  /** Draws or dispatches of one sparse step (after the first steps have put the state on the GPU). */
  readonly gpuWork: number;
  /** Engine kernels tf.profile saw in that step. */
  readonly profiledKernels: number;
  /** max |gpu − reference| over the table and each slot, relative to the tensor's max |reference|. */
  readonly maxRelativeToReference: number;
}

export interface RowSharingReport {
  readonly kernel: string;
  readonly fallbackReason?: string;
  readonly otherUnchanged: boolean;
  readonly tableChanged: boolean;
}

export interface SliceReport {
  /** The step's kernel while a slice of the table is alive, and after it is disposed. */
  readonly kernelWithSlice: string;
  readonly fallbackReason?: string;
  readonly kernelAfter: string;
  /** The slice kept the values it was taken with. */
  readonly sliceUnchanged: boolean;
}

export interface RowLeakReport {
  readonly tensorsBefore: number;
  readonly tensorsAfter10: number;
  readonly tensorsAfter1000: number;
  readonly tensorsAfterDispose: number;
  readonly bytesBefore: number;
  readonly bytesAfter10: number;
  readonly bytesAfter1000: number;
  readonly bytesAfterDispose: number;
  readonly kernel: string;
}

function gpuBytes(): number {
  return (tf.memory() as { numBytesInGPU?: number }).numBytesInGPU ?? NaN;
}

function ownVariable(init: tf.Tensor): tf.Variable {
  const v = tf.variable(init);
  init.dispose();
  return v;
}

/** `count` gradient rows of a table of `shape`, some of them for the same row (7). */
function randomSlices(r: () => number, shape: readonly number[], count: number): IndexedSlices {
  const rowShape = shape.slice(1);
  const dim = rowShape.reduce((a, b) => a * b, 1);
  const ids = Array.from({ length: count }, (_, i) => (i % 5 === 4 ? 7 : Math.floor(r() * shape[0])));
  const values = Float32Array.from({ length: count * dim }, () => (r() * 2 - 1) * 0.5);
  return new IndexedSlices(tf.tensor(values, [count, ...rowShape]), ids);
}

export function gpuRowChecks(kernels: Record<GpuBackend, RowKernel>, setBackend: (name: string) => Promise<boolean>) {
  const use = async (backend: string): Promise<void> => {
    if (!(await setBackend(backend))) throw new Error(`the ${backend} backend did not start`);
    await tf.ready();
    if (backend === 'webgpu') watchDevice();
  };
  return {
    uncapturedErrors,

    rowCaseCount(steps: number): number {
      return rowCases([[1, 1]], steps).length;
    },

    /** A row case given whole (the fuzz draws them) on `backend`'s row kernel. */
    async runGivenRowCase(backend: GpuBackend, c: RowCase): Promise<CaseResult> {
      await use(backend);
      return runRowCase(kernels[backend], c);
    },

    /** Trajectory case `index` of rowCases(shapes, steps) on `backend`'s row kernel. */
    async runRowCase(backend: GpuBackend, index: number, shapes: number[][], steps: number): Promise<CaseResult> {
      await use(backend);
      return runRowCase(kernels[backend], rowCases(shapes, steps)[index]);
    },

    /**
     * Sparse steps of an optimizer (a dense step among them, rows read by
     * embeddingLookup between steps, finalizeVariableValues at the end) on
     * `backend`, and the same on cpu with the reference row loops.
     */
    async sparseTraining(backend: GpuBackend, options: RMSpropOptions, shape: number[], packedTable = false): Promise<SparseTraining & { packedBefore: boolean }> {
      const finals: Float32Array[][] = [];
      const kernelsSeen = new Set<string>();
      let sparseJobs = 0;
      let catchUpJobs = 0;
      let gpuWork = 0;
      let profiledKernels = 0;
      let packedBefore = false;
      const kernel = kernels[backend];
      const run = kernel.run;
      for (const name of [backend, 'cpu']) {
        await use(name);
        const previous = setFastKernelsEnabled(name === backend);
        const r = mulberry32(41);
        const [rows, dim] = [shape[0], shape.slice(1).reduce((a, b) => a * b, 1)];
        const init = tf.tensor(Float32Array.from({ length: rows * dim }, () => r() * 2 - 1), shape);
        // A table written by a packed op (WebGL keeps it in RGBA texels of 2×2 elements).
        const table = ownVariable(packedTable ? tf.tidy(() => texturedCopy(init, true)) : init);
        if (packedTable) {
          init.dispose();
          if (name === backend) packedBefore = isPacked(table);
        }
        let step = 0;
        const opt = new RMSprop({ learningRate: () => 0.01 / (1 + 0.1 * step), ...options });
        if (name === backend) {
          kernel.run = (target, job) => {
            if (job.values === null) catchUpJobs++; else sparseJobs++;
            return run.call(kernel, target, job);
          };
        }
        try {
          const sparseStep = (): void => {
            tf.tidy(() => opt.applyGradients([[randomSlices(r, shape, 3 + (step % 7) * 3), table]]));
            if (name === backend) for (const c of opt.lastStepKernels()) kernelsSeen.add(c.kernel + (c.fallbackReason ? ` (${c.fallbackReason})` : ''));
            step++;
          };
          for (let i = 0; i < 12; i++) {
            if (i === 6) {
              tf.tidy(() => opt.applyGradients([[tf.randomNormal(shape, 0, 0.3, 'float32', 17), table]]));
              step++;
              continue;
            }
            if (i === 3 && name === backend) {
              gpuWork = await countGpuWork(backend, sparseStep);
              profiledKernels = (await tf.profile(sparseStep)).kernels.length;
              continue;
            }
            if (i === 3) { sparseStep(); sparseStep(); continue; }
            // Rows read between steps: the ones a mode deferred catch up first.
            if (i % 4 === 1) tf.dispose(embeddingLookup(table, [0, 7, rows - 1, 7]));
            sparseStep();
          }
          opt.finalizeVariableValues();
          finals.push(await Promise.all([table, ...opt.getSlotNames().map((n) => opt.getSlot(table, n as 'rms'))]
            .map(async (t) => Float32Array.from(await t.data()))));
        } finally {
          kernel.run = run;
          setFastKernelsEnabled(previous);
          opt.dispose();
          table.dispose();
        }
      }
      let worst = 0;
      finals[0].forEach((got, k) => {
        const ref = finals[1][k];
        const scale = ref.reduce((m, x) => Math.max(m, Math.abs(x)), 0) || 1;
        for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]) / scale);
      });
      return { kernels: [...kernelsSeen], sparseJobs, catchUpJobs, gpuWork, profiledKernels, maxRelativeToReference: worst, packedBefore };
    },

    /** A slice of the table kept alive across a sparse step (WebGL's slices of a contiguous range share the texture). */
    async rowSlice(backend: GpuBackend): Promise<SliceReport> {
      await use(backend);
      const table = ownVariable(tf.randomNormal([300, 8], 0, 1, 'float32', 9));
      const opt = new RMSprop({ learningRate: 0.01, momentum: 0.9 });
      const step = (): { kernel: string; fallbackReason?: string } => {
        tf.tidy(() => opt.applyGradients([[new IndexedSlices(tf.ones([3, 8]), [0, 1, 200]), table]]));
        return opt.lastStepKernels()[0];
      };
      step(); // the table is on the GPU, unpacked: a slice of rows 0–1 is a view of its texture
      const slice = tf.slice(table, [0, 0], [2, 8]);
      // Read through copies made on the GPU: a read of the slice itself would cache its values on the CPU.
      const copy = async (): Promise<Float32Array> => {
        const c = tf.add(slice, 0);
        const v = Float32Array.from(await c.data());
        c.dispose();
        return v;
      };
      const before = await copy();
      const withSlice = step();
      const after = await copy();
      slice.dispose();
      const report = {
        kernelWithSlice: withSlice.kernel, ...(withSlice.fallbackReason === undefined ? {} : { fallbackReason: withSlice.fallbackReason }),
        kernelAfter: step().kernel,
        sliceUnchanged: before.every((x, i) => x === after[i]),
      };
      opt.dispose();
      table.dispose();
      return report;
    },

    /** A table made with tf.variable(t), t kept: its buffer (texture) is shared. */
    async rowSharing(backend: GpuBackend): Promise<RowSharingReport> {
      await use(backend);
      const { changed, ...r } = await stepOnShared(tf.randomNormal([200, 8], 0, 1, 'float32', 5), { learningRate: 0.01, momentum: 0.9 }, (opt, table) => {
        tf.tidy(() => opt.applyGradients([[new IndexedSlices(tf.ones([3, 8]), [1, 4, 1]), table]]));
      });
      return { ...r, tableChanged: changed };
    },

    /** Values read (and cached on the CPU) before a sparse step, then read again after it. */
    async rowCpuCache(backend: GpuBackend): Promise<{ kernel: string; changed: boolean; readMatchesGpu: boolean }> {
      await use(backend);
      const table = ownVariable(tf.randomNormal([300, 4], 0, 1, 'float32', 7));
      const opt = new RMSprop({ learningRate: 0.01, momentum: 0.9, centered: true });
      const step = () => tf.tidy(() => opt.applyGradients([[new IndexedSlices(tf.ones([2, 4]), [3, 250]), table]]));
      step();
      const first = Float32Array.from(await table.data());
      const ms = Float32Array.from(await opt.getSlot(table, 'rms').data());
      step();
      const read = await table.data();
      const msRead = await opt.getSlot(table, 'rms').data();
      const copy = tf.add(table, 0);
      const gpu = await copy.data();
      const report = {
        kernel: opt.lastStepKernels()[0].kernel,
        changed: first.some((x, i) => x !== read[i]) && ms.some((x, i) => x !== msRead[i]),
        readMatchesGpu: read.every((x, i) => x === gpu[i]),
      };
      opt.dispose();
      tf.dispose([table, copy]);
      return report;
    },

    /** 1,000 sparse steps (a catch-up every 100); counts after 10 and 1,000 steps and after dispose. */
    async rowLeaks(backend: GpuBackend, options: RMSpropOptions): Promise<RowLeakReport> {
      await use(backend);
      const table = ownVariable(tf.randomNormal([500, 8], 0, 1, 'float32', 1));
      const r = mulberry32(3);
      const step = (o: RMSprop): void => {
        tf.tidy(() => o.applyGradients([[randomSlices(r, [500, 8], 40), table]]));
      };
      // A throwaway optimizer first: it puts the table on the GPU in the kernel's layout.
      const warm = new RMSprop(options);
      step(warm);
      warm.dispose();
      await table.data();
      const tensorsBefore = tf.memory().numTensors;
      const bytesBefore = gpuBytes();
      const opt = new RMSprop(options);
      for (let i = 0; i < 10; i++) step(opt);
      await table.data();
      const tensorsAfter10 = tf.memory().numTensors;
      const bytesAfter10 = gpuBytes();
      for (let i = 0; i < 990; i++) {
        step(opt);
        if (i % 100 === 99) { tf.dispose(embeddingLookup(table, [1, 2, 3])); await table.data(); }
      }
      await table.data();
      const tensorsAfter1000 = tf.memory().numTensors;
      const bytesAfter1000 = gpuBytes();
      const kernel = opt.lastStepKernels()[0].kernel;
      opt.dispose();
      await table.data();
      const report = {
        tensorsBefore, tensorsAfter10, tensorsAfter1000, tensorsAfterDispose: tf.memory().numTensors,
        bytesBefore, bytesAfter10, bytesAfter1000, bytesAfterDispose: gpuBytes(), kernel,
      };
      table.dispose();
      return report;
    },
  };
}

export type GpuRowChecks = ReturnType<typeof gpuRowChecks>;
