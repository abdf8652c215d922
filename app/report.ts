/**
 * The HTML report: the loss and accuracy curves of both runs drawn by Vega-Lite
 * into static SVG at write time (the page has no scripts and loads nothing),
 * and the comparison table.
 */
import type { TopLevelSpec } from 'vega-lite';
import { SUMMARY_HEADERS, summaryCells, type SummaryRow } from './summary.js';
import type { RunResult } from './train.js';

export interface ReportInput {
  readonly title: string;
  /** Flag-like lines describing the run, shown under the title. */
  readonly settings: readonly string[];
  readonly runs: readonly RunResult[];
  readonly rows: readonly SummaryRow[];
  readonly createdAt: Date;
}

/** Batches averaged in the training-loss curve, so the two runs can be told apart. */
export const LOSS_SMOOTHING = 20;

export async function renderReport(r: ReportInput): Promise<string> {
  const charts = await Promise.all([lossPerStepChart(r.runs), perEpochChart(r.runs, 'loss'), perEpochChart(r.runs, 'accuracy')]);
  const table = `<table>
<thead><tr>${SUMMARY_HEADERS.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>
<tbody>
${r.rows.map((row) => `<tr>${summaryCells(row).map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n')}
</tbody>
</table>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(r.title)}</title>
<style>
body { font: 15px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 60em; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { padding: .3em .8em; border-bottom: 1px solid #ccc; }
td:not(:first-child) { text-align: right; font-variant-numeric: tabular-nums; }
code { background: #f3f3f3; padding: 0 .2em; }
figure { margin: 1.5em 0; }
</style>
</head>
<body>
<h1>${escapeHtml(r.title)}</h1>
<p>${r.settings.map((s) => `<code>${escapeHtml(s)}</code>`).join(' ')}</p>
<p>Written ${escapeHtml(r.createdAt.toISOString())}. Times are wall-clock; “optimizer step” is the time inside
<code>applyGradients</code>, which <code>model.fit</code> calls once per batch.</p>
${table}
<figure><figcaption>Training loss per step (mean of the last ${LOSS_SMOOTHING} batches)</figcaption>${charts[0]}</figure>
<figure><figcaption>Loss per epoch: training (mean over the epoch) and held-out digits</figcaption>${charts[1]}</figure>
<figure><figcaption>Accuracy per epoch: training (mean over the epoch) and held-out digits</figcaption>${charts[2]}</figure>
</body>
</html>
`;
}

async function toSvg(spec: TopLevelSpec): Promise<string> {
  // Imported when needed: vega is ESM with top-level await, which the CommonJS
  // build of this file cannot require().
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function lossPerStepChart(runs: readonly RunResult[]): Promise<string> {
  const values = runs.flatMap((run) => run.batchLosses.map((loss, i) => ({ optimizer: run.label, step: i + 1, loss })));
  return toSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 640, height: 260,
    data: { values },
    transform: [{
      window: [{ op: 'mean', field: 'loss', as: 'smoothed' }],
      frame: [-(LOSS_SMOOTHING - 1), 0], groupby: ['optimizer'], sort: [{ field: 'step' }],
    }],
    mark: { type: 'line', strokeWidth: 1.5 },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'optimizer step' },
      y: { field: 'smoothed', type: 'quantitative', title: 'training loss', scale: { type: 'log' } },
      color: { field: 'optimizer', type: 'nominal' },
    },
  });
}

function perEpochChart(runs: readonly RunResult[], metric: 'loss' | 'accuracy'): Promise<string> {
  const values = runs.flatMap((run) => run.epochs.flatMap((e) => [
    { optimizer: run.label, epoch: e.epoch, set: 'training', value: metric === 'loss' ? e.loss : e.accuracy },
    { optimizer: run.label, epoch: e.epoch, set: 'held-out', value: metric === 'loss' ? e.testLoss : e.testAccuracy },
  ]));
  return toSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 640, height: 220,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'value', type: 'quantitative', title: metric, scale: { zero: false } },
      color: { field: 'optimizer', type: 'nominal' },
      strokeDash: { field: 'set', type: 'nominal', title: 'digits' },
    },
  });
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}
