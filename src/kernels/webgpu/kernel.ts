/**
 * `webgpu-fused`: the dense step on tfjs-backend-webgpu, in place. One WGSL
 * dispatch per variable reads the gradient and the state and writes the
 * variable and every slot where they are (../gpu/formulas.ts, ./shaders.ts):
 * no tensor is created. All variables of a step go through one compute pass
 * with one pipeline and one upload of the step's scalars (16 floats), and one
 * queue submission; the bind group of each variable is made once and reused
 * while its buffers stay the same.
 *
 * Why not fewer dispatches than variables: TF.js gives every tensor its own
 * GPUBuffer and binds whole buffers, and tfjs-backend-webgpu creates its device
 * with WebGPU's default of 8 storage buffers per shader stage, so one dispatch
 * can reach at most one or two variables' state. Gathering the step into one
 * buffer would cost a copy of every tensor in and out.
 *
 * In place means respecting what TF.js caches: the CPU copy a read left in
 * `tensorMap` is dropped (else `dataSync` would return the old values), and a
 * buffer another tensor shares (refCount > 1: `tf.variable(t)` without
 * disposing `t`, `assign`, `reshape`) is not written: that update falls back.
 *
 * Clipping folds in with one Σx² per gradient: a partial-sum dispatch per
 * gradient, one dispatch that finishes every sum and the global factor, then
 * the updates read them from a small buffer.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FoldedClip } from '../../clipping/scalar.js';
import type { SlotSet } from '../types.js';
import type { StepScalars, UpdateForm } from '../../rules/types.js';
import { ruleKeyOf } from '../../rules/table.js';
import { aroundScalars, type Around } from '../../rules/training.js';
import { aroundKey, aroundUniformValues, callStatements, clipForm, decayForm, needsNorms, uniformValues, type ClipForm } from '../gpu/formulas.js';
import type { DenseKernel, DenseUpdate } from '../types.js';
import { PerBackend, runStep, tfjsVersionReason } from '../gpu/internals.js';
import {
  isBuffer, USAGE, webgpuBackend, type GpuBindingEntry, type GpuBuffer, type GpuComputePipeline, type WebGPUBackendInternals,
} from './backend.js';
import {
  beginPass, BindGroups, bufferOf, dropCpuCopies, ensure, free, grid, grown, guarded, pipeline, record, refusedReason, stateWritableReason,
  type Grown,
} from './resources.js';
import {
  boundStates, COUNT_WORD, readsScalars, ELEMENTS_PER_INVOCATION, finishShader, INFO_STRIDE, PARTIAL_SUM_SHADER, SCALARS_BYTES, sumShape, UPDATE_BINDINGS,
  updateShader, type BoundState,
} from './shaders.js';

/** What the kernel holds per backend: pipelines (kept, like tfjs's own cache) and buffers (freed with the last variable). */
interface BackendState {
  readonly pipelines: Map<string, GpuComputePipeline>;
  scalars: GpuBuffer | null;
  readonly infos: Grown;
  readonly parts: Grown;
  readonly table: Grown;
  readonly clip: Grown;
  /** The `Info` records last written, to skip an unchanged upload. */
  infoWords: Uint32Array;
}

const states = new PerBackend<WebGPUBackendInternals, BackendState>(() => ({
  pipelines: new Map(), scalars: null, infos: grown(), parts: grown(), table: grown(), clip: grown(), infoWords: new Uint32Array(0),
}));
const groups = new BindGroups();

function freeBuffers(b: WebGPUBackendInternals, st: BackendState): void {
  for (const g of [st.infos, st.parts, st.table, st.clip]) free(b, g);
  if (st.scalars !== null) b.bufferManager.releaseBuffer(st.scalars, false);
  st.scalars = null;
  st.infoWords = new Uint32Array(0);
}

function inPlaceReason(b: WebGPUBackendInternals, u: DenseUpdate): string | null {
  if (u.variable.dtype !== 'float32') return `dtype ${u.variable.dtype}`;
  if (u.grad.dtype !== 'float32') return `the gradient has dtype ${u.grad.dtype}`;
  if (u.grad.size !== u.variable.size) return 'the gradient and the variable differ in size';
  const g = record(b, u.grad);
  if (g === undefined || (g.resource != null && !isBuffer(g.resource))) return 'the gradient is not held in a GPUBuffer';
  return stateWritableReason(b, u.variable, u.slots, true);
}

/** The tensor of a bound state. */
function tensorOf(u: DenseUpdate, st: BoundState): tf.Variable | undefined {
  switch (st) {
    case 'w': return u.variable;
    case 'ms': return u.slots.rms;
    case 'mom': return u.slots.momentum;
    case 'mg': return u.slots.mg;
    case 'acc': return u.slots.accumulator;
    case 'ema': return u.slots.ema;
  }
}

function sameWords(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function stepUpdates(
  b: WebGPUBackendInternals, updates: readonly DenseUpdate[], form: UpdateForm, s: StepScalars, folded: FoldedClip | null,
  around: Around | undefined,
): void {
  const flavor = form.flavor ?? 'keras2';
  const clip: ClipForm = clipForm(folded);
  const decay = decayForm(flavor, s);
  const step = callStatements(form, clip, decay, around ?? null);
  const bound = boundStates(step.statements, step.outputs);
  const withScalars = readsScalars(step.statements);
  const st = states.of(b);
  const norms = needsNorms(clip);
  const count = updates.length;

  // Buffers first: uploads and allocations record into tfjs's encoder before our pass.
  const bufs = updates.map((u) => ({
    g: bufferOf(b, u.grad),
    state: bound.map((name) => {
      const t = tensorOf(u, name);
      if (t === undefined) throw new Error(`RMSprop: the ${name} state of ${u.variable.name} is missing for this call`);
      return bufferOf(b, t);
    }),
  }));
  st.scalars ??= b.bufferManager.acquireBuffer(SCALARS_BYTES, USAGE.UNIFORM | USAGE.COPY_DST);
  const infos = ensure(b, st.infos, (count + 1) * INFO_STRIDE, USAGE.UNIFORM | USAGE.COPY_DST);
  const shapes = updates.map((u) => sumShape(u.variable.size));
  let parts: GpuBuffer | null = null;
  let clipBuf: GpuBuffer | null = null;
  let table: GpuBuffer | null = null;
  const words = new Uint32Array((count * INFO_STRIDE) / 4);
  let partTotal = 0;
  updates.forEach((u, k) => {
    const at = (k * INFO_STRIDE) / 4;
    words[at] = u.variable.size;
    words[at + 1] = k;
    words[at + 2] = partTotal;
    words[at + 3] = shapes[k].perThread;
    partTotal += shapes[k].workgroups;
  });
  if (norms) {
    parts = ensure(b, st.parts, partTotal * 4, USAGE.STORAGE);
    clipBuf = ensure(b, st.clip, (count + 1) * 4, USAGE.STORAGE);
    table = ensure(b, st.table, count * 8, USAGE.STORAGE | USAGE.COPY_DST);
  }

  // The step's numbers: scalars every step, Info records and the sum table when they change.
  const scalarBytes = new ArrayBuffer(SCALARS_BYTES);
  new Float32Array(scalarBytes).set(uniformValues(s, folded));
  new Uint32Array(scalarBytes)[COUNT_WORD] = count;
  if (around !== undefined) new Float32Array(scalarBytes).set(aroundUniformValues(aroundScalars(s, around)), COUNT_WORD + 1);
  b.queue.writeBuffer(st.scalars, 0, new Uint8Array(scalarBytes));
  if (!sameWords(st.infoWords, words) || st.infos.buffer !== infos) {
    b.queue.writeBuffer(infos, 0, words);
    st.infoWords = words;
  }
  if (table !== null) {
    const t = new Uint32Array(count * 2);
    updates.forEach((_, k) => { t[2 * k] = words[(k * INFO_STRIDE) / 4 + 2]; t[2 * k + 1] = shapes[k].workgroups; });
    b.queue.writeBuffer(table, 0, t);
  }

  const info = (k: number): GpuBindingEntry['resource'] => ({ buffer: infos, offset: k * INFO_STRIDE, size: 16 });
  const scalars = { buffer: st.scalars };
  const passes = aroundKey(around ?? null);
  const key = `${flavor}|${ruleKeyOf(form)}|${form.centered}|${clip.value}${clip.norm}${clip.global}|${decay}${passes}`;
  // Four floats an element where the size allows it (every lane computes what the scalar shader does).
  // Looked up once a step: a key built per variable cost 0.2 ms a 200-variable step.
  const byLanes: Array<GpuComputePipeline | undefined> = [];
  const updateOf = (lanes: 1 | 4): GpuComputePipeline =>
    (byLanes[lanes] ??= pipeline(b, st.pipelines, `update${lanes}|${key}`, () => updateShader(step.statements, step.outputs, clip, lanes === 4)));

  const pass = beginPass(b);
  if (norms) {
    const partial = pipeline(b, st.pipelines, 'partial', () => PARTIAL_SUM_SHADER);
    pass.setPipeline(partial);
    updates.forEach((u, k) => {
      pass.setBindGroup(0, groups.get(b, u.variable, partial, [
        { binding: 0, resource: scalars }, { binding: 1, resource: info(k) },
        { binding: 2, resource: { buffer: bufs[k].g } }, { binding: 3, resource: { buffer: parts as GpuBuffer } },
      ]));
      pass.dispatchWorkgroups(shapes[k].workgroups);
    });
    const finish = pipeline(b, st.pipelines, `finish|${clip.norm}|${clip.global}`, () => finishShader(clip));
    pass.setPipeline(finish);
    pass.setBindGroup(0, b.device.createBindGroup({
      layout: finish.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: scalars }, { binding: 2, resource: { buffer: parts as GpuBuffer } },
        { binding: 3, resource: { buffer: table as GpuBuffer } }, { binding: 4, resource: { buffer: clipBuf as GpuBuffer } },
      ],
    }));
    pass.dispatchWorkgroups(1);
  }
  let set: GpuComputePipeline | null = null;
  updates.forEach((u, k) => {
    const x = bufs[k];
    const lanes = u.variable.size % 4 === 0 ? 4 : 1;
    const p = updateOf(lanes);
    if (p !== set) pass.setPipeline((set = p));
    const entries: GpuBindingEntry[] = withScalars ? [{ binding: 0, resource: scalars }, { binding: 1, resource: info(k) }] : [{ binding: 1, resource: info(k) }];
    for (let j = 0; j < bound.length; j++) entries.push({ binding: UPDATE_BINDINGS[bound[j]], resource: { buffer: x.state[j] } });
    entries.push({ binding: UPDATE_BINDINGS.g, resource: { buffer: x.g } });
    if (clipBuf !== null) entries.push({ binding: UPDATE_BINDINGS.clip, resource: { buffer: clipBuf } });
    pass.setBindGroup(0, groups.get(b, u.variable, p, entries));
    const [gx, gy] = grid(b, Math.ceil(u.variable.size / lanes / ELEMENTS_PER_INVOCATION));
    pass.dispatchWorkgroups(gx, gy);
  });
  pass.end();
  b.submitQueue();

  // The buffers changed under TF.js: drop any CPU copy a read cached.
  const written = bound.filter((name) => step.outputs[name] !== undefined);
  for (const u of updates) {
    states.use(b, u.variable);
    dropCpuCopies(b, written.map((name) => tensorOf(u, name)));
  }
}

export const webgpuFusedKernel: DenseKernel = {
  name: 'webgpu-fused',
  foldsClipping: true,
  unsupportedReason(u) {
    const version = tfjsVersionReason();
    if (version !== null) return version;
    const b = webgpuBackend();
    if (b === null) return 'the webgpu backend internals are not reachable (tfjs-backend-webgpu 4.22 expected)';
    return refusedReason(b) ?? inPlaceReason(b, u);
  },
  foldsAround: true,
  run(updates, form, s, clip, around) {
    const b = webgpuBackend() as WebGPUBackendInternals;
    runStep(updates, clip, (us, folded) => guarded(b, 'webgpu-fused', () => stepUpdates(b, us, form, s, folded, around)));
  },
  release(variable: tf.Variable, _slots: SlotSet) {
    groups.forget(variable);
    const b = webgpuBackend();
    if (b === null) return;
    const last = states.release(b, variable);
    if (last !== null) freeBuffers(b, last);
  },
};
