/**
 * The pictures of `npm start`'s report (app/report.ts), checked as a reader sees
 * them: the page is opened in headless Chromium and screenshotted, and the
 * pixels must hold both runs' colours in every chart, also when the two runs
 * give the same numbers; axes are fitted to the data; the per-epoch legend
 * shows the dash that tells training from held-out; flags do not wrap; the
 * page ends where its content ends. Set RMSPROP_SCREENSHOTS=DIR to keep the PNGs.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { RUN_COLORS } from '../../app/chart_data.js';
import { lossPerStepChart, perEpochChart, renderReport } from '../../app/report.js';
import { summarize } from '../../app/summary.js';
import type { EpochRecord, RunResult } from '../../app/train.js';
import { chromiumMissing, launchChromium, type Browser } from './chromium.js';
import { countColor, decodePng, lastInkedRow, type Pixels } from './png.js';

const missing = chromiumMissing();
const STEPS_PER_EPOCH = 300;
const EPOCHS = 4;

/** A run whose loss falls like a real one's, with noise; `scale` moves it up or down as a whole. */
function syntheticRun(label: string, scale: number, seed: number): RunResult {
  let s = seed;
  const noise = () => { s = (s * 1103515245 + 12345) % 2 ** 31; return s / 2 ** 31 - 0.5; };
  const batchLosses = Array.from({ length: STEPS_PER_EPOCH * EPOCHS }, (_, i) =>
    scale * (0.12 + 2.2 * Math.exp(-i / 60)) * (1 + 0.4 * noise()));
  const epochs: EpochRecord[] = Array.from({ length: EPOCHS }, (_, e) => ({
    epoch: e + 1, loss: scale * (0.5 / (e + 1)), accuracy: 0.85 + 0.03 * e / scale,
    testLoss: scale * (0.35 - 0.04 * e), testAccuracy: 0.9 + 0.01 * e / scale, seconds: 2, optimizerSeconds: 0.1,
  }));
  return { label, backend: 'wasm', epochs, batchLosses, weightsFinite: true };
}

const SETTINGS = ['--backend wasm', '--epochs 4', '--batch-size 32', '--train-size 9600', '--seed 42', '--lr 0.001',
  '--rho 0.9', '--momentum 0', '--epsilon 1e-7'];

describe('the report\'s pictures in headless Chromium', { skip: missing ?? false }, () => {
  let dir: string;
  let browser: Browser;
  let page: Page;
  const keep = process.env.RMSPROP_SCREENSHOTS;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rmsprop-report-'));
    if (keep) await mkdir(keep, { recursive: true });
    browser = await launchChromium();
    page = await browser.context.newPage();
  });
  after(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function open(name: string, runs: RunResult[], width: number): Promise<void> {
    const html = await renderReport({ title: `report: ${name}`, settings: SETTINGS, runs, rows: runs.map(summarize), createdAt: new Date(0) });
    const file = join(dir, `${name}.html`);
    await writeFile(file, html);
    await page.setViewportSize({ width, height: 900 });
    await page.goto(pathToFileURL(file).href);
  }

  async function shot(name: string, selector?: string): Promise<Pixels> {
    const png = selector === undefined
      ? await page.screenshot({ fullPage: true })
      : await page.locator(selector).screenshot();
    if (keep) await writeFile(join(keep, `${name}.png`), png);
    return decodePng(png);
  }

  /** Both runs' colours are on the chart, each in more than `min` pixels. */
  function assertBothRuns(img: Pixels, what: string, min: number): void {
    const [blue, orange] = RUN_COLORS.map((c) => countColor(img, c, 30));
    assert.ok(blue > min && orange > min, `${what}: ${blue} pixels of the first run's colour, ${orange} of the second's (want > ${min} each)`);
  }

  test('two runs that differ: both drawn in every chart, flags on one line each, no blank space at the end', async () => {
    await open('differ', [syntheticRun('rmsprop', 1, 1), syntheticRun('tf.train.rmsprop', 1.6, 2)], 1000);
    assertBothRuns(await shot('report-differ-steps', '#loss-per-step svg'), 'loss per step', 400);
    assertBothRuns(await shot('report-differ-loss', '#loss-per-epoch svg'), 'loss per epoch', 150);
    assertBothRuns(await shot('report-differ-accuracy', '#accuracy-per-epoch svg'), 'accuracy per epoch', 150);
    const full = await shot('report-differ');
    const blank = full.height - 1 - lastInkedRow(full);
    assert.ok(blank < 60, `the page ends ${blank} pixels below its last content`);
    assert.equal(await page.locator('.note').filter({ hasText: 'differ by at most' }).count(), 0, 'no overlap note for runs that differ');
  });

  test('two runs with the same numbers: the second is dashed over the first, and a note says so', async () => {
    const a = syntheticRun('rmsprop', 1, 1);
    const b: RunResult = { ...a, label: 'tf.train.rmsprop', batchLosses: a.batchLosses.map((l) => l * (1 + 1e-4)) };
    await open('same', [a, b], 1000);
    const steps = await shot('report-same-steps', '#loss-per-step svg');
    // Under the dashed line the solid one shows through the gaps: at least a
    // quarter as many pixels as the dashed line's own.
    const [blue, orange] = RUN_COLORS.map((c) => countColor(steps, c, 30));
    assert.ok(blue > 400 && orange > 400 && blue > orange / 4, `coinciding runs: ${blue} pixels of the first, ${orange} of the second`);
    const note = await page.locator('#loss-per-step .note').textContent();
    assert.match(note ?? '', /differ by at most 0\.010 % at any point: the dashed tf\.train\.rmsprop line runs over the solid rmsprop line/);
  });

  test('per-epoch legend: the held-out symbol is dashed and the training one is not', async () => {
    await open('legend', [syntheticRun('rmsprop', 1, 1), syntheticRun('tf.train.rmsprop', 1.6, 2)], 1000);
    for (const id of ['loss-per-epoch', 'accuracy-per-epoch']) {
      const symbols = await page.locator(`#${id} .role-legend-symbol path`).evaluateAll((paths) =>
        paths.map((p) => ({ dash: p.getAttribute('stroke-dasharray'), d: p.getAttribute('d') ?? '' })));
      const labels = await page.locator(`#${id} .role-legend-label text`).allTextContents();
      assert.deepEqual(labels, ['rmsprop', 'tf.train.rmsprop', 'training', 'held-out'], `${id} legend labels`);
      const dashes = symbols.map((s) => s.dash);
      // The order of the symbols follows the labels: the held-out symbol (the last) carries the dash.
      assert.equal(dashes.length, 4, `${id}: ${JSON.stringify(symbols)}`);
      const gap = (dash: string | null) => (dash ?? '').split(',').map(Number).some((v, i) => i % 2 === 1 && v > 0);
      assert.ok(gap(dashes[3]), `${id}: held-out symbol dash "${dashes[3]}"`);
      assert.ok(!gap(dashes[2]), `${id}: training symbol dash "${dashes[2]}"`);
      // A dash shows only on a stroke: the two set symbols must be line segments, not (filled) circles.
      for (const s of symbols.slice(2)) assert.match(s.d, /^M[-\d.]+,0L[-\d.]+,0$/, `${id}: a set symbol drawn as ${s.d}`);
    }
  });

  test('a narrow window: each flag stays on one line', async () => {
    await open('narrow', [syntheticRun('rmsprop', 1, 1), syntheticRun('tf.train.rmsprop', 1.6, 2)], 420);
    const heights = await page.locator('.settings code').evaluateAll((codes) => codes.map((c) => ({
      text: c.textContent, lines: Math.round(c.getBoundingClientRect().height / parseFloat(getComputedStyle(c).lineHeight)),
    })));
    for (const h of heights) assert.equal(h.lines, 1, `"${h.text}" takes ${h.lines} lines`);
  });
});

describe('report axes fit the data', () => {
  const runs = [syntheticRun('rmsprop', 1, 1), syntheticRun('tf.train.rmsprop', 1.6, 2)];

  test('loss per step: x from step 1 to the last step, log y within the data (to a few percent)', () => {
    const { spec } = lossPerStepChart(runs);
    const enc = (spec as { encoding: { x: { scale: { domain: number[] } }; y: { scale: { domain: number[]; type: string } } } }).encoding;
    assert.deepEqual(enc.x.scale.domain, [1, STEPS_PER_EPOCH * EPOCHS]);
    assert.equal(enc.y.scale.type, 'log');
    const values = (spec as { data: { values: { loss: number }[] } }).data.values.map((v) => v.loss);
    const [lo, hi] = [Math.min(...values), Math.max(...values)];
    const [ylo, yhi] = enc.y.scale.domain;
    assert.ok(ylo < lo && ylo > lo / 1.2, `y from ${ylo} for data from ${lo}`);
    assert.ok(yhi > hi && yhi < hi * 1.2, `y to ${yhi} for data to ${hi}`);
  });

  test('per epoch: x over the epochs, y within the data', () => {
    for (const metric of ['loss', 'accuracy'] as const) {
      const { spec } = perEpochChart(runs, metric);
      const layer = (spec as { layer: { encoding: { x: { scale: { domain: number[] } }; y: { scale: { domain: number[] } } } }[] }).layer[0];
      assert.deepEqual(layer.encoding.x.scale.domain, [1, EPOCHS]);
      const values = (spec as { data: { values: { value: number }[] } }).data.values.map((v) => v.value);
      const [lo, hi] = [Math.min(...values), Math.max(...values)];
      const [ylo, yhi] = layer.encoding.y.scale.domain;
      const span = hi - lo;
      assert.ok(ylo < lo && ylo > lo - 0.2 * span, `${metric}: y from ${ylo} for data from ${lo}`);
      assert.ok(yhi > hi && yhi < hi + 0.2 * span, `${metric}: y to ${yhi} for data to ${hi}`);
    }
  });
});
