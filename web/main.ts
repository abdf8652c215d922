/**
 * The browser page: loads the digits the build step packed, trains the same
 * classifier as `npm start` with the shared training code when Train is
 * pressed, and draws the training and held-out loss (web/chart.ts).
 * Bundled by web/build.ts with esbuild. docs/browser-demo.md describes it.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { RUN_COLORS, RUN_DASHES } from '../app/chart_data.js';
import { unpackSplit, type DigitSplit } from '../app/digits.js';
import { createOptimizer, OPTIMIZER_KINDS } from '../app/optimizers.js';
import { RMSprop } from '../src/index.js';
import { batchesPerEpoch, trainClassifier, type RunResult } from '../app/train.js';
import { drawLossChart, type LossSeries } from './chart.js';
import type { DemoApi, DemoSettings } from './demo_api.js';

// The wasm binaries are copied next to this bundle.
setWasmPaths(new URL('./', import.meta.url).href);

const DEFAULTS: DemoSettings = { backend: 'wasm', epochs: 3, seed: 42, batchSize: 32, learningRate: 0.001, compare: false };
const CANDIDATES = ['wasm', 'webgl', 'cpu'];

/** What updated the weights in the last step of the last run (webgl: 'webgl-fused', the fused GPU kernel). */
let lastKernels: string[] = [];

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const log = (line: string) => { $('log').textContent += `${line}\n`; };

async function usableBackends(): Promise<string[]> {
  const usable: string[] = [];
  for (const name of CANDIDATES) {
    try {
      if (await tf.setBackend(name)) usable.push(name);
    } catch {
      // Not available here (e.g. no WebGL in a headless browser without a GPU).
    }
  }
  return usable;
}

/** What the chart shows while and after a run. */
interface Live {
  series: LossSeries[];
  totalSteps: number;
}

async function run(data: DigitSplit, partial: Partial<DemoSettings>, live: Live, redraw: () => void): Promise<RunResult[]> {
  const s: DemoSettings = { ...DEFAULTS, ...partial };
  if (!(await tf.setBackend(s.backend))) throw new Error(`the ${s.backend} backend is not available in this browser`);
  await tf.ready();
  const kinds = s.compare ? OPTIMIZER_KINDS : OPTIMIZER_KINDS.slice(0, 1);
  const stepsPerEpoch = batchesPerEpoch(data.train.count, s.batchSize);
  live.series = kinds.map((kind, i) => ({
    label: kind, color: RUN_COLORS[i % RUN_COLORS.length], dash: RUN_DASHES[i % RUN_DASHES.length], batchLosses: [], heldOut: [],
  }));
  live.totalSteps = stepsPerEpoch * s.epochs;
  redraw();
  const results: RunResult[] = [];
  for (const [i, kind] of kinds.entries()) {
    const optimizer = createOptimizer(kind, {
      learningRate: s.learningRate, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false,
      schedule: null, clipnorm: null, clipvalue: null, globalClipnorm: null,
    });
    const losses: number[] = [];
    const heldOut: { step: number; loss: number }[] = [];
    live.series[i] = { ...live.series[i], batchLosses: losses, heldOut };
    try {
      results.push(await trainClassifier({
        label: kind, data, optimizer, epochs: s.epochs, batchSize: s.batchSize, seed: s.seed,
        hooks: {
          onBatchEnd: (_, loss) => {
            losses.push(loss);
            if (losses.length % 8 === 0) redraw();
          },
          onEpochEnd: (r) => {
            heldOut.push({ step: r.epoch * stepsPerEpoch, loss: r.testLoss });
            redraw();
            log(`${kind} on ${s.backend}, epoch ${r.epoch}: training loss ${r.loss.toFixed(4)}, held-out loss ` +
              `${r.testLoss.toFixed(4)}, held-out accuracy ${(r.testAccuracy * 100).toFixed(2)} %, ${r.seconds.toFixed(2)} s ` +
              `(optimizer ${r.optimizerSeconds.toFixed(3)} s)`);
          },
        },
      }));
    } finally {
      if (optimizer instanceof RMSprop) {
        lastKernels = [...new Set(optimizer.lastStepKernels().map((c) => c.kernel))];
        log(`${kind} on ${s.backend}: updates ran in ${lastKernels.join(', ')}`);
      }
      optimizer.dispose();
    }
  }
  redraw();
  return results;
}

async function start(): Promise<void> {
  const response = await fetch(new URL('./digits.bin', import.meta.url));
  if (!response.ok) throw new Error(`could not load digits.bin (${response.status}); run the build step first`);
  const data = unpackSplit(await response.arrayBuffer());
  const backends = await usableBackends();
  const select = $<HTMLSelectElement>('backend');
  for (const b of backends) select.add(new Option(b, b));
  $('log').textContent = `${data.train.count} training digits, ${data.test.count} held out. Backends here: ${backends.join(', ')}.\n` +
    'Ready: press Train to start (nothing runs before).\n';

  const live: Live = { series: [], totalSteps: batchesPerEpoch(data.train.count, DEFAULTS.batchSize) * DEFAULTS.epochs };
  const redraw = () => drawLossChart($<HTMLCanvasElement>('chart'), live.series, live.totalSteps, 'Press Train to start');
  redraw();
  window.addEventListener('resize', redraw);

  let busy = false;
  const api: DemoApi = {
    trainSize: data.train.count,
    backends: async () => backends,
    lastKernels: () => lastKernels,
    run: async (settings) => {
      if (busy) throw new Error('a run is already in progress');
      busy = true;
      try {
        return await run(data, settings, live, redraw);
      } finally {
        busy = false;
      }
    },
  };
  window.rmspropDemo = api;

  const button = $<HTMLButtonElement>('train');
  button.disabled = false;
  $('settings').addEventListener('submit', (event) => {
    event.preventDefault();
    button.disabled = true;
    const num = (id: string) => Number($<HTMLInputElement>(id).value);
    api.run({
      backend: select.value, epochs: num('epochs'), seed: num('seed'), learningRate: num('lr'),
      compare: $<HTMLInputElement>('compare').checked,
    }).catch((e: unknown) => log(`error: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => { button.disabled = false; });
  });
}

start().catch((e: unknown) => {
  const message = e instanceof Error ? e.message : String(e);
  window.rmspropDemoError = message;
  log(`error: ${message}`);
});
