/**
 * The browser page: loads the digits the build step packed, trains the same
 * classifier as `npm start` with the shared training code, and draws the loss.
 * Bundled by web/build.ts with esbuild.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { unpackSplit, type DigitSplit } from '../app/digits.js';
import { createOptimizer, OPTIMIZER_KINDS } from '../app/optimizers.js';
import { RMSprop } from '../src/index.js';
import { trainClassifier, type RunResult } from '../app/train.js';
import type { DemoApi, DemoSettings } from './demo_api.js';

// The wasm binaries are copied next to this bundle.
setWasmPaths(new URL('./', import.meta.url).href);

const DEFAULTS: DemoSettings = { backend: 'wasm', epochs: 2, seed: 42, batchSize: 32, learningRate: 0.001, compare: false };
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

async function run(data: DigitSplit, partial: Partial<DemoSettings>, onLoss: (runIndex: number, losses: readonly number[]) => void): Promise<RunResult[]> {
  const s: DemoSettings = { ...DEFAULTS, ...partial };
  if (!(await tf.setBackend(s.backend))) throw new Error(`the ${s.backend} backend is not available in this browser`);
  await tf.ready();
  const kinds = s.compare ? OPTIMIZER_KINDS : OPTIMIZER_KINDS.slice(0, 1);
  const results: RunResult[] = [];
  for (const [i, kind] of kinds.entries()) {
    const optimizer = createOptimizer(kind, {
      learningRate: s.learningRate, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false,
      schedule: null, clipnorm: null, clipvalue: null, globalClipnorm: null,
    });
    const losses: number[] = [];
    try {
      results.push(await trainClassifier({
        label: kind, data, optimizer, epochs: s.epochs, batchSize: s.batchSize, seed: s.seed,
        hooks: {
          onBatchEnd: (_, loss) => {
            losses.push(loss);
            if (losses.length % 8 === 0) onLoss(i, losses);
          },
          onEpochEnd: (r) => log(`${kind} on ${s.backend}, epoch ${r.epoch}: loss ${r.loss.toFixed(4)}, ` +
            `held-out accuracy ${(r.testAccuracy * 100).toFixed(2)} %, ${r.seconds.toFixed(2)} s ` +
            `(optimizer ${r.optimizerSeconds.toFixed(3)} s)`),
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
  return results;
}

/** Training loss per step on a log scale, one line per optimizer; plain canvas, nothing to load. */
function drawLosses(series: ReadonlyArray<readonly number[]>): void {
  const canvas = $<HTMLCanvasElement>('chart');
  const g = canvas.getContext('2d');
  if (g === null) return;
  g.clearRect(0, 0, canvas.width, canvas.height);
  const all = series.flat().filter((v) => v > 0 && Number.isFinite(v));
  if (all.length === 0) return;
  const lo = Math.log(Math.min(...all));
  const hi = Math.log(Math.max(...all));
  const steps = Math.max(...series.map((s) => s.length));
  const colors = ['#4c78a8', '#f58518'];
  series.forEach((s, k) => {
    g.strokeStyle = colors[k % colors.length];
    g.beginPath();
    s.forEach((v, i) => {
      const x = (i / Math.max(1, steps - 1)) * (canvas.width - 10) + 5;
      const y = canvas.height - 5 - ((Math.log(v) - lo) / Math.max(1e-9, hi - lo)) * (canvas.height - 10);
      if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
    });
    g.stroke();
  });
}

async function start(): Promise<void> {
  const response = await fetch(new URL('./digits.bin', import.meta.url));
  if (!response.ok) throw new Error(`could not load digits.bin (${response.status}); run the build step first`);
  const data = unpackSplit(await response.arrayBuffer());
  const backends = await usableBackends();
  const select = $<HTMLSelectElement>('backend');
  for (const b of backends) select.add(new Option(b, b));
  $('log').textContent = `${data.train.count} training digits, ${data.test.count} held out. Backends here: ${backends.join(', ')}.\n`;

  let busy = false;
  const api: DemoApi = {
    trainSize: data.train.count,
    backends: async () => backends,
    lastKernels: () => lastKernels,
    run: async (settings) => {
      if (busy) throw new Error('a run is already in progress');
      busy = true;
      const series: number[][] = [];
      try {
        return await run(data, settings, (i, losses) => { series[i] = [...losses]; drawLosses(series); });
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
