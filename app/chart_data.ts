/**
 * What the loss charts draw, computed once for the HTML report (Vega-Lite) and
 * the browser page (canvas): the smoothed per-step loss, axis ranges fitted to
 * the data, and whether two runs' curves lie on top of each other.
 */

/** Batches averaged in the training-loss curve; single batches are too noisy to tell two runs apart. */
export const LOSS_SMOOTHING = 20;

/** One colour and one dash per run, in run order, the same in the report and the page. */
export const RUN_COLORS = ['#4c78a8', '#f58518'] as const;
export const RUN_DASHES: ReadonlyArray<readonly number[]> = [[], [7, 4]];

/** Trailing mean of the last `window` finite losses at each step; NaN where there is none. */
export function smoothLosses(losses: readonly number[], window = LOSS_SMOOTHING): number[] {
  const out: number[] = [];
  for (let i = 0; i < losses.length; i++) {
    const recent = losses.slice(Math.max(0, i - window + 1), i + 1).filter(Number.isFinite);
    out.push(recent.length === 0 ? NaN : recent.reduce((s, x) => s + x, 0) / recent.length);
  }
  return out;
}

/** [min, max] of the finite values (positive ones only for a log axis), widened by `pad` of the span on each side. */
export function fittedRange(values: readonly number[], { log = false, pad = 0.04 } = {}): [number, number] {
  const usable = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  if (usable.length === 0) return log ? [0.1, 1] : [0, 1];
  const lo = Math.min(...usable);
  const hi = Math.max(...usable);
  if (log) {
    const [a, b] = [Math.log10(lo), Math.log10(hi)];
    const widen = Math.max(b - a, 0.05) * pad;
    return [10 ** (a - widen), 10 ** (b + widen)];
  }
  const widen = Math.max(hi - lo, Math.abs(hi) * 0.01, 1e-9) * pad;
  return [lo - widen, hi + widen];
}

/** The largest |a − b| / max(|a|, |b|) over the points both series have as finite numbers; NaN when there are none. */
export function largestRelativeGap(a: readonly number[], b: readonly number[]): number {
  return largestGap(a, b, (x, y) => {
    const scale = Math.max(Math.abs(x), Math.abs(y));
    return scale === 0 ? 0 : Math.abs(x - y) / scale;
  });
}

function largestGap(a: readonly number[], b: readonly number[], gapOf: (x: number, y: number) => number): number {
  let gap = NaN;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (!Number.isFinite(a[i]) || !Number.isFinite(b[i])) continue;
    const g = gapOf(a[i], b[i]);
    gap = Number.isNaN(gap) ? g : Math.max(gap, g);
  }
  return gap;
}

/**
 * Two curves closer than this fraction of the axis (about 4 pixels of a
 * 260-pixel chart) at every point look like one line.
 */
export const OVERLAP_FRACTION = 0.015;

/** An axis: its range, and whether it is logarithmic. */
export interface Axis {
  readonly range: readonly [number, number];
  readonly log: boolean;
}

/**
 * A sentence for under a chart when the first two series lie on top of each
 * other on `axis`, ending with `how` (how the reader still tells them apart), else null.
 */
export function overlapNote(
  labels: readonly string[], series: ReadonlyArray<readonly number[]>, what: string, axis: Axis, how: string,
): string | null {
  if (labels.length < 2 || series.length < 2) return null;
  const at = (v: number) => (axis.log ? Math.log10(v) : v);
  const span = at(axis.range[1]) - at(axis.range[0]);
  const onAxis = largestGap(series[0], series[1], (x, y) => Math.abs(at(x) - at(y)) / span);
  if (!(onAxis < OVERLAP_FRACTION)) return null;
  const gap = largestRelativeGap(series[0], series[1]);
  const percent = gap === 0 ? '0 %' : `${(gap * 100).toPrecision(2)} %`;
  return `The ${what} of ${labels[0]} and ${labels[1]} differ by at most ${percent} at any point: ${how}.`;
}

/** The 1-based step of the first loss that is not a finite number (a run that diverged), or null. */
export function firstNonFiniteStep(losses: readonly number[]): number | null {
  const i = losses.findIndex((v) => !Number.isFinite(v));
  return i < 0 ? null : i + 1;
}
