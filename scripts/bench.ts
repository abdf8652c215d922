// `npm run bench`: milliseconds per step and GB/s of this optimizer and of
// tf.train.rmsprop on the cpu and wasm backends, for one variable of 1e4..1e7
// parameters and for 200 variables totalling 1e6, on the plain, momentum and
// centered-momentum paths, next to a streaming-bandwidth probe run in the same
// process. Medians over repeated steps after warm-up. Not a test: nothing fails.
// On cpu, steps of 2^20 elements or more run with the kernel's helper thread
// (started before the cpu rows); a second table gives 1e7 on one thread, and
// with the helper against a two-thread probe. BENCH_ONLY=nonfinite: the probes and
// the nonFinite table alone.
//
// Bytes per step count each input read once and each output written once:
// plain 5 arrays (w, g, ms in; w, ms out), momentum 7, centered momentum 9.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type * as Package from '../src/index.js';
import { fmt, medianPairSeconds, medianSeconds } from './bench_timing.js';

// The package as users load it: the build in dist/ (npm run bench builds first), not
// the sources through tsx, whose module interop puts a getter call behind every `tf.`
// access and, measured, doubled the per-variable overhead of a step.
const { RMSprop, helperThreadReady, setHelperThreadEnabled } = require('rmsprop') as typeof Package;

const quiet = console.warn;
console.warn = (...a: unknown[]) => { if (!(typeof a[0] === 'string' && a[0].includes('tfjs-node'))) quiet(...a); };

interface PathSpec { name: string; momentum: number; centered: boolean; arrays: number }
const PATHS: PathSpec[] = [
  { name: 'plain', momentum: 0, centered: false, arrays: 5 },
  { name: 'momentum', momentum: 0.9, centered: false, arrays: 7 },
  { name: 'centered+momentum', momentum: 0.9, centered: true, arrays: 9 },
];
const SIZES: Array<{ label: string; shapes: number[] }> = [
  { label: '1e4', shapes: [1e4] },
  { label: '1e5', shapes: [1e5] },
  { label: '1e6', shapes: [1e6] },
  { label: '1e7', shapes: [1e7] },
  { label: '200 vars, 1e6', shapes: Array.from({ length: 200 }, () => 5000) },
];

/** Streaming bandwidth: copying 256 MiB between two arrays far larger than any cache (read + write counted). */
function bandwidthProbe(): number {
  const n = 64 * 1024 * 1024;
  const a = new Float32Array(n).fill(1);
  const b = new Float32Array(n);
  const s = medianSeconds(() => b.set(a), 9);
  return (2 * n * 4) / s / 1e9;
}

/**
 * The same copy on two threads at once (this thread and a worker, each its own
 * arrays), both bytes counted: what two cores can stream, the ceiling for the
 * cpu kernel with its helper thread.
 */
function twoThreadProbe(): number {
  const n = 64 * 1024 * 1024;
  const ctl = new Int32Array(new SharedArrayBuffer(12));
  const worker = new Worker(`
    const ctl = new Int32Array(require('node:worker_threads').workerData);
    const a = new Float32Array(${n}).fill(1), b = new Float32Array(${n});
    b.set(a);
    Atomics.store(ctl, 1, 1);
    for (let seen = 0; ;) {
      Atomics.wait(ctl, 0, seen);
      seen = Atomics.load(ctl, 0);
      if (seen < 0) break;
      b.set(a);
      Atomics.add(ctl, 2, 1);
    }`, { eval: true, workerData: ctl.buffer });
  while (Atomics.load(ctl, 1) === 0) Atomics.wait(ctl, 1, 0, 10);
  const a = new Float32Array(n).fill(1);
  const b = new Float32Array(n);
  const s = medianSeconds(() => {
    const done = Atomics.load(ctl, 2);
    Atomics.add(ctl, 0, 1);
    Atomics.notify(ctl, 0);
    b.set(a);
    while (Atomics.load(ctl, 2) === done) Atomics.wait(ctl, 2, done, 1);
  }, 9);
  Atomics.store(ctl, 0, -1);
  Atomics.notify(ctl, 0);
  void worker.terminate();
  return (2 * 2 * n * 4) / s / 1e9;
}

function makeVars(shapes: number[]): tf.Variable[] {
  return shapes.map((n) => tf.tidy(() => tf.variable(tf.randomUniform([n], -1, 1), true)));
}

type Clip = { clipvalue?: number; clipnorm?: number };

/** This optimizer stepping its own variables and gradients, after one step (whose kernels it reports). */
function ours(path: PathSpec, shapes: number[], options: Package.RMSpropOptions): { step: () => void; kernel: string; dispose: () => void } {
  const vars = makeVars(shapes);
  const grads = vars.map((v) => tf.tidy(() => tf.randomNormal(v.shape)));
  const opt = new RMSprop({ learningRate: 0.001, momentum: path.momentum, centered: path.centered, ...options });
  const pairs = grads.map((g, i) => [g, vars[i]] as const);
  const step = (): void => { opt.applyGradients(pairs); };
  step();
  const kernel = [...new Set(opt.lastStepKernels().map((c) => c.kernel))].join('+');
  return { step, kernel, dispose: () => { opt.dispose(); tf.dispose([...vars, ...grads]); } };
}

function measure(
  kind: 'ours' | 'tfjs', path: PathSpec, shapes: number[], clip: Clip = {}, extra: Package.RMSpropOptions = {},
): { ms: number; kernel: string } {
  if (kind === 'ours') {
    const o = ours(path, shapes, { ...clip, ...extra });
    const ms = medianSeconds(o.step, 15) * 1000;
    o.dispose();
    return { ms, kernel: o.kernel };
  }
  const vars = makeVars(shapes);
  const grads = vars.map((v) => tf.tidy(() => tf.randomNormal(v.shape)));
  const opt = tf.train.rmsprop(0.001, 0.9, path.momentum, 1e-7, path.centered);
  const named = grads.map((g, i) => ({ name: vars[i].name, tensor: g }));
  // What a TF.js user writes to clip: tf ops on each gradient, then the step.
  const clipped = (g: tf.Tensor): tf.Tensor => {
    let out = g;
    if (clip.clipvalue !== undefined) out = tf.clipByValue(out, -clip.clipvalue, clip.clipvalue);
    if (clip.clipnorm !== undefined) {
      const c = clip.clipnorm;
      out = tf.div(tf.mul(out, c), tf.maximum(tf.norm(out), c));
    }
    return out;
  };
  const step = clip.clipvalue === undefined && clip.clipnorm === undefined
    ? () => opt.applyGradients(named)
    : () => tf.tidy(() => opt.applyGradients(named.map(({ name, tensor }) => ({ name, tensor: clipped(tensor) }))));
  const ms = medianSeconds(step, 15) * 1000;
  opt.dispose();
  tf.dispose([...vars, ...grads]);
  return { ms, kernel: 'tf.train' };
}

/** Two optimizers of ours on their own copies of the same problem, their steps sampled in turn (`medianPairSeconds`). */
function measurePair(
  path: PathSpec, shapes: number[], a: Package.RMSpropOptions, b: Package.RMSpropOptions,
): [{ ms: number; kernel: string }, { ms: number; kernel: string }] {
  const made = [ours(path, shapes, a), ours(path, shapes, b)];
  const [ma, mb] = medianPairSeconds(made[0].step, made[1].step, 31);
  made.forEach((m) => m.dispose());
  return [{ ms: ma * 1000, kernel: made[0].kernel }, { ms: mb * 1000, kernel: made[1].kernel }];
}

/** nonFinite: 'skip' against the default, each pair of optimizers sampled in turn. */
async function nonFiniteTable(): Promise<void> {
  console.log("\nnonFinite: 'skip' (every gradient read once for NaN or ±Infinity before the step) against the default 'propagate', steps of the two sampled in turn:\n");
  console.log("| backend | path | N | 'propagate' ms/step | 'skip' ms/step | kernel | 'skip' / 'propagate' |");
  console.log('|---|---|---|---:|---:|---|---:|');
  for (const backend of ['wasm', 'cpu']) {
    await tf.setBackend(backend);
    await tf.ready();
    for (const path of [PATHS[0], PATHS[1]]) {
      for (const size of [SIZES[2], SIZES[4]]) {
        const [plain, skip] = measurePair(path, size.shapes, {}, { nonFinite: 'skip' });
        console.log(`| ${backend} | ${path.name} | ${size.label} | ${fmt(plain.ms)} | ${fmt(skip.ms)} | ${skip.kernel} | ${fmt(skip.ms / plain.ms)}x |`);
      }
    }
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model;
  console.log(`machine: ${cpuModel}, ${os.cpus().length} cores; Node ${process.version}; tfjs ${tf.version.tfjs}`);
  const probe = bandwidthProbe();
  console.log(`streaming-bandwidth probe (256 MiB array copy, read + write): ${probe.toFixed(1)} GB/s`);
  const probe2 = twoThreadProbe();
  console.log(`two-thread probe (the same copy on two threads at once, both counted): ${probe2.toFixed(1)} GB/s\n`);
  // BENCH_ONLY=nonfinite: the 'skip' table alone (the device kit runs it so, twice, on another machine).
  if (process.env.BENCH_ONLY === 'nonfinite') {
    await nonFiniteTable();
    return;
  }
  console.log('| backend | path | N | ours ms/step | ours GB/s | kernel | tf.train.rmsprop ms/step | tf.train GB/s | speed-up | ours / probe |');
  console.log('|---|---|---|---:|---:|---|---:|---:|---:|---:|');
  // The cpu kernel's helper thread starts on the first large step; started
  // here, every measured step of 1e7 has it from the first.
  const helper = await helperThreadReady();
  for (const backend of ['wasm', 'cpu']) {
    await tf.setBackend(backend);
    await tf.ready();
    for (const path of PATHS) {
      for (const size of SIZES) {
        const total = size.shapes.reduce((a, b) => a + b, 0);
        const bytes = total * 4 * path.arrays;
        // The helper stops when the last optimizer that used it goes (it holds their
        // memories); a new large step starts it again, so wait for it as a user's
        // second step would find it.
        if (backend === 'cpu') await helperThreadReady();
        const ours = measure('ours', path, size.shapes);
        const ref = measure('tfjs', path, size.shapes);
        const gbs = (ms: number) => bytes / (ms / 1000) / 1e9;
        console.log(`| ${backend} | ${path.name} | ${size.label} | ${fmt(ours.ms)} | ${fmt(gbs(ours.ms))} | ${ours.kernel} | ` +
          `${fmt(ref.ms)} | ${fmt(gbs(ref.ms))} | ${fmt(ref.ms / ours.ms)}x | ${(100 * gbs(ours.ms) / probe).toFixed(0)}% |`);
      }
    }
  }
  console.log(`\nThe cpu kernel at 1e7 on one thread (setHelperThreadEnabled(false)) against the probe, and with its helper thread against the two-thread probe (helper ${helper ? 'available' : 'NOT available'}):\n`);
  console.log('| path | N | one thread ms/step | GB/s | kernel | ours / probe | with the helper ms/step | kernel | with the helper / two-thread probe |');
  console.log('|---|---|---:|---:|---|---:|---:|---|---:|');
  await tf.setBackend('cpu');
  for (const path of PATHS) {
    const size = SIZES[3];
    const bytes = size.shapes[0] * 4 * path.arrays;
    setHelperThreadEnabled(false);
    const one = measure('ours', path, size.shapes);
    setHelperThreadEnabled(true);
    await helperThreadReady();
    const two = measure('ours', path, size.shapes);
    const gbs = (ms: number) => bytes / (ms / 1000) / 1e9;
    console.log(`| ${path.name} | ${size.label} | ${fmt(one.ms)} | ${fmt(gbs(one.ms))} | ${one.kernel} | ${(100 * gbs(one.ms) / probe).toFixed(0)}% | ` +
      `${fmt(two.ms)} | ${two.kernel} | ${(100 * gbs(two.ms) / probe2).toFixed(0)}% |`);
  }
  console.log('\nClipping folded into the kernel (momentum path; tf.train.rmsprop clips with tf ops first):\n');
  console.log('| backend | clipping | N | ours ms/step | ours unclipped ms/step | kernel | tf.train.rmsprop + tf clipping ms/step | speed-up |');
  console.log('|---|---|---|---:|---:|---|---:|---:|');
  const momentum = PATHS[1];
  for (const backend of ['wasm', 'cpu']) {
    await tf.setBackend(backend);
    await tf.ready();
    for (const size of [SIZES[2], SIZES[4]]) {
      const unclipped = measure('ours', momentum, size.shapes);
      for (const clip of [{ clipvalue: 1 }, { clipnorm: 1 }]) {
        const ours = measure('ours', momentum, size.shapes, clip);
        const ref = measure('tfjs', momentum, size.shapes, clip);
        const name = Object.entries(clip).map(([k, v]) => `${k} ${v}`).join(', ');
        console.log(`| ${backend} | ${name} | ${size.label} | ${fmt(ours.ms)} | ${fmt(unclipped.ms)} | ${ours.kernel} | ` +
          `${fmt(ref.ms)} | ${fmt(ref.ms / ours.ms)}x |`);
      }
    }
  }
  await nonFiniteTable();
  console.log(`\nstreaming-bandwidth probe again at the end: ${bandwidthProbe().toFixed(1)} GB/s; total ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((e) => { console.error(e); process.exit(1); });
