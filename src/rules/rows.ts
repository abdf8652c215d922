/**
 * The reference for the rows of a sparse step: each row catches up in closed
 * form what it sat out (catch_up.ts), then takes its passes (table.ts's
 * `rowPasses`) with its own gradient row. Loops over full-table arrays; the
 * kernels decide where the arrays live.
 */
import { catchUpRow } from './catch_up.js';
import type { DenseState, Pass, RowCatchUp, StepScalars } from './types.js';

const PREFETCH_AHEAD = 8;
/** Keeps the prefetching reads observable, so the compiler cannot drop them. */
export let prefetchSink = 0;

/**
 * Reads one element per 64-byte line of a row in each state array. Rows are
 * scattered through tables far larger than the caches: touching a row a few
 * iterations ahead starts its cache and TLB misses early, so they overlap with
 * the work on the rows before it instead of stalling it.
 */
function touchRow(st: DenseState, off: number, rowSize: number): number {
  let acc = 0;
  for (let j = 0; j < rowSize; j += 16) {
    acc += st.w[off + j] + st.ms[off + j];
    if (st.mom !== undefined) acc += st.mom[off + j];
    if (st.mg !== undefined) acc += st.mg[off + j];
  }
  return acc;
}

function catchUpOne(st: DenseState, off: number, rowSize: number, c: RowCatchUp, p: number): void {
  const decay = c.decay[p];
  const muPow = c.muPow === null ? 1 : c.muPow[p];
  const muSum = c.muSum === null ? 0 : c.muSum[p];
  if (decay !== 1 || muPow !== 1 || muSum !== 0) catchUpRow(st, off, rowSize, decay, c.muPow !== null, muPow, muSum);
}

/**
 * Brings each row up to date (nothing when `c` is null) while touching the rows
 * ahead, so a kernel that updates them next finds them in the caches.
 */
export function prepareRows(st: DenseState, rows: Int32Array, rowSize: number, c: RowCatchUp | null): void {
  let sink = 0;
  for (let p = 0; p < rows.length; p++) {
    if (p + PREFETCH_AHEAD < rows.length) sink += touchRow(st, rows[p + PREFETCH_AHEAD] * rowSize, rowSize);
    if (c !== null) catchUpOne(st, rows[p] * rowSize, rowSize, c, p);
  }
  prefetchSink = sink;
}

/** Each row's catch-up, then its passes with gradient row `values[slice[p]·rowSize …]`. */
export function rowsStep(
  st: DenseState, rows: Int32Array, slice: Int32Array, values: Float32Array, rowSize: number,
  passes: readonly Pass[], centered: boolean, s: StepScalars, c: RowCatchUp | null,
): void {
  let sink = 0;
  for (let p = 0; p < rows.length; p++) {
    if (p + PREFETCH_AHEAD < rows.length) sink += touchRow(st, rows[p + PREFETCH_AHEAD] * rowSize, rowSize);
    const off = rows[p] * rowSize;
    if (c !== null) catchUpOne(st, off, rowSize, c, p);
    const gShift = slice[p] * rowSize - off;
    for (const pass of passes) pass.loop(s, centered, values, st, off, off + rowSize, gShift);
  }
  prefetchSink = sink;
}
