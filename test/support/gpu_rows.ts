/**
 * A GPU row kernel against the reference row loops (src/rules/rows.ts) over a
 * random trajectory of sparse steps, shared by the Node WebGPU test and the
 * Chromium page: jobs made as SparseSteps makes them (duplicate indices summed
 * by `sumDuplicates`, catch-up factors from a row clock, catch-up-only jobs
 * between steps and a final catch-up of every row where the mode defers), and
 * every value of every state tensor (touched rows or not) compared after every
 * job within the running float32 bound of gpu_tolerance.ts: the catch-up
 * factors, float64 in the loops, enter the bound as float32 inputs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { jobStatements, UNIFORMS, uniformValues } from '../../src/kernels/gpu/formulas.js';
import type { RowJob, RowKernel } from '../../src/kernels/types.js';
import { FLAVOR_SPECS, type Flavor } from '../../src/rules/flavors.js';
import { prepareRows, rowsStep } from '../../src/rules/rows.js';
import { rowPasses, ruleOf } from '../../src/rules/table.js';
import type { DensePath, DenseState, RowCatchUp, StepScalars, UpdateForm } from '../../src/rules/types.js';
import { sumDuplicates } from '../../src/sparse/indexed_slices.js';
import { LrTrack } from '../../src/sparse/lr_track.js';
import { deferralOf, rowRuleOf, SPARSE_MODES, type SparseMode } from '../../src/sparse/modes.js';
import { RowClock } from '../../src/sparse/row_clock.js';
import { mulberry32 } from '../../app/random.js';
import { factorInput, runBounded, type Bounded } from './gpu_tolerance.js';
import { alternative, exclusiveVariable, flavorForms, randomGrad, scalarsAt, type CaseResult, type Layout } from './gpu_trajectory.js';

export interface RowCase {
  readonly flavor: Flavor;
  readonly path: DensePath;
  /** optax's Nesterov momentum (momentum path only). */
  readonly nesterov?: boolean;
  readonly centered: boolean;
  readonly mode: SparseMode;
  readonly weightDecay: number;
  /** Sparse steps; catch-up-only jobs come between them where the mode defers. */
  readonly steps: number;
  /** Table shapes: rows first. */
  readonly shapes: ReadonlyArray<readonly number[]>;
  readonly seed: number;
  /** The table and its slots in WebGL textures of this layout before the first job (see GpuCase.textures); unset, on the CPU. */
  readonly tableTextures?: Layout;
}

export function rowCaseName(c: RowCase): string {
  const textures = c.tableTextures === undefined ? '' : `, tables in ${c.tableTextures} textures`;
  return `sparseMode ${c.mode}, ${c.flavor} ${c.nesterov === true ? 'nesterov' : c.path}${c.centered ? '+centered' : ''}${c.weightDecay ? `, weightDecay ${c.weightDecay}` : ''}${textures}`;
}

/** Every sparse mode × flavor × path × centering; weight decay on every other case (each mode and flavor gets both). */
export function rowCases(shapes: ReadonlyArray<readonly number[]>, steps: number): RowCase[] {
  const cases: RowCase[] = [];
  let seed = 7000;
  for (const form of flavorForms()) {
    for (const mode of SPARSE_MODES) {
      // 'dense-equivalent' with weight decay is applied densified (SparseSteps.densifies): no rows.
      const weightDecay = cases.length % 2 === 1 && mode !== 'dense-equivalent' ? 0.01 : 0;
      cases.push({ ...form, mode, weightDecay, steps, shapes, seed: seed++ });
    }
  }
  // optax's Nesterov momentum, every flavor: every mode uncentered, the moving catch-up centered.
  for (const flavor of ['keras2', 'keras3', 'pytorch', 'tfjs'] as const) {
    for (const centered of [false, true]) {
      for (const mode of centered ? (['dense-equivalent'] as const) : SPARSE_MODES) {
        const weightDecay = mode === 'lazy' ? 0.01 : 0;
        cases.push({ flavor, path: 'momentum', nesterov: true, centered, mode, weightDecay, steps, shapes, seed: seed++ });
      }
    }
  }
  return cases;
}

const STATES = ['w', 'ms', 'mom', 'mg'] as const;
type StateName = (typeof STATES)[number];

/** Scalars of a catch-up only: no pass runs (as sparse_steps.ts). */
const NO_SCALARS: StepScalars = { lr: 0, rho: 0, oneMinusRho: 0, momentum: 0, epsilon: 0 };

/** One table of the case: its GPU variables, the reference state, the alternative flavor's, the bound, the row clock. */
interface Table {
  readonly shape: readonly number[];
  readonly rows: number;
  readonly rowSize: number;
  readonly gpu: Partial<Record<StateName, tf.Variable>>;
  readonly ref: DenseState;
  readonly alt: DenseState;
  readonly bound: Record<StateName, Float64Array>;
  readonly clock: RowClock | null;
  readonly lrTrack: LrTrack | null;
}

/** What each of `rows` missed since its last step, as SparseSteps.factorsSince computes it; marks them current. */
function catchUpOf(t: Table, rows: Int32Array, moving: boolean): RowCatchUp {
  const clock = t.clock as RowClock;
  const n = rows.length;
  const decay = new Float64Array(n);
  const muPow = moving ? new Float64Array(n) : null;
  const muSum = moving ? new Float64Array(n) : null;
  for (let p = 0; p < n; p++) {
    const from = clock.last[rows[p]];
    clock.last[rows[p]] = clock.step;
    const f = clock.factors(from, clock.step);
    decay[p] = f.decay;
    if (muPow !== null && muSum !== null) {
      muPow[p] = f.muPow;
      muSum[p] = t.lrTrack === null ? f.muSum : t.lrTrack.weightedMuSum(from, clock.step, f.muSum);
    }
  }
  return { decay, muPow, muSum };
}

/**
 * Carries the bound of every element of the job's rows through its statements
 * (on the reference state before the job), returning the new bounds of the
 * states it writes, per element of the rows.
 */
function boundsOf(t: Table, job: RowJob): Map<StateName, Float64Array> {
  const st = jobStatements(job);
  if (st === null) throw new Error(`no row statements for ${job.form.flavor ?? 'keras2'} ${job.form.path}`);
  const values = uniformValues(job.s, null);
  const out = new Map<StateName, Float64Array>();
  const written = STATES.filter((s) => st.outputs[s] !== undefined);
  for (const s of written) out.set(s, new Float64Array(job.rows.length * job.rowSize));
  const c = job.catchUp;
  for (let p = 0; p < job.rows.length; p++) {
    for (let j = 0; j < job.rowSize; j++) {
      const i = job.rows[p] * job.rowSize + j;
      const env = new Map<string, Bounded>(UNIFORMS.map((name, k) => [name, { v: values[k], e: 0 }]));
      for (const s of STATES) {
        const arr = t.ref[s];
        if (arr === undefined) continue;
        const b = { v: arr[i], e: t.bound[s][i] };
        env.set(s, b).set(`${s}In`, b);
      }
      if (job.values !== null) env.set('g', { v: job.values[job.slice[p] * job.rowSize + j], e: 0 });
      env.set('rDecay', factorInput(c === null ? 1 : c.decay[p]));
      env.set('rMuPow', factorInput(c?.muPow == null ? 1 : c.muPow[p]));
      env.set('rMuSum', factorInput(c?.muSum == null ? 0 : c.muSum[p]));
      runBounded(st.statements, env);
      for (const s of written) (out.get(s) as Float64Array)[p * job.rowSize + j] = (env.get(st.outputs[s] as string) as Bounded).e;
    }
  }
  return out;
}

/** Applies a job to the reference (and the alternative flavor's state), and to the bound. */
function reference(t: Table, job: RowJob, altForm: UpdateForm): void {
  const bounds = boundsOf(t, job);
  const { rows, slice, rowSize, s } = job;
  if (job.values === null) {
    prepareRows(t.ref, rows, rowSize, job.catchUp);
    prepareRows(t.alt, rows, rowSize, job.catchUp);
  } else {
    rowsStep(t.ref, rows, slice, job.values, rowSize, rowPasses(job.form, s, job.rule), job.form.centered, s, job.catchUp);
    rowsStep(t.alt, rows, slice, job.values, rowSize, rowPasses(altForm, s, 'dense'), altForm.centered, s, job.catchUp);
  }
  for (const [name, b] of bounds) {
    for (let p = 0; p < rows.length; p++) t.bound[name].set(b.subarray(p * rowSize, (p + 1) * rowSize), rows[p] * rowSize);
  }
}

/**
 * Runs `kernel` over the case: per step and table, a sparse job (and, where the
 * mode defers, a catch-up-only job of some rows before it), then a catch-up of
 * every row; every state value compared after every job.
 */
export async function runRowCase(kernel: RowKernel, c: RowCase): Promise<CaseResult> {
  const r = mulberry32(c.seed);
  const nesterov = c.nesterov === true;
  const form: UpdateForm = { path: c.path, centered: c.centered, flavor: c.flavor, ...(nesterov ? { nesterov } : {}) };
  // Nesterov's alternative is the flavor's own momentum: a kernel that ignored `nesterov` must fail.
  const altForm: UpdateForm = nesterov ? { ...form, nesterov: false } : { ...form, flavor: alternative(c.flavor, c.path) };
  const deferral = deferralOf(c.mode, form);
  const moving = deferral === 'all';
  const momentum = c.path === 'momentum';
  // As SparseSteps weighs an idle row's momentum: by lr where the buffer excludes it, by μ once more with Nesterov.
  const lrOutside = !FLAVOR_SPECS[c.flavor].lrInMomentumBuffer;
  const weightedLr = momentum && (lrOutside || nesterov);
  const tables: Table[] = c.shapes.map((shape) => {
    const rows = shape[0];
    const n = shape.reduce((a, b) => a * b, 1);
    const w = Float32Array.from({ length: n }, () => r() * 2 - 1);
    // Slots start non-zero, so a catch-up's decay changes them from the first job on.
    const slot = (): Float32Array => Float32Array.from({ length: n }, () => r() * 0.01);
    const ms = slot();
    const mom = momentum ? slot().map((x) => x - 0.005) : undefined;
    const mg = c.centered ? slot().map((x) => x * 0.1) : undefined;
    const state = (): DenseState => ({ w: w.slice(), ms: ms.slice(), mom: mom?.slice(), mg: mg?.slice() });
    return {
      shape, rows, rowSize: n / rows,
      gpu: {
        w: exclusiveVariable(w, shape, c.tableTextures), ms: exclusiveVariable(ms, shape, c.tableTextures),
        ...(mom ? { mom: exclusiveVariable(mom, shape, c.tableTextures) } : {}),
        ...(mg ? { mg: exclusiveVariable(mg, shape, c.tableTextures) } : {}),
      },
      ref: state(), alt: state(),
      bound: { w: new Float64Array(n), ms: new Float64Array(n), mom: new Float64Array(n), mg: new Float64Array(n) },
      clock: deferral === 'none' ? null : new RowClock(rows),
      lrTrack: deferral === 'none' || !weightedLr ? null : new LrTrack(),
    };
  });
  let compared = 0;
  let unbounded = 0;
  let maxRatio = 0;
  let maxRelative = 0;
  let failure: string | undefined;
  let kernelRefusal: string | undefined;
  let jobs = 0;

  const run = async (t: Table, k: number, job: RowJob, what: string): Promise<void> => {
    const target = { variable: t.gpu.w as tf.Variable, slots: { rms: t.gpu.ms as tf.Variable, momentum: t.gpu.mom, mg: t.gpu.mg } };
    kernelRefusal ??= kernel.unsupportedReason(target, job) ?? undefined;
    if (kernelRefusal !== undefined) return;
    tf.tidy(() => { kernel.run(target, job); });
    reference(t, job, altForm);
    jobs++;
    for (const name of STATES) {
      const v = t.gpu[name];
      const ref = t.ref[name];
      if (v === undefined || ref === undefined || failure !== undefined) continue;
      const got = await v.data() as Float32Array;
      const bound = t.bound[name];
      for (let i = 0; i < ref.length; i++) {
        if (!(bound[i] < Infinity)) { unbounded++; continue; }
        const diff = Math.abs(got[i] - ref[i]);
        compared++;
        if (!(diff <= bound[i])) {
          failure = `${what}, table ${k} ${JSON.stringify(t.shape)}, ${name}[${i}] (row ${Math.floor(i / t.rowSize)}): ` +
            `gpu ${got[i]}, reference ${ref[i]}, |diff| ${diff} > bound ${bound[i]}`;
          return;
        }
        if (bound[i] > 0) maxRatio = Math.max(maxRatio, diff / bound[i]);
        maxRelative = Math.max(maxRelative, diff / Math.max(Math.abs(ref[i]), 1e-30));
      }
    }
  };

  try {
    for (let step = 0; step < c.steps && failure === undefined && kernelRefusal === undefined; step++) {
      const s = scalarsAt(c.flavor, step, c.weightDecay, r);
      for (let k = 0; k < tables.length && failure === undefined; k++) {
        const t = tables[k];
        // Rows read between steps (embeddingLookup) catch up alone: distinct rows, some already current.
        if (t.clock !== null && step % 2 === 1) {
          const picked = new Set<number>();
          const want = 1 + Math.floor(r() * Math.min(12, t.rows));
          while (picked.size < want) picked.add(Math.floor(r() * t.rows));
          const rows = Int32Array.from(picked);
          const catchUp = catchUpOf(t, rows, moving);
          await run(t, k, {
            form, s: NO_SCALARS, rule: 'dense', rows, slice: new Int32Array(0), values: null, rowSize: t.rowSize, catchUp,
          }, `step ${step}, catch-up only`);
          if (failure !== undefined || kernelRefusal !== undefined) break;
        }
        // The step's indices, duplicates among them, summed as SparseSteps sums them.
        const count = 2 + Math.floor(r() * Math.min(20, t.rows));
        const ids = Int32Array.from({ length: count }, (_, i) => (i % 4 === 3 ? Math.floor(r() * 3) : Math.floor(r() * t.rows)));
        const { rows, slice, values } = sumDuplicates(ids, randomGrad(count * t.rowSize, r), t.rowSize);
        const catchUp = t.clock === null ? null : catchUpOf(t, rows, moving);
        await run(t, k, { form, s, rule: rowRuleOf(c.mode), rows, slice, values, rowSize: t.rowSize, catchUp }, `step ${step}`);
        if (t.clock !== null) {
          t.lrTrack?.record((lrOutside ? s.lr : 1) * (nesterov ? s.momentum : 1), s.momentum);
          t.clock.advance(ruleOf(form).idleDecay(s), s.momentum);
          for (let p = 0; p < rows.length; p++) t.clock.last[rows[p]] = t.clock.step;
        }
      }
    }
    // finalizeVariableValues: every row that sat out steps catches up.
    for (let k = 0; k < tables.length && failure === undefined && kernelRefusal === undefined; k++) {
      const t = tables[k];
      if (t.clock === null) continue;
      const rows = Int32Array.from({ length: t.rows }, (_, i) => i).filter((i) => (t.clock as RowClock).last[i] < (t.clock as RowClock).step);
      if (rows.length === 0) continue;
      await run(t, k, {
        form, s: NO_SCALARS, rule: 'dense', rows, slice: new Int32Array(0), values: null, rowSize: t.rowSize, catchUp: catchUpOf(t, rows, moving),
      }, 'final catch-up');
    }
    // The alternative flavor's trajectory must leave the bound somewhere.
    let discriminated = false;
    for (const t of tables) {
      if (discriminated) break;
      const got = await (t.gpu.w as tf.Variable).data() as Float32Array;
      for (let i = 0; i < got.length; i++) {
        if (t.bound.w[i] < Infinity && Math.abs(got[i] - t.alt.w[i]) > t.bound.w[i]) { discriminated = true; break; }
      }
    }
    return {
      name: `${rowCaseName(c)} (${jobs} jobs)`, compared, unbounded, maxRatio, maxRelative, discriminated, alternative: nesterov ? `${c.flavor} momentum` : altForm.flavor as Flavor,
      ...(failure === undefined ? {} : { failure }),
      ...(kernelRefusal === undefined ? {} : { kernelRefusal }),
    };
  } finally {
    for (const t of tables) tf.dispose(Object.values(t.gpu));
  }
}
