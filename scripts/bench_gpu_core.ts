// The measurement of `npm run bench:gpu`, run in Chromium (bench_gpu_page.ts, webgl and
// webgpu) and in Node (bench_gpu.ts, webgpu on Dawn): this optimizer against
// tf.train.rmsprop on the same backend, in the same run. Each sample is one step plus
// a read of one element of the last variable (a GPU queue runs in order, so the read
// returns only when the step's work is done); the two optimizers alternate step by
// step, each on its own variables and gradients, and each reports the median of its
// samples. The GPU work of a step is counted twice, as what TF.js's profiler sees
// (engine kernels) and as WebGL draw calls / WebGPU compute dispatches issued (an
// upload, pack or unpack draw counts); the larger is reported.
import * as tf from '@tensorflow/tfjs-core';
import type { RMSprop as RMSpropClass, RMSpropOptions } from '../src/index.js';
import { mulberry32 } from '../app/random.js';
import { countGpuWork, type GpuBackend } from '../test/support/gpu_work.js';

export interface PathSpec { readonly name: string; readonly momentum: number; readonly centered: boolean }
export const PATHS: readonly PathSpec[] = [
  { name: 'plain', momentum: 0, centered: false },
  { name: 'momentum', momentum: 0.9, centered: false },
  { name: 'centered+momentum', momentum: 0.9, centered: true },
];
export const SIZES: ReadonlyArray<{ readonly label: string; readonly shapes: readonly number[] }> = [
  { label: '1 × 1e6', shapes: [1e6] },
  { label: '200 × 5,000', shapes: Array.from({ length: 200 }, () => 5000) },
];

export interface BenchRow {
  readonly backend: string;
  readonly path: string;
  readonly size: string;
  readonly variables: number;
  readonly oursMs: number;
  readonly tfMs: number;
  readonly ratio: number;
  /** Per step: max(engine kernels, draws/dispatches). */
  readonly oursWork: number;
  readonly tfWork: number;
  readonly oursProfiled: number;
  readonly oursIssued: number;
  readonly tfProfiled: number;
  readonly tfIssued: number;
  readonly kernel: string;
  readonly samples: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function ownVariable(t: tf.Tensor): tf.Variable {
  const v = tf.variable(t);
  t.dispose();
  return v;
}

interface Contender {
  step(): void;
  readonly last: tf.Variable;
  dispose(): void;
}

function contender(
  kind: 'ours' | 'tf', RMSprop: typeof RMSpropClass, path: PathSpec, shapes: readonly number[], seed: number, extra: RMSpropOptions = {}, calls = 1,
): Contender & { kernel(): string } {
  const vars = shapes.map((n, k) => ownVariable(tf.randomUniform([n], -1, 1, 'float32', seed + k)));
  const grads = shapes.map((n, k) => tf.randomNormal([n], 0, 1, 'float32', seed + 1000 + k));
  if (kind === 'ours') {
    const opt = new RMSprop({ learningRate: 0.001, momentum: path.momentum, centered: path.centered, ...extra });
    const pairs = grads.map((g, k) => [g, vars[k]] as const);
    return {
      step: () => { for (let i = 0; i < calls; i++) opt.applyGradients(pairs); },
      last: vars[vars.length - 1],
      kernel: () => [...new Set(opt.lastStepKernels().map((c) => c.kernel))].join('+'),
      dispose: () => { opt.dispose(); tf.dispose([...vars, ...grads]); },
    };
  }
  const opt = tf.train.rmsprop(0.001, 0.9, path.momentum, 1e-7, path.centered);
  const named = grads.map((g, k) => ({ name: vars[k].name, tensor: g }));
  return {
    step: () => { opt.applyGradients(named); },
    last: vars[vars.length - 1],
    kernel: () => 'tf.train.rmsprop',
    dispose: () => { opt.dispose(); tf.dispose([...vars, ...grads]); },
  };
}

/** A read of one element (the first). */
async function readCorner(v: tf.Variable): Promise<void> {
  const one = tf.slice(v, v.shape.map(() => 0), v.shape.map(() => 1));
  await one.data();
  one.dispose();
}

/** One sample: a step, then a read of one element of `c.last`, so the step's GPU work has finished. */
async function timed(c: Contender): Promise<number> {
  const t0 = performance.now();
  c.step();
  await readCorner(c.last);
  return performance.now() - t0;
}

async function work(backend: GpuBackend, c: Contender): Promise<{ profiled: number; issued: number }> {
  const issued = await countGpuWork(backend, () => { c.step(); });
  await readCorner(c.last);
  const profiled = (await tf.profile(() => { c.step(); })).kernels.length;
  await readCorner(c.last);
  return { profiled, issued };
}

/** Keras 3's options measured on the GPU (PART=keras3): each against the same optimizer without it. */
export const KERAS3_OPTIONS: ReadonlyArray<{ readonly name: string; readonly options: RMSpropOptions }> = [
  { name: 'useEma', options: { useEma: true } },
  // 2^30 calls per update: every measured call only accumulates.
  { name: 'an accumulating call', options: { gradientAccumulationSteps: 2 ** 30 } },
  { name: 'useEma + gradientAccumulationSteps 4 (mean per call)', options: { useEma: true, gradientAccumulationSteps: 4 } },
  { name: 'lossScaleFactor 1024', options: { lossScaleFactor: 1024 } },
];

export interface Keras3Row {
  readonly backend: string;
  readonly option: string;
  readonly baselineMs: number;
  readonly ms: number;
  /** Dispatches or draws per call, and engine kernels per call, with the option. */
  readonly issuedPerCall: number;
  readonly profiledPerCall: number;
  readonly kernel: string;
}

/**
 * One Keras 3 option on the momentum path, one variable of 1e6: ms per call with
 * it and without, 4 calls per sample (whole accumulation windows), samples in turn.
 */
export async function keras3Row(
  backend: GpuBackend, RMSprop: typeof RMSpropClass, option: (typeof KERAS3_OPTIONS)[number], samples: number, warmup = 2,
): Promise<Keras3Row> {
  const path = PATHS[1];
  const base = contender('ours', RMSprop, path, SIZES[0].shapes, 1, {}, 4);
  const made = contender('ours', RMSprop, path, SIZES[0].shapes, 1, option.options, 4);
  try {
    for (let i = 0; i < warmup; i++) { await timed(base); await timed(made); }
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < samples; i++) {
      if (i % 2 === 0) { a.push(await timed(base)); b.push(await timed(made)); } else { b.push(await timed(made)); a.push(await timed(base)); }
    }
    const w = await work(backend, made);
    return {
      backend, option: option.name, baselineMs: median(a) / 4, ms: median(b) / 4,
      issuedPerCall: w.issued / 4, profiledPerCall: w.profiled / 4, kernel: made.kernel(),
    };
  } finally {
    base.dispose();
    made.dispose();
  }
}

export const KERAS3_TABLE_HEADER = '| backend | option (momentum, 1 × 1e6) | ms per call | without it | ratio | GPU work per call | engine kernels per call | kernel |\n' +
  '|---|---|---:|---:|---:|---:|---:|---|';

export function formatKeras3Row(r: Keras3Row, where: string): string {
  const f = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  return `| ${r.backend} (${where}) | ${r.option} | ${f(r.ms)} | ${f(r.baselineMs)} | ${(r.ms / r.baselineMs).toFixed(2)}x | ${r.issuedPerCall} | ${r.profiledPerCall} | ${r.kernel} |`;
}

/** One row: interleaved medians of `samples` steps each, after `warmup` steps each. */
export async function benchRow(
  backend: GpuBackend, RMSprop: typeof RMSpropClass, path: PathSpec, size: (typeof SIZES)[number], samples: number, warmup = 3,
): Promise<BenchRow> {
  const ours = contender('ours', RMSprop, path, size.shapes, 1);
  const theirs = contender('tf', RMSprop, path, size.shapes, 5);
  try {
    for (let i = 0; i < warmup; i++) { await timed(ours); await timed(theirs); }
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < samples; i++) {
      if (i % 2 === 0) { a.push(await timed(ours)); b.push(await timed(theirs)); } else { b.push(await timed(theirs)); a.push(await timed(ours)); }
    }
    const wo = await work(backend, ours);
    const wt = await work(backend, theirs);
    const oursMs = median(a);
    const tfMs = median(b);
    return {
      backend, path: path.name, size: size.label, variables: size.shapes.length, oursMs, tfMs, ratio: tfMs / oursMs,
      oursWork: Math.max(wo.profiled, wo.issued), tfWork: Math.max(wt.profiled, wt.issued),
      oursProfiled: wo.profiled, oursIssued: wo.issued, tfProfiled: wt.profiled, tfIssued: wt.issued,
      kernel: ours.kernel(), samples,
    };
  } finally {
    ours.dispose();
    theirs.dispose();
  }
}

export function formatRow(r: BenchRow, where: string): string {
  const f = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  const perVar = (w: number) => (w / r.variables).toFixed(r.variables === 1 ? 0 : 2);
  return `| ${r.backend} (${where}) | ${r.path} | ${r.size} | ${f(r.oursMs)} | ${f(r.tfMs)} | ${r.ratio.toFixed(2)}x | ` +
    `${r.oursWork} (${perVar(r.oursWork)}/var) | ${r.tfWork} (${perVar(r.tfWork)}/var) | ${r.kernel} |`;
}

export const TABLE_HEADER = '| backend | path | variables | ours ms/step | tf.train.rmsprop ms/step | speed-up | ours GPU work/step | tf.train GPU work/step | kernel |\n' +
  '|---|---|---|---:|---:|---:|---:|---:|---|';

// ---- Sparse rows: 1,024 touched rows of a 200,000 × 64 table against the dense step of that table.

export const SPARSE_TABLE = { rows: 200_000, dim: 64, touched: 1024 } as const;

export interface SparsePathSpec extends PathSpec { readonly mode: 'keras2' | 'lazy' | 'dense-equivalent' }
export const SPARSE_PATHS: readonly SparsePathSpec[] = [
  // Every row's accumulators decay: the touched rows catch up what they sat out.
  { name: 'plain', momentum: 0, centered: false, mode: 'keras2' },
  // TF 2.4's sparse momentum kernel on the touched rows.
  { name: 'momentum', momentum: 0.9, centered: false, mode: 'keras2' },
  // The dense rule; idle rows keep decaying and moving, caught up when touched.
  { name: 'centered+momentum', momentum: 0.9, centered: true, mode: 'dense-equivalent' },
];

export interface SparseBenchRow {
  readonly backend: string;
  readonly path: string;
  readonly mode: string;
  readonly sparseMs: number;
  readonly denseMs: number;
  /** Dense step time over sparse step time (the target: ≥ 20). */
  readonly ratio: number;
  /** A read of one element with no step before it: the floor of every sample here. */
  readonly readMs: number;
  /** The op chain's rows (gather, rule, where(scatterND) back into the table), as before the row kernels: median of fewer samples. */
  readonly opChainMs: number;
  readonly opChainSamples: number;
  readonly sparseWork: number;
  readonly denseWork: number;
  readonly sparseKernel: string;
  readonly denseKernel: string;
  readonly samples: number;
}

interface SparsePackage {
  readonly RMSprop: typeof RMSpropClass;
  readonly IndexedSlices: new (values: tf.Tensor, indices: readonly number[]) => unknown;
}

/**
 * One sparse row: the sparse step (16 sets of 1,024 distinct random rows, in
 * turn) and the dense step of the same optimizer settings, each on its own
 * table, alternating; then the op chain's rows (`setFastKernels(false)`) for
 * `opChainSamples` steps.
 */
export async function sparseBenchRow(
  backend: GpuBackend, pkg: SparsePackage, path: SparsePathSpec, samples: number, opChainSamples: number,
  setFastKernels: (on: boolean) => boolean, warmup = 3,
): Promise<SparseBenchRow> {
  const { rows, dim, touched } = SPARSE_TABLE;
  const r = mulberry32(11); // seeded: every run steps the same rows
  const sets = Array.from({ length: 16 }, () => {
    const picked = new Set<number>();
    while (picked.size < touched) picked.add(Math.floor(r() * rows));
    const values = tf.tensor2d(Float32Array.from({ length: touched * dim }, () => r() * 2 - 1), [touched, dim]);
    return { ids: [...picked], values };
  });
  const options = { learningRate: 0.001, momentum: path.momentum, centered: path.centered, sparseMode: path.mode };
  const make = (seed: number) => ownVariable(tf.randomUniform([rows, dim], -1, 1, 'float32', seed));
  const sparseTable = make(1);
  const denseTable = make(2);
  const grad = tf.randomNormal([rows, dim], 0, 1, 'float32', 3);
  const sparseOpt = new pkg.RMSprop(options);
  const denseOpt = new pkg.RMSprop(options);
  let turn = 0;
  const sparse: Contender = {
    step: () => {
      const s = sets[turn++ % sets.length];
      sparseOpt.applyGradients([[new pkg.IndexedSlices(s.values, s.ids) as never, sparseTable]]);
    },
    last: sparseTable,
    dispose: () => undefined,
  };
  const dense: Contender = { step: () => { denseOpt.applyGradients([[grad, denseTable]]); }, last: denseTable, dispose: () => undefined };
  try {
    for (let i = 0; i < warmup; i++) { await timed(sparse); await timed(dense); }
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < samples; i++) {
      if (i % 2 === 0) { a.push(await timed(sparse)); b.push(await timed(dense)); } else { b.push(await timed(dense)); a.push(await timed(sparse)); }
    }
    const reads: number[] = [];
    for (let i = 0; i < samples; i++) {
      const t0 = performance.now();
      await readCorner(sparseTable);
      reads.push(performance.now() - t0);
    }
    const sparseWork = await countGpuWork(backend, () => { sparse.step(); });
    await readCorner(sparseTable);
    const sparseKernel = sparseOpt.lastStepKernels().map((c) => c.kernel + (c.fallbackReason ? ` (${c.fallbackReason})` : '')).join('+');
    const denseWork = await countGpuWork(backend, () => { dense.step(); });
    await readCorner(denseTable);
    const denseKernel = denseOpt.lastStepKernels().map((c) => c.kernel).join('+');
    // The op chain's rows on the sparse table, as every step ran before the row kernels.
    const c: number[] = [];
    if (opChainSamples > 0) {
      const previous = setFastKernels(false);
      try {
        await timed(sparse);
        for (let i = 0; i < opChainSamples; i++) c.push(await timed(sparse));
      } finally {
        setFastKernels(previous);
      }
    }
    const sparseMs = median(a);
    const denseMs = median(b);
    return {
      backend, path: path.name, mode: path.mode, sparseMs, denseMs, ratio: denseMs / sparseMs, readMs: median(reads),
      opChainMs: c.length > 0 ? median(c) : NaN, opChainSamples, sparseWork, denseWork, sparseKernel, denseKernel, samples,
    };
  } finally {
    sparseOpt.dispose();
    denseOpt.dispose();
    tf.dispose([sparseTable, denseTable, grad, ...sets.map((s) => s.values)]);
  }
}

export function formatSparseRow(r: SparseBenchRow, where: string): string {
  const f = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  return `| ${r.backend} (${where}) | ${r.path}, sparseMode '${r.mode}' | ${f(r.sparseMs)} | ${f(r.denseMs)} | ${r.ratio.toFixed(1)}x | ` +
    `${f(r.readMs)} | ${Number.isNaN(r.opChainMs) ? 'not run' : f(r.opChainMs)} | ${r.sparseWork} | ${r.denseWork} | ${r.sparseKernel} |`;
}

export const SPARSE_TABLE_HEADER = `1,024 touched rows of a ${SPARSE_TABLE.rows.toLocaleString('en-US')} × ${SPARSE_TABLE.dim} table:\n` +
  '| backend | path | sparse step ms | dense step ms | dense / sparse | read alone ms | op-chain rows ms | sparse GPU work | dense GPU work | sparse kernel |\n' +
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---|';
