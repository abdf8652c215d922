// The WebGPU benchmark for a machine with a real GPU, bundled by pack.mjs into one
// file that runs with nothing but Node, Dawn (`dawn.node`) and a Vulkan driver: the
// machine needs no npm install and no network. It prints Markdown:
// - the adapter Dawn found (a real GPU says its vendor; SwiftShader says so too);
// - this optimizer against tf.train.rmsprop, interleaved, as `npm run bench:gpu`
//   does (bench_gpu_core.ts), for one variable of 1e6 and 200 of 5,000;
// - Keras 3's options (EMA, accumulation, loss scale) against the step without them;
// - the large sizes (1e7, 1e8): steps timed in batches (the read that ends a batch
//   is amortized), with the bytes a step moves against a buffer-copy probe on the
//   same device (copyBufferToBuffer, read + write counted): the target is ≥ 70%
//   of the copy's bandwidth.
// Env: DAWN_NODE (path of dawn.node, default beside this file), SMALL=1 (sizes
// 1e5/1e6 instead of 1e7/1e8, for a try on SwiftShader), SAMPLES (default 30).
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { RMSprop } from '../../src/index.js';
import {
  benchRow, formatKeras3Row, formatRow, keras3Row, KERAS3_OPTIONS, KERAS3_TABLE_HEADER, PATHS, SIZES, TABLE_HEADER, type PathSpec,
} from '../bench_gpu_core.js';

interface GpuBufferLike { destroy(): void }
interface DeviceLike {
  createBuffer(d: { size: number; usage: number }): GpuBufferLike;
  createCommandEncoder(): { copyBufferToBuffer(a: GpuBufferLike, ao: number, b: GpuBufferLike, bo: number, size: number): void; finish(): unknown };
  queue: { submit(c: unknown[]): void; onSubmittedWorkDone(): Promise<void> };
}

/** Dawn's instance: kept reachable for the whole process (if collected, Dawn frees it under the live device). */
let keptInstance: unknown = null;

async function startDawn(): Promise<string> {
  const path = resolve(process.env.DAWN_NODE ?? join(dirname(process.argv[1] ?? '.'), 'dawn.node'));
  // A native addon: loaded by path at run time, never bundled.
  const dawn = createRequire(resolve(process.argv[1] ?? '.'))(path) as { create(o: string[]): { requestAdapter(): Promise<unknown> }; globals: object };
  const gpu = dawn.create([]);
  keptInstance = gpu;
  Object.assign(globalThis, dawn.globals);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  const adapter = await gpu.requestAdapter() as { info?: Record<string, unknown>; isFallbackAdapter?: boolean } | null;
  if (adapter === null) throw new Error(`Dawn found no adapter (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? 'unset'})`);
  const info = adapter.info ?? {};
  return `${['vendor', 'architecture', 'device', 'description'].map((k) => `${k}: ${String(info[k] ?? '')}`).join(', ')}; fallback adapter: ${String(adapter.isFallbackAdapter ?? 'unknown')}`;
}

/** Arrays a step reads and writes, each of N floats: the variable, the gradient and the slots. */
function arraysOf(p: PathSpec): number {
  const slots = 1 + (p.momentum > 0 ? 1 : 0) + (p.centered ? 1 : 0);
  // Read: variable, gradient, each slot; written: variable, each slot.
  return (2 + slots) + (1 + slots);
}

async function corner(v: tf.Variable): Promise<void> {
  const one = tf.slice(v, [0], [1]);
  await one.data();
  one.dispose();
}

/** Median ms per step over `repeats` batches of `batch` steps, each batch ended by one read. */
async function batchedMs(step: () => void, last: tf.Variable, batch: number, repeats: number): Promise<number> {
  for (let i = 0; i < 2; i++) step();
  await corner(last);
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) step();
    await corner(last);
    times.push((performance.now() - t0) / batch);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

async function largeRow(p: PathSpec, n: number): Promise<{ ours: number; tfMs: number; kernel: string }> {
  const make = (seed: number): { v: tf.Variable; g: tf.Tensor } => {
    const init = tf.randomUniform([n], -1, 1, 'float32', seed);
    const v = tf.variable(init);
    init.dispose();
    return { v, g: tf.randomNormal([n], 0, 1, 'float32', seed + 1) };
  };
  const a = make(1);
  const opt = new RMSprop({ learningRate: 0.001, momentum: p.momentum, centered: p.centered });
  const ours = await batchedMs(() => { opt.applyGradients([[a.g, a.v]]); }, a.v, 20, 7);
  const kernel = [...new Set(opt.lastStepKernels().map((c) => c.kernel))].join('+');
  opt.dispose();
  tf.dispose([a.v, a.g]);
  const b = make(5);
  const ref = tf.train.rmsprop(0.001, 0.9, p.momentum, 1e-7, p.centered);
  const named = [{ name: b.v.name, tensor: b.g }];
  const tfMs = await batchedMs(() => { ref.applyGradients(named); }, b.v, 10, 5);
  ref.dispose();
  tf.dispose([b.v, b.g]);
  return { ours, tfMs, kernel };
}

/** GB/s of copyBufferToBuffer between two buffers of `n` floats on TF.js's device, read + write counted. */
async function copyProbe(n: number): Promise<number> {
  const device = (tf.backend() as unknown as { device: DeviceLike }).device;
  const usage = 0x04 | 0x08; // COPY_SRC | COPY_DST
  const src = device.createBuffer({ size: n * 4, usage });
  const dst = device.createBuffer({ size: n * 4, usage });
  const run = async (k: number): Promise<number> => {
    const enc = device.createCommandEncoder();
    for (let i = 0; i < k; i++) enc.copyBufferToBuffer(src, 0, dst, 0, n * 4);
    const t0 = performance.now();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    return performance.now() - t0;
  };
  await run(2);
  const times: number[] = [];
  for (let r = 0; r < 7; r++) times.push(await run(20) / 20);
  times.sort((a, b) => a - b);
  src.destroy();
  dst.destroy();
  return (2 * n * 4) / (times[times.length >> 1] / 1000) / 1e9;
}

async function main(): Promise<void> {
  const adapter = await startDawn();
  // Registers the backend only where navigator.gpu exists, so after Dawn is set up.
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error("tf.setBackend('webgpu') failed");
  await tf.ready();
  const samples = Number(process.env.SAMPLES ?? 30);
  const large = process.env.SMALL ? [1e5, 1e6] : [1e7, 1e8];
  console.log(`# WebGPU benchmark (Node ${process.version}, tfjs ${tf.version_core}, ${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} cores)\n`);
  console.log(`adapter: ${adapter}; VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? 'unset'}\n`);
  console.log(`## Against tf.train.rmsprop (interleaved, median of ${samples})\n`);
  console.log(TABLE_HEADER);
  for (const size of SIZES) {
    for (const path of PATHS) console.log(formatRow(await benchRow('webgpu', RMSprop, path, size, samples), 'Node'));
  }
  console.log(`\n## Keras 3's options against the same optimizer without them (momentum, 1 × 1e6, ${samples} samples of 4 calls)\n`);
  console.log(KERAS3_TABLE_HEADER);
  for (const option of KERAS3_OPTIONS) console.log(formatKeras3Row(await keras3Row('webgpu', RMSprop, option, samples), 'Node'));
  console.log('\n## Large sizes against a buffer copy on the same device\n');
  console.log('| path | N | ours ms/step | ours GB/s | copy GB/s | ours / copy | tf.train.rmsprop ms/step | speed-up | kernel |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---|');
  for (const n of large) {
    const copy = await copyProbe(n);
    for (const path of PATHS) {
      const r = await largeRow(path, n);
      const gbs = (arraysOf(path) * 4 * n) / (r.ours / 1000) / 1e9;
      console.log(`| ${path.name} | ${n.toExponential(0)} | ${r.ours.toPrecision(3)} | ${gbs.toPrecision(3)} | ${copy.toPrecision(3)} | ${Math.round((100 * gbs) / copy)}% | ${r.tfMs.toPrecision(3)} | ${(r.tfMs / r.ours).toPrecision(3)}x | ${r.kernel} |`);
    }
  }
  void keptInstance;
}

main().then(() => process.exit(0), (e: unknown) => {
  console.error(e);
  process.exit(1);
});
