/**
 * One sparse step of one variable, in each sparse mode. The work is in
 * proportion to the indexed rows: rows a step does not index are brought up to
 * date in closed form when they are next touched or read (row_clock.ts).
 *
 * | mode               | momentum path (TF's C++ kernel)             | plain path (momentum == 0)                |
 * | ------------------ | ------------------------------------------- | ----------------------------------------- |
 * | 'keras2' (TF 2.4)  | sparse kernel on indexed rows; others frozen | indexed rows; every row's ms, mg decay    |
 * | 'lazy'             | sparse kernel on indexed rows; others frozen | indexed rows only; others frozen          |
 * | 'dense-equivalent' | dense kernel; untouched rows keep decaying  | as 'keras2' (already dense-equivalent)    |
 * |                    | and their momentum keeps moving the variable |                                           |
 *
 * Flavors other than 'keras2' have no sparse kernel of their own (Keras 3 and
 * PyTorch densify or refuse sparse gradients, TF.js takes dense ones only): an
 * indexed row gets the flavor's dense rule (rules/dense.ts), and the modes keep
 * their meaning for the rows a step does not index. Weight decay touches the
 * rows a step indexes; 'dense-equivalent' with weight decay is applied as a
 * dense step by the optimizer (every row decays, and PyTorch's coupled decay
 * gives every row a gradient), so it never reaches this file.
 */
import * as tf from '@tensorflow/tfjs-core';
import { decoupledDecay, denseStep, hasDecoupledDecay } from '../rules/dense.js';
import { FLAVOR_SPECS } from '../rules/flavors.js';
import { denseMomentum, densePlain } from '../rules/keras2.js';
import type { DenseState, StepScalars, UpdateForm } from '../rules/types.js';
import type { SlotSet } from '../optimizer/slots.js';
import { sparseRowKernel } from '../kernels/select.js';
import type { RowRule } from '../kernels/types.js';
import { hostState, hostValues } from './host_state.js';
import { sumDuplicates, type IndexedSlices } from './indexed_slices.js';
import { RowClock } from './row_clock.js';
import { catchUpRow, sparseKernelRow } from './row_rules.js';

export const SPARSE_MODES = ['keras2', 'lazy', 'dense-equivalent'] as const;
export type SparseMode = (typeof SPARSE_MODES)[number];

/** What a mode leaves for later on rows a step does not index. */
export type Deferral = 'none' | 'accumulators' | 'all';

export function deferralOf(mode: SparseMode, form: UpdateForm): Deferral {
  if (mode === 'lazy') return 'none';
  if (form.path === 'plain') return 'accumulators';
  return mode === 'dense-equivalent' ? 'all' : 'none';
}

/**
 * The per-step decay of a zero-gradient row's accumulators: ρ on the plain path
 * (`ρ·ms`); on the momentum path the dense kernel computes `ms + (0 − ms)(1 − ρ)`,
 * i.e. a factor `1 − (1 − ρ)` with `1 − ρ` rounded to float32.
 */
export function decayFactor(form: UpdateForm, s: StepScalars): number {
  // Keras 3, PyTorch and TF.js compute `ρ·ms + (1 − ρ)·0` on every path.
  if ((form.flavor ?? 'keras2') !== 'keras2') return s.rho;
  return form.path === 'plain' ? s.rho : 1 - s.oneMinusRho;
}

/**
 * Learning rates of the steps a clock has seen, for the flavors whose
 * momentum buffer excludes the learning rate (PyTorch): an idle row's variable
 * then moves by `buf·Σ_j lr_j·Π_{i≤j} μ_i`, not `buf·Σ_j Π_{i≤j} μ_i`. Kept
 * per step only once the rate or the momentum changes (schedules, functions).
 */
class LrTrack {
  private first: { lr: number; mu: number } | null = null;
  private history: { lrs: number[]; mus: number[] } | null = null;
  private steps = 0;

  record(lr: number, mu: number): void {
    if (this.first === null) this.first = { lr, mu };
    if (this.history === null && (lr !== this.first.lr || mu !== this.first.mu)) {
      this.history = { lrs: new Array<number>(this.steps).fill(this.first.lr), mus: new Array<number>(this.steps).fill(this.first.mu) };
    }
    if (this.history !== null) {
      this.history.lrs.push(lr);
      this.history.mus.push(mu);
    }
    this.steps++;
  }

  /** `Σ_{j=from}^{to−1} lr_j·Π_{i=from}^{j} μ_i`, given the clock's `muSum` for the same steps. */
  weightedMuSum(from: number, to: number, muSum: number): number {
    if (this.history === null) return this.first === null ? 0 : this.first.lr * muSum;
    const { lrs, mus } = this.history;
    let pow = 1;
    let sum = 0;
    for (let t = from; t < to; t++) {
      pow *= mus[t];
      sum += lrs[t] * pow;
    }
    return sum;
  }
}

const lrTracks = new WeakMap<RowClock, LrTrack>();

function lrOutsideMomentum(form: UpdateForm): boolean {
  return form.path === 'momentum' && !FLAVOR_SPECS[form.flavor ?? 'keras2'].lrInMomentumBuffer;
}

/** Records the step being taken on a clocked variable (sparse or dense), then advances the clock. */
export function advanceClock(clock: RowClock, form: UpdateForm, s: StepScalars): void {
  if (lrOutsideMomentum(form)) {
    let track = lrTracks.get(clock);
    if (track === undefined) { track = new LrTrack(); lrTracks.set(clock, track); }
    track.record(s.lr, s.momentum);
  }
  clock.advance(decayFactor(form, s), s.momentum);
}

function stateOf(arrays: Float32Array[], slots: SlotSet): DenseState {
  let i = 1;
  const ms = arrays[i++];
  const mom = slots.momentum ? arrays[i++] : undefined;
  const mg = slots.mg ? arrays[i++] : undefined;
  return { w: arrays[0], ms, mom, mg };
}

function tensorsOf(variable: tf.Variable, slots: SlotSet): tf.Variable[] {
  return [variable, slots.rms, ...(slots.momentum ? [slots.momentum] : []), ...(slots.mg ? [slots.mg] : [])];
}

function catchUp(clock: RowClock, st: DenseState, row: number, rowSize: number, momentumPath: boolean): void {
  const from = clock.last[row];
  if (from >= clock.step) return;
  const k = clock.factors(from, clock.step);
  const track = lrTracks.get(clock);
  const muSum = track === undefined ? k.muSum : track.weightedMuSum(from, clock.step, k.muSum);
  catchUpRow(st, row * rowSize, rowSize, k.decay, momentumPath, k.muPow, muSum);
  clock.last[row] = clock.step;
}

/** The factor a row's accumulators decayed by over the plain-path steps it sat out. */
function rowPreDecay(clock: RowClock, row: number): number {
  const from = clock.last[row];
  return from < clock.step ? clock.factors(from, clock.step).decay : 1;
}

/** `densePlain`'s `preDecay`, applied on its own: the same float32 product, stored. */
function scaleAccumulators(st: DenseState, off: number, n: number, factor: number): void {
  if (factor === 1) return;
  const { ms, mg } = st;
  for (let i = off; i < off + n; i++) {
    ms[i] = Math.fround(ms[i] * factor);
    if (mg !== undefined) mg[i] = Math.fround(mg[i] * factor);
  }
}

const PREFETCH_AHEAD = 8;
/** Keeps the prefetching reads observable, so the compiler cannot drop them. */
export let prefetchSink = 0;

/** Reads one element per 64-byte line of a row in each state array. */
function touchRow(st: DenseState, off: number, rowSize: number): number {
  let acc = 0;
  for (let j = 0; j < rowSize; j += 16) {
    acc += st.w[off + j] + st.ms[off + j];
    if (st.mom !== undefined) acc += st.mom[off + j];
    if (st.mg !== undefined) acc += st.mg[off + j];
  }
  return acc;
}

export interface SparseUpdate {
  readonly variable: tf.Variable;
  readonly slices: IndexedSlices;
  readonly slots: SlotSet;
}

/**
 * Applies one sparse step. `clock` is required when the mode defers work
 * (`deferralOf(...) !== 'none'`). Call inside a tidy. Returns the name of the
 * fast row kernel that updated the rows, or null for the reference loops.
 */
export function applySparse(
  u: SparseUpdate, form: UpdateForm, s: StepScalars, mode: SparseMode, clock: RowClock | null,
): string | null {
  const rowSize = u.variable.size / u.variable.shape[0];
  const deferral = deferralOf(mode, form);
  const { rows, slice, values } = sumDuplicates(u.slices.indices, hostValues(u.slices.values), rowSize);
  const moving = deferral === 'all';
  const keras2 = (form.flavor ?? 'keras2') === 'keras2';
  const decays = keras2 && hasDecoupledDecay(form, s);
  // TF 2.4's plain path, and the momentum path of 'dense-equivalent' once a row
  // is caught up, are the dense rule on each row; the other momentum modes are
  // TF's sparse kernel. A fast kernel can take all the rows either way.
  const rule: RowRule = form.path === 'plain' || mode === 'dense-equivalent' ? 'dense' : 'tf-sparse';
  const rowKernel = keras2 && !decays ? sparseRowKernel(u.variable, u.slots, rows.length, values.length) : null;
  // After the row kernel: making it may grow the wasm heap, which detaches views.
  const host = hostState(tensorsOf(u.variable, u.slots));
  const st = stateOf(host.arrays, u.slots);
  let sink = 0;
  if (rowKernel !== null) {
    // What each row sat out first (touching rows ahead, as below), then every row in one call.
    for (let p = 0; p < rows.length; p++) {
      if (p + PREFETCH_AHEAD < rows.length) sink += touchRow(st, rows[p + PREFETCH_AHEAD] * rowSize, rowSize);
      if (deferral === 'none') continue;
      if (form.path === 'plain') scaleAccumulators(st, rows[p] * rowSize, rowSize, rowPreDecay(clock as RowClock, rows[p]));
      else catchUp(clock as RowClock, st, rows[p], rowSize, moving);
    }
    rowKernel.run(rule, rows, slice, values, rowSize, form, s);
  } else {
    for (let p = 0; p < rows.length; p++) {
      // Rows are scattered through tables far larger than the caches: touching a
      // row a few iterations ahead starts its cache and TLB misses early, so they
      // overlap with the arithmetic instead of stalling it.
      if (p + PREFETCH_AHEAD < rows.length) sink += touchRow(st, rows[p + PREFETCH_AHEAD] * rowSize, rowSize);
      const off = rows[p] * rowSize;
      const gOffset = slice[p] * rowSize;
      const gShift = gOffset - off;
      if (!keras2) {
        if (deferral !== 'none') catchUp(clock as RowClock, st, rows[p], rowSize, moving);
        denseStep(form, s, values, st, off, off + rowSize, gShift);
        continue;
      }
      if (decays) decoupledDecay(s, st.w, off, off + rowSize);
      if (form.path === 'plain') {
        // The accumulators' catch-up is folded into the row's update pass.
        const preDecay = deferral === 'none' ? 1 : rowPreDecay(clock as RowClock, rows[p]);
        densePlain(s, form.centered, values, st, off, off + rowSize, gShift, preDecay);
        continue;
      }
      if (deferral !== 'none') catchUp(clock as RowClock, st, rows[p], rowSize, moving);
      if (mode === 'dense-equivalent') denseMomentum(s, form.centered, values, st, off, off + rowSize, gShift);
      else sparseKernelRow(s, form.centered, st, off, values, gOffset, rowSize);
    }
  }
  if (deferral !== 'none') {
    const c = clock as RowClock;
    advanceClock(c, form, s);
    for (let p = 0; p < rows.length; p++) c.last[rows[p]] = c.step;
  }
  prefetchSink = sink;
  host.commit();
  return rowKernel === null ? null : rowKernel.name;
}

/**
 * Brings the given rows (or all rows) of a deferred variable up to date.
 * Call inside a tidy.
 */
export function catchUpRows(
  variable: tf.Variable, slots: SlotSet, clock: RowClock, form: UpdateForm, mode: SparseMode, rows?: ArrayLike<number>,
): void {
  const rowSize = variable.size / variable.shape[0];
  const moving = deferralOf(mode, form) === 'all';
  if (rows === undefined) {
    let pending = false;
    for (let r = 0; r < clock.rows; r++) if (clock.last[r] < clock.step) { pending = true; break; }
    if (!pending) return;
  }
  const host = hostState(tensorsOf(variable, slots));
  const st = stateOf(host.arrays, slots);
  if (rows === undefined) {
    for (let r = 0; r < clock.rows; r++) catchUp(clock, st, r, rowSize, moving);
  } else {
    for (let i = 0; i < rows.length; i++) catchUp(clock, st, rows[i], rowSize, moving);
  }
  host.commit();
}
