// `npm run bench` (its last part): what Keras 3's training features and
// optax's Nesterov momentum cost per call on the cpu and wasm backends, on the
// momentum path, for one variable of 1e6 parameters and for 200 variables
// totalling 1e6: the EMA of the weights (folded into the fused kernels), an
// accumulating call of gradient accumulation (next to one read and one write
// of a gradient-sized array: a copy), the mean cost per call with 4 calls per
// update, and the Nesterov form. Each case against the baseline (no feature),
// their calls sampled in turn; medians over repeated calls after warm-up.
// Not a test: nothing fails. Run it alone with
//   npm run build && node --import tsx scripts/bench_training.ts
import os from 'node:os';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type * as Package from '../src/index.js';
import { fmt, medianPairSeconds, medianSeconds } from './bench_timing.js';

// The package as users load it: the build in dist/ (see bench.ts).
const { RMSprop } = require('rmsprop') as typeof Package;

const quiet = console.warn;
console.warn = (...a: unknown[]) => { if (!(typeof a[0] === 'string' && a[0].includes('tfjs-node'))) quiet(...a); };

const SIZES: Array<{ label: string; shapes: number[] }> = [
  { label: '1e6', shapes: [1e6] },
  { label: '200 vars, 1e6', shapes: Array.from({ length: 200 }, () => 5000) },
];

type Options = ConstructorParameters<typeof RMSprop>[0];

const CASES: Array<{ name: string; options: Options }> = [
  { name: 'useEma', options: { useEma: true } },
  { name: 'useEma, overwrite every step', options: { useEma: true, emaOverwriteFrequency: 1 } },
  { name: 'nesterov', options: { nesterov: true } },
  // 2^30 calls per update: every measured call only accumulates.
  { name: 'an accumulating call', options: { gradientAccumulationSteps: 2 ** 30 } },
  { name: 'gradientAccumulationSteps 4 (mean per call)', options: { gradientAccumulationSteps: 4 } },
  { name: 'useEma + gradientAccumulationSteps 4 (mean per call)', options: { useEma: true, gradientAccumulationSteps: 4 } },
  { name: 'lossScaleFactor 1024', options: { lossScaleFactor: 1024 } },
];

/** An optimizer of `options` stepping its own variables; `step` makes 4 calls (whole windows keep an accumulation's mean exact). */
function setUp(options: Options, shapes: number[]): { step: () => void; kernel: string; dispose: () => void } {
  const vars = shapes.map((n) => tf.tidy(() => tf.variable(tf.randomUniform([n], -1, 1), true)));
  const grads = vars.map((v) => tf.tidy(() => tf.randomNormal(v.shape)));
  const opt = new RMSprop({ learningRate: 0.001, momentum: 0.9, ...options });
  const pairs = grads.map((g, i) => [g, vars[i]] as const);
  const call = (): void => { opt.applyGradients(pairs); };
  call();
  const kernel = [...new Set(opt.lastStepKernels().map((c) => c.kernel))].join('+');
  return { step: () => { call(); call(); call(); call(); }, kernel, dispose: () => { opt.dispose(); tf.dispose([...vars, ...grads]); } };
}

/** ms per call of the baseline and of `options`, their samples taken in turn (medianPairSeconds). */
function measure(options: Options, shapes: number[]): { baseline: number; ms: number; kernel: string } {
  const base = setUp({}, shapes);
  const made = setUp(options, shapes);
  const [a, b] = medianPairSeconds(base.step, made.step, 21);
  base.dispose();
  made.dispose();
  return { baseline: (a * 1000) / 4, ms: (b * 1000) / 4, kernel: made.kernel };
}

/** One read and one write of `n` float32 values: a copy between two arrays. */
function copyMs(n: number): number {
  const a = new Float32Array(n).fill(1);
  const b = new Float32Array(n);
  return medianSeconds(() => b.set(a), 15) * 1000;
}

async function main(): Promise<void> {
  const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model;
  console.log(`machine: ${cpuModel}, ${os.cpus().length} cores; Node ${process.version}; tfjs ${tf.version.tfjs}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`\nKeras 3's training features and Nesterov momentum (momentum path, μ 0.9); a gradient copy of 1e6 float32 (one read, one write): ${fmt(copyMs(1e6))} ms\n`);
  console.log('| backend | N | case | ms/call | baseline ms/call | × the baseline | kernel (first call) |');
  console.log('|---|---|---|---:|---:|---:|---|');
  for (const backend of ['wasm', 'cpu']) {
    await tf.setBackend(backend);
    await tf.ready();
    for (const size of SIZES) {
      for (const c of CASES) {
        const { baseline, ms, kernel } = measure(c.options, size.shapes);
        console.log(`| ${backend} | ${size.label} | ${c.name} | ${fmt(ms)} | ${fmt(baseline)} | ${(ms / baseline).toFixed(2)} | ${kernel} |`);
      }
    }
  }
  console.log('\nAn accumulating call of one variable of 1e6 against a copy of 1e6 float32 between two JavaScript arrays, 4 of each per sample, sampled in turn:\n');
  console.log('| backend | accumulating call ms | copy ms | call / copy |');
  console.log('|---|---:|---:|---:|');
  for (const backend of ['wasm', 'cpu']) {
    await tf.setBackend(backend);
    await tf.ready();
    const made = setUp({ gradientAccumulationSteps: 2 ** 30 }, [1e6]);
    const a = new Float32Array(1e6).fill(1);
    const b = new Float32Array(1e6);
    const [call, copy] = medianPairSeconds(made.step, () => { b.set(a); b.set(a); b.set(a); b.set(a); }, 21);
    made.dispose();
    console.log(`| ${backend} | ${fmt(call * 250)} | ${fmt(copy * 250)} | ${(call / copy).toFixed(2)} |`);
  }
  console.log(`\nload average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
