/**
 * `npm start`: trains the digit classifier with this package's RMSprop and with
 * tf.train.rmsprop at the same settings, prints a comparison table and writes
 * the report to out/. See docs/main-job.md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { RMSprop } from '../src/index.js';
import { parseCommandLine, USAGE, type Backend, type Settings } from './cli.js';
import { maxTrainSize, splitDigits, type DigitSet, type DigitSplit } from './digits.js';
import { AppError } from './errors.js';
import { loadMnistPackage } from './mnist_package.js';
import { createOptimizer, OPTIMIZER_KINDS, type OptimizerOptions } from './optimizers.js';
import { progressBar } from './progress.js';
import { renderReport } from './report.js';
import { resolveScheduleFlag } from './schedule_flag.js';
import { formatTable, summarize } from './summary.js';
import { batchesPerEpoch, trainClassifier, type RunResult } from './train.js';

export const REPORT_HTML = 'mnist-report.html';
export const REPORT_JSON = 'mnist-report.json';

/** What the JSON report holds; the tests and the browser comparison read it. */
export interface ReportJson {
  readonly settings: Settings & { readonly trainSize: number };
  readonly optimizer: OptimizerOptions;
  readonly runs: readonly RunResult[];
  readonly summary: ReturnType<typeof summarize>[];
}

async function main(argv: readonly string[]): Promise<void> {
  const parsed = parseCommandLine(argv);
  if (parsed === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  const classes = loadMnistPackage();
  const available = maxTrainSize(classes);
  const trainSize = parsed.trainSize ?? available;
  if (trainSize > available) {
    throw new AppError(`--train-size must be at most ${available} (the mnist package has ${available} digits besides the held-out ones), got ${trainSize}`, 2);
  }
  const settings = { ...parsed, trainSize };
  const stepsPerEpoch = batchesPerEpoch(trainSize, settings.batchSize);
  const schedule = settings.schedule === null ? null : resolveScheduleFlag(settings.schedule, {
    learningRate: settings.optimizer.learningRate, stepsPerEpoch, totalSteps: stepsPerEpoch * settings.epochs,
  });
  const optimizer: OptimizerOptions = { ...settings.optimizer, schedule };
  const data = splitDigits(classes, trainSize);

  await startBackend(settings.backend);
  kerasDocstringCheck();
  console.log(`${trainSize} training digits, ${data.test.count} held out; backend ${tf.getBackend()}, ` +
    `${settings.epochs} epoch(s) of ${stepsPerEpoch} steps, seed ${settings.seed}`);
  await warmUp(data, settings.batchSize);

  const runs: RunResult[] = [];
  for (const kind of OPTIMIZER_KINDS) {
    const opt = createOptimizer(kind, optimizer);
    try {
      runs.push(await trainClassifier({
        label: kind, data, optimizer: opt, epochs: settings.epochs, batchSize: settings.batchSize, seed: settings.seed,
        hooks: progressBar(process.stdout, kind, settings.epochs),
      }));
    } finally {
      opt.dispose();
    }
  }
  const summary = runs.map(summarize);
  console.log(`\n${formatTable(summary)}\n`);
  const notes = divergenceNotes(runs, optimizer);
  for (const note of notes) console.log(note);

  const outDir = resolve(settings.outDir);
  await mkdir(outDir, { recursive: true });
  const html = await renderReport({
    title: `RMSprop vs tf.train.rmsprop on handwritten digits (${tf.getBackend()})`,
    settings: describe(settings, optimizer), runs, rows: summary, createdAt: new Date(), notes,
  });
  await writeFile(join(outDir, REPORT_HTML), html);
  const json: ReportJson = { settings, optimizer, runs, summary };
  await writeFile(join(outDir, REPORT_JSON), `${JSON.stringify(json, null, 1)}\n`);
  console.log(`Report: ${join(outDir, REPORT_HTML)}`);
}

/** The docstring example of tf.keras.optimizers.RMSprop, first: one step on w = 10, loss w²/2. */
function kerasDocstringCheck(): void {
  const opt = new RMSprop({ learningRate: 0.1 });
  const w = tf.variable(tf.scalar(10));
  opt.minimize(() => tf.div(tf.square(w), 2) as tf.Scalar, [w]);
  console.log(`Keras docstring example: RMSprop({learningRate: 0.1}), w = 10, loss w²/2, one step: w = ${w.dataSync()[0].toFixed(6)} (Keras: 9.683772)`);
  opt.dispose();
  w.dispose();
}

async function startBackend(name: Backend): Promise<void> {
  let ok = false;
  try {
    ok = await tf.setBackend(name);
    await tf.ready();
  } catch {
    ok = false;
  }
  if (!ok || tf.getBackend() !== name) throw new AppError(`Could not start the TF.js ${name} backend.`);
}

/** A few throwaway steps, so neither timed run pays for the backend's first use. */
async function warmUp(data: DigitSplit, batchSize: number): Promise<void> {
  const head = (s: DigitSet, n: number): DigitSet => ({
    images: s.images.subarray(0, n * 784), labels: s.labels.subarray(0, n), count: n,
  });
  const n = Math.min(data.train.count, batchSize * 8);
  const opt = tf.train.sgd(0.01);
  await trainClassifier({
    label: 'warm-up', data: { train: head(data.train, n), test: head(data.test, 100) },
    optimizer: opt, epochs: 1, batchSize, seed: 0,
  });
  opt.dispose();
}

/** Says which run stopped learning and, where the cause is known, why. */
export function divergenceNotes(runs: readonly RunResult[], o: OptimizerOptions): string[] {
  return runs.filter((run) => !run.weightsFinite || run.batchLosses.some((l) => !Number.isFinite(l))).map((run) => {
    const why = run.label === 'tf.train.rmsprop' && o.centered
      ? ': with centered, TF.js 4.22 divides by sqrt(ms - mg^2 - epsilon), which is NaN wherever a gradient stays 0 ' +
        '(Keras adds epsilon instead)'
      : '';
    return `Note: ${run.label} diverged (its weights are no longer finite numbers)${why}.`;
  });
}

function describe(s: Settings & { trainSize: number }, o: OptimizerOptions): string[] {
  const lines = [
    `--backend ${s.backend}`, `--epochs ${s.epochs}`, `--batch-size ${s.batchSize}`, `--train-size ${s.trainSize}`,
    `--seed ${s.seed}`, `--lr ${o.learningRate}`, `--rho ${o.rho}`, `--momentum ${o.momentum}`, `--epsilon ${o.epsilon}`,
  ];
  if (o.centered) lines.push('--centered');
  if (o.schedule !== null) lines.push(`--schedule ${JSON.stringify(o.schedule)}`);
  if (o.clipnorm !== null) lines.push(`--clipnorm ${o.clipnorm}`);
  if (o.clipvalue !== null) lines.push(`--clipvalue ${o.clipvalue}`);
  if (o.globalClipnorm !== null) lines.push(`--global-clipnorm ${o.globalClipnorm}`);
  return lines;
}

// TF.js suggests installing tfjs-node on first use in Node; that is not what this run compares.
const warn = console.warn;
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].includes('tfjs-node')) return;
  warn(...args);
};

main(process.argv.slice(2)).then(
  () => { process.exitCode = 0; },
  (e: unknown) => {
    if (e instanceof AppError) {
      process.stderr.write(`error: ${e.message}\n`);
      process.exitCode = e.exitCode;
    } else {
      process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    }
  },
);
