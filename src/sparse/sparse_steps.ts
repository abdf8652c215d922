/**
 * The sparse side of one optimizer: the steps of `IndexedSlices` gradients, at
 * the cost of the rows they index. Rows a step does not index are brought up to
 * date in closed form when they are next touched or read (a per-variable row
 * clock, row_clock.ts); what a mode defers is in modes.ts. The rows themselves
 * run on the first row kernel of the backend that takes them (kernels/registry.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { pickKernel } from '../kernels/plan.js';
import { rowKernels } from '../kernels/registry.js';
import type { KernelChoice, RowJob, RowKernel, RowTarget, SlotSet } from '../kernels/types.js';
import { FLAVOR_SPECS } from '../rules/flavors.js';
import { ruleOf } from '../rules/table.js';
import type { RowCatchUp, StepScalars, UpdateForm } from '../rules/types.js';
import { registerDeferred, unregisterDeferred, type RowCatcher } from './deferred_rows.js';
import { hostValues, type IndexedSlices, sumDuplicates } from './indexed_slices.js';
import { LrTrack } from './lr_track.js';
import { deferralOf, rowRuleOf, type Deferral, type SparseMode } from './modes.js';
import { RowClock } from './row_clock.js';

const NO_ROWS = new Int32Array(0);

export class SparseSteps implements RowCatcher {
  private readonly deferral: Deferral;
  /** Per-row step counts of the variables whose untouched rows this mode defers. */
  private readonly clocks = new Map<tf.Variable, RowClock>();
  private readonly lrTracks = new Map<RowClock, LrTrack>();

  constructor(
    private readonly form: UpdateForm,
    readonly mode: SparseMode,
    private readonly slotsOf: (variable: tf.Variable) => SlotSet | undefined,
  ) {
    this.deferral = deferralOf(mode, form);
  }

  /**
   * Whether this step applies sparse gradients densified: 'dense-equivalent'
   * with weight decay has no row-proportional form (every row decays; PyTorch's
   * coupled decay gives every row a gradient), so it is applied as the densified
   * gradient, which is what it is defined to equal.
   */
  densifies(s: StepScalars): boolean {
    return this.mode === 'dense-equivalent' && (s.weightDecay ?? 0) > 0;
  }

  /**
   * Before a dense step of `variables`: the ones with deferred rows catch up, so
   * every row is current (and the kernels' checks see any new buffers). Returns
   * them, for `afterDense`.
   */
  beforeDense(variables: readonly tf.Variable[]): tf.Variable[] {
    if (this.clocks.size === 0) return [];
    const clocked = variables.filter((v) => this.clocks.has(v));
    for (const v of clocked) this.catchUpVariableRows(v);
    return clocked;
  }

  /** After that dense step: every row of those variables is current. */
  afterDense(clocked: readonly tf.Variable[], s: StepScalars): void {
    for (const v of clocked) {
      const clock = this.clocks.get(v) as RowClock;
      this.advance(clock, s);
      clock.markAllCurrent();
    }
  }

  /** One sparse step of one variable; call inside a tidy. */
  apply(variable: tf.Variable, slices: IndexedSlices, slots: SlotSet, s: StepScalars): KernelChoice {
    const rowSize = variable.size / variable.shape[0];
    const { rows, slice, values } = sumDuplicates(slices.indices, hostValues(slices), rowSize);
    const clock = this.deferral === 'none' ? null : this.clockOf(variable);
    const catchUp = clock === null ? null : this.catchUpOf(clock, rows);
    const job: RowJob = { form: this.form, s, rule: rowRuleOf(this.mode), rows, slice, values, rowSize, catchUp };
    const ran = this.run({ variable, slots }, job);
    if (clock !== null) {
      this.advance(clock, s);
      for (let p = 0; p < rows.length; p++) clock.last[rows[p]] = clock.step;
    }
    const kernel = ran.kernel.reference === true ? `sparse-${this.mode}` : `sparse-${this.mode}/${ran.kernel.name}`;
    return ran.reason === undefined ? { variable: variable.name, kernel } : { variable: variable.name, kernel, fallbackReason: ran.reason };
  }

  /** Brings `rows` (all when omitted) of a variable this optimizer defers up to date. */
  catchUpVariableRows(variable: tf.Variable, rows?: ArrayLike<number>): void {
    const clock = this.clocks.get(variable);
    const slots = this.slotsOf(variable);
    if (clock === undefined || slots === undefined || variable.isDisposed) return;
    const n = rows === undefined ? clock.rows : rows.length;
    const pending: number[] = [];
    const froms: number[] = [];
    for (let i = 0; i < n; i++) {
      const r = rows === undefined ? i : rows[i];
      const from = clock.last[r];
      // Marked current as it is found, so a row listed twice is caught up once.
      if (from < clock.step) { pending.push(r); froms.push(from); clock.last[r] = clock.step; }
    }
    if (pending.length === 0) return;
    const job: RowJob = {
      form: this.form, s: NO_SCALARS, rule: 'dense', rows: Int32Array.from(pending), slice: NO_ROWS, values: null,
      rowSize: variable.size / variable.shape[0], catchUp: this.factorsSince(clock, froms),
    };
    tf.tidy(() => { this.run({ variable, slots }, job); });
  }

  /** Brings every deferred row of `variable` (of every variable when omitted) up to date. */
  finalize(variable?: tf.Variable): void {
    const targets = variable === undefined ? [...this.clocks.keys()] : this.clocks.has(variable) ? [variable] : [];
    for (const v of targets) this.catchUpVariableRows(v);
  }

  /** Lets go of a variable the user disposed (its rows are gone with it). */
  forget(variable: tf.Variable): void {
    const clock = this.clocks.get(variable);
    if (clock === undefined) return;
    unregisterDeferred(variable, this);
    this.lrTracks.delete(clock);
    this.clocks.delete(variable);
  }

  /** After the state was replaced as a whole (`setWeights`): every row is current. */
  markAllCurrent(): void {
    for (const clock of this.clocks.values()) clock.markAllCurrent();
  }

  dispose(): void {
    for (const v of this.clocks.keys()) unregisterDeferred(v, this);
    this.clocks.clear();
    this.lrTracks.clear();
  }

  private run(target: RowTarget, job: RowJob): { kernel: RowKernel; reason?: string } {
    const kernels = rowKernels(tf.getBackend());
    const picked = pickKernel(kernels, (k) => k.unsupportedReason(target, job));
    const report = picked.kernel.run(target, job);
    if (!report) return picked;
    const kernel = kernels.find((k) => k.name === report.kernel) ?? picked.kernel;
    const reason = [picked.reason, report.reason].filter((r) => r !== undefined).join('; ');
    return reason === '' ? { kernel } : { kernel, reason };
  }

  private clockOf(variable: tf.Variable): RowClock {
    let clock = this.clocks.get(variable);
    if (clock === undefined) {
      clock = new RowClock(variable.shape[0]);
      this.clocks.set(variable, clock);
      if (this.deferral === 'all') registerDeferred(variable, this);
    }
    return clock;
  }

  /** Records the step being taken on a clocked variable (sparse or dense), then advances the clock. */
  private advance(clock: RowClock, s: StepScalars): void {
    // An idle row's variable moves by its momentum times a weight per missed step:
    // the learning rate where the buffer excludes it (PyTorch), and μ once more
    // with Nesterov momentum (w −= s + μ·mom with s = 0).
    if (this.form.path === 'momentum') {
      const lrOutside = !FLAVOR_SPECS[this.form.flavor ?? 'keras2'].lrInMomentumBuffer;
      const nesterov = this.form.nesterov === true;
      if (lrOutside || nesterov) {
        let track = this.lrTracks.get(clock);
        if (track === undefined) { track = new LrTrack(); this.lrTracks.set(clock, track); }
        track.record((lrOutside ? s.lr : 1) * (nesterov ? s.momentum : 1), s.momentum);
      }
    }
    clock.advance(ruleOf(this.form).idleDecay(s), s.momentum);
  }

  /** What each of `rows` missed since its last step; they are current once it is applied. */
  private catchUpOf(clock: RowClock, rows: Int32Array): RowCatchUp {
    const froms = new Int32Array(rows.length);
    for (let p = 0; p < rows.length; p++) {
      froms[p] = clock.last[rows[p]];
      clock.last[rows[p]] = clock.step;
    }
    return this.factorsSince(clock, froms);
  }

  /** The closed-form factors of the steps from each of `froms` to now (1, 1, 0 for none). */
  private factorsSince(clock: RowClock, froms: ArrayLike<number>): RowCatchUp {
    const n = froms.length;
    const moving = this.deferral === 'all';
    const decay = new Float64Array(n);
    const muPow = moving ? new Float64Array(n) : null;
    const muSum = moving ? new Float64Array(n) : null;
    const track = this.lrTracks.get(clock);
    for (let p = 0; p < n; p++) {
      const from = froms[p];
      if (from >= clock.step) {
        decay[p] = 1;
        if (muPow !== null && muSum !== null) { muPow[p] = 1; muSum[p] = 0; }
        continue;
      }
      const k = clock.factors(from, clock.step);
      decay[p] = k.decay;
      if (muPow !== null && muSum !== null) {
        muPow[p] = k.muPow;
        muSum[p] = track === undefined ? k.muSum : track.weightedMuSum(from, clock.step, k.muSum);
      }
    }
    return { decay, muPow, muSum };
  }
}

/** Scalars of a catch-up only: no pass runs, so none is read. */
const NO_SCALARS: StepScalars = { lr: 0, rho: 0, oneMinusRho: 0, momentum: 0, epsilon: 0 };
