/**
 * The comparison table: final held-out accuracy, time per epoch and time in the
 * optimizer step for each run, as rows the terminal and the HTML report share.
 */
import type { RunResult } from './train.js';

export interface SummaryRow {
  readonly optimizer: string;
  readonly testAccuracy: number;
  readonly testLoss: number;
  /** Mean over epochs, seconds. */
  readonly secondsPerEpoch: number;
  readonly optimizerSecondsPerEpoch: number;
  /** Optimizer time / epoch time. */
  readonly optimizerShare: number;
}

export const SUMMARY_HEADERS = [
  'optimizer', 'held-out accuracy', 'held-out loss', 'time per epoch', 'optimizer step per epoch', 'share of epoch',
] as const;

export function summarize(run: RunResult): SummaryRow {
  const last = run.epochs[run.epochs.length - 1];
  const mean = (f: (e: RunResult['epochs'][number]) => number) => run.epochs.reduce((s, e) => s + f(e), 0) / run.epochs.length;
  const secondsPerEpoch = mean((e) => e.seconds);
  const optimizerSecondsPerEpoch = mean((e) => e.optimizerSeconds);
  return {
    optimizer: run.label, testAccuracy: last.testAccuracy, testLoss: last.testLoss,
    secondsPerEpoch, optimizerSecondsPerEpoch, optimizerShare: optimizerSecondsPerEpoch / secondsPerEpoch,
  };
}

export function summaryCells(r: SummaryRow): string[] {
  return [
    r.optimizer,
    `${(r.testAccuracy * 100).toFixed(2)} %`,
    r.testLoss.toFixed(4),
    `${r.secondsPerEpoch.toFixed(2)} s`,
    `${r.optimizerSecondsPerEpoch.toFixed(3)} s`,
    `${(r.optimizerShare * 100).toFixed(1)} %`,
  ];
}

/** A plain-text table with right-aligned numbers. */
export function formatTable(rows: readonly SummaryRow[]): string {
  const cells = [[...SUMMARY_HEADERS], ...rows.map(summaryCells)];
  const widths = SUMMARY_HEADERS.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  const fmt = (r: string[]) => r.map((s, c) => (c === 0 ? s.padEnd(widths[c]) : s.padStart(widths[c]))).join('  ');
  return [fmt(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(fmt)].join('\n');
}
