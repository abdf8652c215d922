/**
 * The HTML report: the loss and accuracy curves of both runs drawn by Vega-Lite
 * into static SVG at write time (the page has no scripts and loads nothing),
 * and the comparison table. docs/main-job.md shows and explains it.
 */
import type { TopLevelSpec } from 'vega-lite';
import {
  firstNonFiniteStep, fittedRange, LOSS_SMOOTHING, overlapNote, RUN_COLORS, RUN_DASHES, smoothLosses,
} from './chart_data.js';
import { SUMMARY_HEADERS, summaryCells, type SummaryRow } from './summary.js';
import type { RunResult } from './train.js';

export { LOSS_SMOOTHING };

export interface ReportInput {
  readonly title: string;
  /** Flag-like lines describing the run, shown under the title. */
  readonly settings: readonly string[];
  readonly runs: readonly RunResult[];
  readonly rows: readonly SummaryRow[];
  readonly createdAt: Date;
  /** Sentences for under the table, such as which run diverged and why. */
  readonly notes?: readonly string[];
}

/** A chart to draw, and sentences for under it (overlapping or diverged runs). */
export interface ChartSpec {
  readonly spec: TopLevelSpec;
  readonly notes: readonly string[];
}

interface Chart {
  readonly svg: string;
  readonly notes: readonly string[];
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const FONT = 'system-ui, sans-serif';

export async function renderReport(r: ReportInput): Promise<string> {
  const draw = async (c: ChartSpec): Promise<Chart> => ({ svg: await toSvg(c.spec), notes: c.notes });
  const [steps, loss, accuracy] = await Promise.all([
    draw(lossPerStepChart(r.runs)), draw(perEpochChart(r.runs, 'loss')), draw(perEpochChart(r.runs, 'accuracy')),
  ]);
  const table = `<table>
<thead><tr>${SUMMARY_HEADERS.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>
<tbody>
${r.rows.map((row) => `<tr>${summaryCells(row).map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n')}
</tbody>
</table>`;
  const figure = (id: string, caption: string, chart: Chart) => `<figure id="${id}">
<figcaption>${caption}</figcaption>
${chart.svg}
${chart.notes.map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('\n')}
</figure>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(r.title)}</title>
<style>
body { font: 15px/1.4 ${FONT}; margin: 1.5em auto; max-width: 62em; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; margin: 0 0 .4em; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { padding: .3em .8em; border-bottom: 1px solid #ccc; }
td:not(:first-child) { text-align: right; font-variant-numeric: tabular-nums; }
code { background: #f3f3f3; padding: 0 .2em; }
/* One box per flag, so a line breaks between flags, never inside "--momentum 0". */
.settings code { display: inline-block; margin: 0 .3em .3em 0; overflow-wrap: anywhere; }
figure { margin: 1.2em 0; }
figcaption { font-weight: 600; margin-bottom: .3em; }
figure svg { max-width: 100%; height: auto; }
.pair { display: flex; flex-wrap: wrap; gap: 0 2em; }
.pair figure { width: 28em; }
.note { font-size: .9em; color: #555; margin: .2em 0; max-width: 46em; }
</style>
</head>
<body>
<h1>${escapeHtml(r.title)}</h1>
<p class="settings">${r.settings.map((s) => `<code>${escapeHtml(s)}</code>`).join(' ')}</p>
<p>Written ${escapeHtml(r.createdAt.toISOString())}. Times are wall-clock; “optimizer step” is the time inside
<code>applyGradients</code>, which <code>model.fit</code> calls once per batch.</p>
${table}
${(r.notes ?? []).map((n) => `<p class="note run-note">${escapeHtml(n)}</p>`).join('\n')}
${figure('loss-per-step', `Training loss per step (mean of the last ${LOSS_SMOOTHING} batches, log scale)`, steps)}
<div class="pair">
${figure('loss-per-epoch', 'Loss per epoch', loss)}
${figure('accuracy-per-epoch', 'Accuracy per epoch', accuracy)}
</div>
<p class="note">Per epoch, “training” is the mean over the epoch’s batches (as <code>model.fit</code> reports it, while the
weights still move) and “held-out” is measured after the epoch on digits never trained on.</p>
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

/** Colour and dash per run label, in run order, so every chart and legend agrees. */
function runScales(runs: readonly RunResult[]) {
  const domain = runs.map((run) => run.label);
  return {
    color: { domain, range: domain.map((_, i) => RUN_COLORS[i % RUN_COLORS.length]) },
    dash: { domain, range: domain.map((_, i) => [...RUN_DASHES[i % RUN_DASHES.length]]) },
  };
}

const CONFIG = {
  font: FONT,
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' as const, gridColor: '#eee' },
  legend: { labelFontSize: 12, titleFontSize: 12, titleFontWeight: 'normal' as const, symbolStrokeWidth: 2.5, symbolSize: 300 },
  view: { stroke: '#ccc' },
};

export function lossPerStepChart(runs: readonly RunResult[]): ChartSpec {
  const smoothed = runs.map((run) => smoothLosses(run.batchLosses));
  const values = runs.flatMap((run, k) => smoothed[k]
    .map((loss, i) => ({ optimizer: run.label, step: i + 1, loss }))
    .filter((p) => Number.isFinite(p.loss) && p.loss > 0));
  const steps = Math.max(1, ...runs.map((run) => run.batchLosses.length));
  const scales = runScales(runs);
  const yRange = fittedRange(values.map((v) => v.loss), { log: true });
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    width: 720, height: 260,
    config: CONFIG,
    data: { values },
    mark: { type: 'line', strokeWidth: 2, clip: true },
    encoding: {
      x: {
        field: 'step', type: 'quantitative', title: 'optimizer step',
        scale: { domain: [1, Math.max(2, steps)], nice: false }, axis: { tickCount: 7 },
      },
      y: {
        field: 'loss', type: 'quantitative', title: 'training loss',
        scale: { type: 'log', domain: yRange, nice: false },
        axis: { tickCount: 6 },
      },
      color: { field: 'optimizer', type: 'nominal', title: 'optimizer', scale: scales.color },
      strokeDash: { field: 'optimizer', type: 'nominal', title: 'optimizer', scale: scales.dash },
    },
  };
  const notes: string[] = [];
  const overlap = overlapNote(runs.map((run) => run.label), smoothed, 'smoothed losses', { range: yRange, log: true },
    `the dashed ${runs[1]?.label} line runs over the solid ${runs[0]?.label} line`);
  if (overlap !== null) notes.push(overlap);
  for (const run of runs) {
    const step = firstNonFiniteStep(run.batchLosses);
    if (step !== null) notes.push(`${run.label}: the loss is not a finite number from step ${step} on, so its line stops there.`);
  }
  return { spec, notes };
}

export function perEpochChart(runs: readonly RunResult[], metric: 'loss' | 'accuracy'): ChartSpec {
  const pick = (e: RunResult['epochs'][number], set: 'training' | 'held-out') =>
    metric === 'loss' ? (set === 'training' ? e.loss : e.testLoss) : (set === 'training' ? e.accuracy : e.testAccuracy);
  const values = runs.flatMap((run) => run.epochs.flatMap((e) => (['training', 'held-out'] as const).map((set) => (
    { optimizer: run.label, epoch: e.epoch, set, value: pick(e, set) }))))
    .filter((p) => Number.isFinite(p.value));
  const epochs = Math.max(1, ...runs.map((run) => run.epochs.length));
  const scales = runScales(runs);
  const x = {
    field: 'epoch', type: 'quantitative' as const, title: 'epoch',
    scale: { domain: epochs === 1 ? [0.75, 1.25] : [1, epochs], nice: false },
    axis: { values: Array.from({ length: epochs }, (_, i) => i + 1), format: 'd' },
  };
  const yRange = fittedRange(values.map((v) => v.value), { pad: 0.08 });
  const y = {
    field: 'value', type: 'quantitative' as const, title: metric,
    scale: { domain: yRange, nice: false, zero: false },
  };
  const color = { field: 'optimizer', type: 'nominal' as const, title: 'optimizer', scale: scales.color };
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    width: 310, height: 220,
    config: { ...CONFIG, legend: { ...CONFIG.legend, orient: 'bottom', direction: 'vertical', columns: 2, symbolSize: 150 } },
    data: { values },
    layer: [
      {
        // Lines carry the legend, so its symbols show the dash that tells the two sets apart.
        mark: { type: 'line', strokeWidth: 2, clip: true },
        encoding: {
          x, y, color,
          detail: { field: 'set', type: 'nominal' },
          strokeDash: {
            field: 'set', type: 'nominal', title: 'digits',
            scale: { domain: ['training', 'held-out'], range: [[], [5, 3]] },
          },
        },
      },
      {
        mark: { type: 'point', filled: true, size: 40, clip: true },
        encoding: { x, y, color },
      },
    ],
  };
  const series = (set: 'training' | 'held-out') => runs.map((run) => run.epochs.map((e) => pick(e, set)));
  const labels = runs.map((run) => run.label);
  const notes = (['training', 'held-out'] as const)
    .map((set) => overlapNote(labels, series(set), `${set} ${metric === 'loss' ? 'losses' : 'accuracies'}`,
      { range: yRange, log: false }, `${labels[1]}'s ${set} line covers ${labels[0]}'s`))
    .filter((n): n is string => n !== null);
  return { spec, notes };
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}
