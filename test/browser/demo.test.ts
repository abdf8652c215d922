/**
 * The browser demo (web/), built with esbuild and driven in headless Chromium:
 * the page trains the classifier with RMSprop, the loss falls, and on wasm it
 * gives the same numbers as Node for the same seed; on webgl (SwiftShader) the
 * updates run in the fused WebGL kernel; its chart, screenshotted,
 * shows both runs' training and held-out loss with axes and a legend; nothing
 * it asks the server for is missing. Skips only when Chromium is missing
 * outside CI (see chromium.ts). Set RMSPROP_SCREENSHOTS=DIR to keep the PNGs.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { RUN_COLORS, RUN_DASHES } from '../../app/chart_data.js';
import { splitDigits } from '../../app/digits.js';
import { loadMnistPackage } from '../../app/mnist_package.js';
import { createOptimizer } from '../../app/optimizers.js';
import { trainClassifier, type RunResult } from '../../app/train.js';
import { buildWebDemo } from '../../web/build.js';
import { chartGeometry, MARKER_RADIUS, type LossSeries } from '../../web/chart.js';
import { WEB_TRAIN_SIZE, type DemoSettings } from '../../web/demo_api.js';
import { serveDirectory, type Served } from '../../web/serve.js';
import { useBackend } from '../support/tf.js';
import { chromiumMissing, launchChromium, type Browser } from './chromium.js';
import { countColor, decodePng } from './png.js';

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
  /** Every request the page made that failed or got an error status. */
  const failed: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rmsprop-web-'));
    await buildWebDemo(dir);
    served = await serveDirectory(dir);
    browser = await launchChromium({ gpu: true });
    page = await browser.context.newPage();
    page.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`); });
    page.on('requestfailed', (r) => failed.push(`failed ${r.url()}`));
    await page.setViewportSize({ width: 1000, height: 900 });
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

  test('the chart: both runs\' training and held-out loss, axes and a legend; the log fits; nothing missing', async () => {
    const logBefore = (await page.locator('#log').textContent())?.length ?? 0;
    const runs = await page.evaluate((s: DemoSettings) => window.rmspropDemo!.run(s), { ...SETTINGS, epochs: 2, compare: true, backend: 'wasm' });
    assert.deepEqual(runs.map((r) => r.label), ['rmsprop', 'tf.train.rmsprop']);
    const png = await page.locator('#chart').screenshot();
    if (process.env.RMSPROP_SCREENSHOTS) {
      await mkdir(process.env.RMSPROP_SCREENSHOTS, { recursive: true });
      await writeFile(join(process.env.RMSPROP_SCREENSHOTS, 'web-chart.png'), png);
      await writeFile(join(process.env.RMSPROP_SCREENSHOTS, 'web-page.png'), await page.screenshot({ fullPage: true }));
    }
    const img = decodePng(png);
    // The canvas draws inside a 1-pixel border, in CSS pixels (device pixel ratio 1 here).
    const box = await page.locator('#chart').evaluate((c) => ({ w: c.clientWidth, h: c.clientHeight }));
    const stepsPerEpoch = Math.ceil(WEB_TRAIN_SIZE / SETTINGS.batchSize);
    const series: LossSeries[] = runs.map((r, i) => ({
      label: r.label, color: RUN_COLORS[i], dash: RUN_DASHES[i], batchLosses: r.batchLosses,
      heldOut: r.epochs.map((e) => ({ step: e.epoch * stepsPerEpoch, loss: e.testLoss })),
    }));
    const geo = chartGeometry(box.w, box.h, series, stepsPerEpoch * 2);
    const plot = { x0: 1 + geo.plot.x, y0: 1 + geo.plot.y, x1: 1 + geo.plot.x + geo.plot.w, y1: 1 + geo.plot.y + geo.plot.h };
    for (const [i, color] of RUN_COLORS.entries()) {
      const n = countColor(img, color, 30, plot);
      assert.ok(n > 150, `${runs[i].label}: ${n} pixels of its colour ${color} in the plot`);
      const legend = countColor(img, color, 30, { x0: 0, y0: 0, x1: img.width, y1: plot.y0 });
      assert.ok(legend > 20, `${runs[i].label}: ${legend} pixels of its colour in the legend`);
    }
    // Each held-out point is a marker of its run's colour where the chart's own scales put it.
    const at = (x: number, y: number, hex: string) => countColor(img, hex, 40, { x0: Math.round(x), y0: Math.round(y), x1: Math.round(x) + 1, y1: Math.round(y) + 1 }) === 1;
    for (const [i, s] of series.entries()) {
      for (const p of s.heldOut) {
        const [x, y] = [1 + geo.xOf(p.step), 1 + geo.yOf(p.loss)];
        if (i === 1) {
          assert.ok(at(x, y, RUN_COLORS[1]), `${s.label}: held-out marker at step ${p.step}`);
        } else {
          // Around the centre, outside the second run's smaller diamond.
          const ring = Array.from({ length: 8 }, (_, k) => k * Math.PI / 4)
            .filter((a) => at(x + 0.7 * MARKER_RADIUS * Math.cos(a), y + 0.7 * MARKER_RADIUS * Math.sin(a), RUN_COLORS[0])).length;
          assert.ok(ring >= 3, `${s.label}: held-out marker at step ${p.step} (${ring} of 8 ring points in its colour)`);
        }
      }
    }
    // Axes: tick labels and titles in the margins left of and below the plot.
    assert.ok(countColor(img, '#555555', 60, { x0: 0, y0: plot.y0, x1: plot.x0 - 2, y1: plot.y1 }) > 100, 'y axis labels');
    assert.ok(countColor(img, '#555555', 60, { x0: plot.x0, y0: plot.y1 + 2, x1: plot.x1, y1: img.height }) > 100, 'x axis labels');
    const log = await page.locator('#log').evaluate((el) => ({ text: el.textContent ?? '', scroll: el.scrollWidth, client: el.clientWidth }));
    assert.ok(log.scroll <= log.client, `the log is ${log.scroll} pixels wide in a ${log.client}-pixel box`);
    const lines = log.text.slice(logBefore).split('\n').filter((l) => /held-out loss \d/.test(l));
    assert.deepEqual(lines.map((l) => l.split(' on ')[0]), ['rmsprop', 'rmsprop', 'tf.train.rmsprop', 'tf.train.rmsprop'], 'a log line per epoch and run');
    assert.deepEqual(failed, [], 'requests that failed');
  });
});
