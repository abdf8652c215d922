/**
 * The browser demo (web/), built with esbuild and driven in headless Chromium:
 * the page trains the classifier with RMSprop, the loss falls, and on wasm it
 * gives the same numbers as Node for the same seed; on webgl (SwiftShader) the
 * updates run in the fused WebGL kernel. Skips only when Chromium is missing
 * outside CI (see chromium.ts).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { splitDigits } from '../../app/digits.js';
import { loadMnistPackage } from '../../app/mnist_package.js';
import { createOptimizer } from '../../app/optimizers.js';
import { trainClassifier, type RunResult } from '../../app/train.js';
import { buildWebDemo } from '../../web/build.js';
import { WEB_TRAIN_SIZE, type DemoSettings } from '../../web/demo_api.js';
import { serveDirectory, type Served } from '../../web/serve.js';
import { useBackend } from '../support/tf.js';
import { chromiumMissing, launchChromium, type Browser } from './chromium.js';

const missing = chromiumMissing();
const SETTINGS = { epochs: 1, seed: 42, batchSize: 32, learningRate: 0.001, compare: false } as const;

/** Mean of the first and of the last `n` batch losses. */
function ends(losses: readonly number[], n = 10): [number, number] {
  const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  return [mean(losses.slice(0, n)), mean(losses.slice(-n))];
}

function assertLossFalls(run: RunResult): void {
  const [first, last] = ends(run.batchLosses);
  // From about ln 10 ≈ 2.3 at chance; one epoch of 63 steps more than halves it.
  assert.ok(last < first / 2, `${run.backend}: loss ${first} over the first 10 steps, ${last} over the last 10`);
}

async function trainInNode(): Promise<RunResult> {
  await useBackend('wasm');
  const optimizer = createOptimizer('rmsprop', {
    learningRate: SETTINGS.learningRate, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false,
    schedule: null, clipnorm: null, clipvalue: null, globalClipnorm: null,
  });
  try {
    return await trainClassifier({
      label: 'rmsprop', data: splitDigits(loadMnistPackage(), WEB_TRAIN_SIZE), optimizer,
      epochs: SETTINGS.epochs, batchSize: SETTINGS.batchSize, seed: SETTINGS.seed,
    });
  } finally {
    optimizer.dispose();
  }
}

describe('browser demo in headless Chromium', { skip: missing ?? false }, () => {
  let dir: string;
  let served: Served;
  let browser: Browser;
  let page: Page;
  let backends: string[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rmsprop-web-'));
    await buildWebDemo(dir);
    served = await serveDirectory(dir);
    browser = await launchChromium({ gpu: true });
    page = await browser.context.newPage();
    await page.goto(served.url);
    await page.waitForFunction(() => window.rmspropDemo !== undefined || window.rmspropDemoError !== undefined, null, { timeout: 60_000 });
    const error = await page.evaluate(() => window.rmspropDemoError);
    assert.equal(error, undefined, `the page failed to start: ${error}`);
    backends = await page.evaluate(() => window.rmspropDemo!.backends());
  });

  after(async () => {
    await browser?.close();
    await served?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const runInPage = (backend: string): Promise<RunResult[]> =>
    page.evaluate((s: DemoSettings) => window.rmspropDemo!.run(s), { ...SETTINGS, backend });

  test('wasm: the loss falls, and the numbers are Node\'s for the same seed', async () => {
    assert.ok(backends.includes('wasm'), `backends: ${backends.join(', ')}`);
    assert.equal(await page.evaluate(() => window.rmspropDemo!.trainSize), WEB_TRAIN_SIZE);
    const [web] = await runInPage('wasm');
    assert.equal(web.backend, 'wasm');
    assert.equal(web.batchLosses.length, Math.ceil(WEB_TRAIN_SIZE / SETTINGS.batchSize));
    assertLossFalls(web);
    const node = await trainInNode();
    // Same pixels (float32 file), same seeded weights and order, same wasm binary
    // (Chromium without cross-origin isolation runs the single-threaded SIMD build,
    // as Node does): the same float32 operations in the same order, so equal to the bit.
    assert.deepEqual(web.batchLosses, node.batchLosses);
    assert.equal(web.epochs[0].testAccuracy, node.epochs[0].testAccuracy);
    assert.equal(web.epochs[0].testLoss, node.epochs[0].testLoss);
  });

  test('webgl, where the browser has it: the fused kernel updates, the loss falls and ends near Node\'s', async (t) => {
    if (!backends.includes('webgl')) {
      t.skip(`no WebGL in this Chromium (backends: ${backends.join(', ')})`);
      return;
    }
    const [web] = await runInPage('webgl');
    assert.equal(web.backend, 'webgl');
    assert.deepEqual(await page.evaluate(() => window.rmspropDemo!.lastKernels()), ['webgl-fused']);
    assertLossFalls(web);
    const node = await trainInNode();
    // Shaders sum in another order than wasm, so each step differs in the last
    // float32 bits and the runs drift apart slowly: with SwiftShader (ANGLE on
    // its Vulkan) and the fused kernel, the epoch loss differs by about 1e-7
    // relative after 63 steps. 1e-3 leaves room for a GPU's own rounding; 0.5 points of
    // accuracy is 5 of the 1000 held-out digits.
    const [, webLast] = ends(web.batchLosses);
    const [, nodeLast] = ends(node.batchLosses);
    assert.ok(Math.abs(webLast - nodeLast) <= 1e-3 * nodeLast, `last losses: webgl ${webLast}, Node wasm ${nodeLast}`);
    assert.ok(Math.abs(web.epochs[0].testAccuracy - node.epochs[0].testAccuracy) <= 0.005,
      `held-out accuracy: webgl ${web.epochs[0].testAccuracy}, Node wasm ${node.epochs[0].testAccuracy}`);
  });
});

