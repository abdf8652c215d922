/**
 * `webgpu-rows`: the rows of a sparse step on tfjs-backend-webgpu, in place in
 * the table's and its slots' GPUBuffers. One dispatch per step: an invocation
 * per element of the touched rows catches the row up with its factors (the
 * steps it sat out, rules/catch_up.ts) and applies the row's passes
 * (../gpu/formulas.ts `rowStatements`), writing each state element where it
 * read it. Nothing of the table is read back or copied: the step uploads its
 * row records (row, gradient slice, factors) and the gradient rows into one
 * buffer of the kernel's own, and 64 bytes of scalars. A catch-up only (rows
 * read by `embeddingLookup`, `finalizeVariableValues`) is the same dispatch
 * without gradient rows.
 *
 * As the dense kernel (kernel.ts): a buffer another tensor shares is not
 * written (the op chain's rows run, with the reason), CPU copies of what it
 * wrote are dropped, and its buffers go back to tfjs's manager with the last
 * variable that used them.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { jobStatements, uniformValues } from '../gpu/formulas.js';
import { PerBackend, tfjsVersionReason } from '../gpu/internals.js';
import type { RowJob, RowKernel, RowTarget, SlotSet } from '../types.js';
import { USAGE, webgpuBackend, type GpuBuffer, type GpuComputePipeline, type WebGPUBackendInternals } from './backend.js';
import {
  beginPass, BindGroups, bufferOf, dropCpuCopies, ensure, free, grid, grown, guarded, pipeline, refusedReason, stateWritableReason,
  type Grown,
} from './resources.js';
import { ELEMENTS_PER_INVOCATION, ROW_BINDINGS, ROW_RECORD_WORDS, ROW_SCALARS_BYTES, rowsBound, rowsShader } from './shaders.js';

interface BackendState {
  readonly pipelines: Map<string, GpuComputePipeline>;
  scalars: GpuBuffer | null;
  /** The row records, then the gradient rows. */
  readonly job: Grown;
}

const states = new PerBackend<WebGPUBackendInternals, BackendState>(() => ({ pipelines: new Map(), scalars: null, job: grown() }));
const groups = new BindGroups();

/** The row records: table row, gradient slice, then the catch-up factors rounded to float32 (1, 1, 0 without). */
function records(job: RowJob): Uint32Array {
  const k = job.rows.length;
  const words = new Uint32Array(k * ROW_RECORD_WORDS);
  const floats = new Float32Array(words.buffer);
  const c = job.catchUp;
  for (let p = 0; p < k; p++) {
    const at = p * ROW_RECORD_WORDS;
    words[at] = job.rows[p];
    words[at + 1] = job.values === null ? 0 : job.slice[p];
    floats[at + 2] = c === null ? 1 : c.decay[p];
    floats[at + 3] = c?.muPow == null ? 1 : c.muPow[p];
    floats[at + 4] = c?.muSum == null ? 0 : c.muSum[p];
  }
  return words;
}

/** The rows of `job` in one dispatch (see the module's comment). */
function runRows(b: WebGPUBackendInternals, target: RowTarget, job: RowJob): void {
  const k = job.rows.length;
  const step = jobStatements(job) as NonNullable<ReturnType<typeof jobStatements>>;
  const st = states.of(b);
  const { variable, slots } = target;
  const tensors = { w: variable, ms: slots.rms, mom: slots.momentum, mg: slots.mg };
  const bound = rowsBound(step.statements, step.outputs);
  // Buffers first: uploads and allocations record into tfjs's encoder before our pass.
  const buffers = bound.map((s) => bufferOf(b, tensors[s] as tf.Variable));

  const recordWords = k * ROW_RECORD_WORDS;
  const jobBuffer = ensure(b, st.job, (recordWords + (job.values?.length ?? 0)) * 4, USAGE.STORAGE | USAGE.COPY_DST);
  b.queue.writeBuffer(jobBuffer, 0, records(job));
  if (job.values !== null) b.queue.writeBuffer(jobBuffer, recordWords * 4, job.values);
  st.scalars ??= b.bufferManager.acquireBuffer(ROW_SCALARS_BYTES, USAGE.UNIFORM | USAGE.COPY_DST);
  const scalars = new ArrayBuffer(ROW_SCALARS_BYTES);
  const uniforms = uniformValues(job.s, null);
  new Float32Array(scalars).set(uniforms);
  new Uint32Array(scalars).set([k * job.rowSize, job.rowSize, recordWords], uniforms.length);
  b.queue.writeBuffer(st.scalars, 0, new Uint8Array(scalars));

  const flavor = job.form.flavor ?? 'keras2';
  const key = `${flavor}|${job.form.path}|${job.form.centered}|${step.statements.map((s) => `${s.name}=${s.expr}`).join(';')}`;
  const p = pipeline(b, st.pipelines, key, () => rowsShader(step.statements, step.outputs));
  const group = groups.get(b, variable, p, [
    { binding: 0, resource: { buffer: st.scalars } },
    { binding: ROW_BINDINGS.job, resource: { buffer: jobBuffer } },
    ...bound.map((s, i) => ({ binding: ROW_BINDINGS[s], resource: { buffer: buffers[i] } })),
  ]);
  const pass = beginPass(b);
  pass.setPipeline(p);
  pass.setBindGroup(0, group);
  const [gx, gy] = grid(b, Math.ceil((k * job.rowSize) / ELEMENTS_PER_INVOCATION));
  pass.dispatchWorkgroups(gx, gy);
  pass.end();
  b.submitQueue();

  dropCpuCopies(b, bound.filter((s) => step.outputs[s] !== undefined).map((s) => tensors[s]));
  states.use(b, variable);
}

export const webgpuRows: RowKernel = {
  name: 'webgpu-rows',
  unsupportedReason({ variable, slots }, job) {
    const version = tfjsVersionReason();
    if (version !== null) return version;
    const b = webgpuBackend();
    if (b === null) return 'the webgpu backend internals are not reachable (tfjs-backend-webgpu 4.22 expected)';
    if (variable.dtype !== 'float32') return `dtype ${variable.dtype}`;
    if (jobStatements(job) === null) return `no shader form for the ${job.form.flavor ?? 'keras2'} ${job.form.path} rows`;
    const bytes = (job.rows.length * ROW_RECORD_WORDS + (job.values?.length ?? 0)) * 4;
    const limit = (b.device.limits as { maxStorageBufferBindingSize?: number }).maxStorageBufferBindingSize ?? 134217728;
    if (bytes > limit) return `the step's rows take ${bytes} bytes, over the device's ${limit} per buffer`;
    return refusedReason(b) ?? stateWritableReason(b, variable, slots);
  },
  run(target, job) {
    if (job.rows.length === 0) return;
    const b = webgpuBackend() as WebGPUBackendInternals;
    guarded(b, 'webgpu-rows', () => runRows(b, target, job));
  },
  release(variable: tf.Variable, _slots: SlotSet) {
    groups.forget(variable);
    const b = webgpuBackend();
    if (b === null) return;
    const st = states.release(b, variable);
    if (st === null) return;
    free(b, st.job);
    if (st.scalars !== null) b.bufferManager.releaseBuffer(st.scalars, false);
    st.scalars = null;
  },
};
