/**
 * The page's loss chart on a plain canvas (nothing to load): per run, the
 * training loss per step (mean of the last batches, as in the report) and the
 * held-out loss after each epoch, on a log axis fitted to the data, with axis
 * titles, ticks and a legend drawn on the canvas itself.
 */
import { fittedRange, LOSS_SMOOTHING, smoothLosses } from '../app/chart_data.js';

export interface LossSeries {
  readonly label: string;
  readonly color: string;
  /** Canvas line dash of the training line; [] is solid. */
  readonly dash: readonly number[];
  readonly batchLosses: readonly number[];
  /** Held-out loss measured after each epoch, at the step that ended it. */
  readonly heldOut: ReadonlyArray<{ readonly step: number; readonly loss: number }>;
}

const FONT = '12px system-ui, sans-serif';
const MARGIN = { left: 62, right: 18, top: 46, bottom: 44 };
const GREY = '#555';
/** Of the first run's held-out markers; the second run's diamonds reach 0.55 of it. */
export const MARKER_RADIUS = 6;

/** Where things go on a chart of `width` × `height` CSS pixels: the plot area and the two scales. */
export interface ChartGeometry {
  readonly plot: Plot;
  readonly range: readonly [number, number];
  readonly hasData: boolean;
  readonly smoothed: readonly number[][];
  readonly xOf: (step: number) => number;
  readonly yOf: (loss: number) => number;
}

export function chartGeometry(width: number, height: number, series: readonly LossSeries[], totalSteps: number): ChartGeometry {
  const plot = { x: MARGIN.left, y: MARGIN.top, w: width - MARGIN.left - MARGIN.right, h: height - MARGIN.top - MARGIN.bottom };
  const smoothed = series.map((s) => smoothLosses(s.batchLosses));
  const all = [...smoothed.flat(), ...series.flatMap((s) => s.heldOut.map((p) => p.loss))];
  const hasData = all.some((v) => Number.isFinite(v) && v > 0);
  const [lo, hi] = hasData ? fittedRange(all, { log: true, pad: 0.06 }) : [0.1, 3];
  const steps = Math.max(2, totalSteps);
  // Inset, so a marker on the first or last step is drawn whole.
  const inset = 7;
  return {
    plot, range: [lo, hi], hasData, smoothed,
    xOf: (step) => plot.x + inset + ((step - 1) / (steps - 1)) * (plot.w - 2 * inset),
    yOf: (v) => plot.y + plot.h - ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plot.h,
  };
}

/** Draws every series over steps 1..`totalSteps`; with no data yet, the axes frame and `emptyText`. */
export function drawLossChart(canvas: HTMLCanvasElement, series: readonly LossSeries[], totalSteps: number, emptyText: string): void {
  const g = prepare(canvas);
  if (g === null) return;
  const width = canvas.clientWidth;
  const { plot, range: [lo, hi], hasData, smoothed, xOf, yOf } = chartGeometry(width, canvas.clientHeight, series, totalSteps);
  const steps = Math.max(2, totalSteps);

  g.font = FONT;
  drawAxes(g, plot, { ticks: linearTicks(1, steps), at: xOf }, { ticks: logTicks(lo, hi), at: yOf });
  drawLegend(g, series, width);
  if (!hasData) {
    g.fillStyle = GREY;
    g.textAlign = 'center';
    g.fillText(emptyText, plot.x + plot.w / 2, plot.y + plot.h / 2);
    return;
  }

  g.save();
  g.beginPath();
  g.rect(plot.x, plot.y, plot.w, plot.h);
  g.clip();
  series.forEach((s, k) => {
    g.strokeStyle = s.color;
    g.lineWidth = 2;
    g.setLineDash([...s.dash]);
    g.beginPath();
    let drawing = false;
    smoothed[k].forEach((v, i) => {
      if (!(Number.isFinite(v) && v > 0)) { drawing = false; return; }
      if (drawing) g.lineTo(xOf(i + 1), yOf(v)); else g.moveTo(xOf(i + 1), yOf(v));
      drawing = true;
    });
    g.stroke();
    g.setLineDash([]);
    // Held-out: a thin line through markers, so a single epoch still shows.
    const points = s.heldOut.filter((p) => Number.isFinite(p.loss) && p.loss > 0);
    g.lineWidth = 1;
    g.beginPath();
    points.forEach((p, i) => (i === 0 ? g.moveTo(xOf(p.step), yOf(p.loss)) : g.lineTo(xOf(p.step), yOf(p.loss))));
    g.stroke();
    for (const p of points) marker(g, xOf(p.step), yOf(p.loss), s.color, k);
  });
  g.restore();
}

/** A canvas sized for the screen's pixel density, drawing in CSS pixels. */
function prepare(canvas: HTMLCanvasElement): CanvasRenderingContext2D | null {
  const ratio = window.devicePixelRatio || 1;
  const [w, h] = [Math.round(canvas.clientWidth * ratio), Math.round(canvas.clientHeight * ratio)];
  if (canvas.width !== w || canvas.height !== h) [canvas.width, canvas.height] = [w, h];
  const g = canvas.getContext('2d');
  if (g === null) return null;
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, canvas.clientWidth, canvas.clientHeight);
  return g;
}

interface Plot { readonly x: number; readonly y: number; readonly w: number; readonly h: number }
interface AxisTicks { readonly ticks: readonly number[]; readonly at: (v: number) => number }

function drawAxes(g: CanvasRenderingContext2D, plot: Plot, x: AxisTicks, y: AxisTicks): void {
  g.lineWidth = 1;
  g.strokeStyle = '#eee';
  for (const t of x.ticks) line(g, x.at(t), plot.y, x.at(t), plot.y + plot.h);
  for (const t of y.ticks) line(g, plot.x, y.at(t), plot.x + plot.w, y.at(t));
  // On pixel centres, so the 1-pixel frame is crisp rather than two faint pixels.
  g.strokeStyle = '#888';
  g.strokeRect(Math.round(plot.x) - 0.5, Math.round(plot.y) - 0.5, Math.round(plot.w) + 1, Math.round(plot.h) + 1);
  g.fillStyle = GREY;
  g.textAlign = 'center';
  g.textBaseline = 'top';
  for (const t of x.ticks) g.fillText(t.toLocaleString('en-US'), x.at(t), plot.y + plot.h + 5);
  g.fillText('optimizer step', plot.x + plot.w / 2, plot.y + plot.h + 24);
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (const t of y.ticks) g.fillText(formatTick(t), plot.x - 6, y.at(t));
  g.save();
  g.translate(14, plot.y + plot.h / 2);
  g.rotate(-Math.PI / 2);
  g.textAlign = 'center';
  g.fillText('loss (log scale)', 0, 0);
  g.restore();
}

function drawLegend(g: CanvasRenderingContext2D, series: readonly LossSeries[], width: number): void {
  g.textAlign = 'left';
  g.textBaseline = 'middle';
  g.fillStyle = GREY;
  let x = MARGIN.left;
  const y1 = 12;
  const y2 = 30;
  series.forEach((s, k) => {
    g.strokeStyle = s.color;
    g.lineWidth = 2;
    g.setLineDash([...s.dash]);
    line(g, x, y1, x + 26, y1);
    g.setLineDash([]);
    marker(g, x + 36, y1, s.color, k);
    g.fillStyle = GREY;
    g.fillText(s.label, x + 46, y1);
    x += 60 + g.measureText(s.label).width;
  });
  // What the two kinds of mark are, drawn in grey so they read as a key for every colour.
  x = MARGIN.left;
  g.strokeStyle = GREY;
  g.lineWidth = 2;
  line(g, x, y2, x + 26, y2);
  const training = `training (mean of the last ${LOSS_SMOOTHING} batches)`;
  g.fillText(training, x + 32, y2);
  x += 48 + g.measureText(training).width;
  if (x + 200 > width) return;
  marker(g, x + 13, y2, GREY);
  g.fillStyle = GREY;
  g.fillText('held-out (after each epoch)', x + 26, y2);
}

/** A held-out point: a circle for the first run, a smaller diamond for the second, so one never hides the other's colour. */
function marker(g: CanvasRenderingContext2D, x: number, y: number, color: string, run = 0): void {
  g.beginPath();
  if (run % 2 === 0) {
    g.arc(x, y, MARKER_RADIUS, 0, 2 * Math.PI);
  } else {
    const r = MARKER_RADIUS * 0.55;
    g.moveTo(x, y - r);
    g.lineTo(x + r, y);
    g.lineTo(x, y + r);
    g.lineTo(x - r, y);
    g.closePath();
  }
  g.fillStyle = color;
  g.fill();
  g.lineWidth = 1.5;
  g.strokeStyle = '#fff';
  g.stroke();
}

function line(g: CanvasRenderingContext2D, x0: number, y0: number, x1: number, y1: number): void {
  g.beginPath();
  g.moveTo(x0, y0);
  g.lineTo(x1, y1);
  g.stroke();
}

/** Round ticks (1, 2 or 5 × 10^k apart) from lo to hi, at most about eight. */
export function linearTicks(lo: number, hi: number): number[] {
  const raw = (hi - lo) / 8;
  const pow = 10 ** Math.floor(Math.log10(raw || 1));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? 10 * pow;
  const first = Math.ceil(lo / step) * step;
  const ticks: number[] = [];
  for (let t = first; t <= hi + 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** Ticks for a log axis: 1, 2 and 5 per decade, and also 3 (and every integer multiple) when the range is short. */
export function logTicks(lo: number, hi: number): number[] {
  for (const multiples of [[1], [1, 2, 5], [1, 2, 3, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]]) {
    const ticks: number[] = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      for (const m of multiples) {
        const t = Number((m * 10 ** e).toPrecision(6));
        if (t >= lo && t <= hi) ticks.push(t);
      }
    }
    if (ticks.length >= 4 || multiples.length === 9) return ticks;
  }
  return [];
}

function formatTick(v: number): string {
  return v >= 1000 || v < 0.001 ? v.toExponential(0) : String(Number(v.toPrecision(3)));
}
