/**
 * What the WebGPU kernels (the dense step, kernel.ts, and sparse rows, rows.ts)
 * share: their own buffers from tfjs's buffer manager (so they count in
 * `tf.memory()`), pipelines and bind groups kept while their buffers stay the
 * same, and what writing a tensor's buffer in place must respect.
 */
import type * as tf from '@tensorflow/tfjs-core';
import {
  isBuffer, type GpuBindGroup, type GpuBindingEntry, type GpuBuffer, type GpuComputePipeline, type WebGPUBackendInternals,
  type WebGPUTensorData,
} from './backend.js';
import { WORKGROUP } from './shaders.js';

/** A buffer of ours, grown by doubling. */
export interface Grown {
  buffer: GpuBuffer | null;
  bytes: number;
}

export const grown = (): Grown => ({ buffer: null, bytes: 0 });

/** `g` with room for `bytes`: a new buffer from tfjs's manager (counted in tf.memory()) when it is too small. */
export function ensure(b: WebGPUBackendInternals, g: Grown, bytes: number, usage: number): GpuBuffer {
  if (g.buffer === null || g.bytes < bytes) {
    if (g.buffer !== null) b.bufferManager.releaseBuffer(g.buffer, false);
    g.bytes = Math.max(bytes, 2 * g.bytes, 256);
    g.buffer = b.bufferManager.acquireBuffer(g.bytes, usage);
  }
  return g.buffer;
}

/** Hands `g`'s buffer back to tfjs's manager. */
export function free(b: WebGPUBackendInternals, g: Grown): void {
  if (g.buffer !== null) b.bufferManager.releaseBuffer(g.buffer, false);
  g.buffer = null;
  g.bytes = 0;
}

/** The pipeline of `key` from `cache`, compiled from `code()` the first time. */
export function pipeline(
  b: WebGPUBackendInternals, cache: Map<string, GpuComputePipeline>, key: string, code: () => string,
): GpuComputePipeline {
  let p = cache.get(key);
  if (p === undefined) {
    const module = b.device.createShaderModule({ code: code() });
    p = b.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    cache.set(key, p);
  }
  return p;
}

/** Bind groups per variable, by pipeline, valid while every buffer they name is the same. */
interface CachedGroup {
  readonly entries: readonly GpuBindingEntry[];
  readonly group: GpuBindGroup;
}

/** Per variable and pipeline, bind groups for this many sets of buffers (tfjs's pool hands out a few gradient buffers in turn). */
const GROUPS_KEPT = 4;

/** Whether two entry lists of one pipeline name the same buffers at the same offsets. */
function sameResources(a: readonly GpuBindingEntry[], b: readonly GpuBindingEntry[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i].resource;
    const y = b[i].resource;
    if (x.buffer !== y.buffer || (x.offset ?? 0) !== (y.offset ?? 0)) return false;
  }
  return true;
}

/** A cache of bind groups per variable (one per kernel, dropped with `forget`). */
export class BindGroups {
  private readonly byVariable = new WeakMap<tf.Variable, Map<GpuComputePipeline, CachedGroup[]>>();

  get(b: WebGPUBackendInternals, v: tf.Variable, p: GpuComputePipeline, entries: GpuBindingEntry[]): GpuBindGroup {
    let byPipeline = this.byVariable.get(v);
    if (byPipeline === undefined) this.byVariable.set(v, (byPipeline = new Map()));
    let list = byPipeline.get(p);
    if (list === undefined) byPipeline.set(p, (list = []));
    for (const c of list) if (sameResources(c.entries, entries)) return c.group;
    const group = b.device.createBindGroup({ layout: p.getBindGroupLayout(0), entries });
    list.unshift({ entries, group });
    if (list.length > GROUPS_KEPT) list.length = GROUPS_KEPT;
    return group;
  }

  forget(v: tf.Variable): void {
    this.byVariable.delete(v);
  }
}

export function record(b: WebGPUBackendInternals, t: tf.Tensor): WebGPUTensorData | undefined {
  return b.tensorMap.get(t.dataId as object);
}

/** Why `t` cannot be written in place, or null. */
export function writableReason(b: WebGPUBackendInternals, t: tf.Tensor, what: string): string | null {
  const d = record(b, t);
  if (d === undefined) return `the ${what} is not held by the webgpu backend`;
  if (d.dtype !== 'float32') return `the ${what} has dtype ${d.dtype}`;
  if (d.refCount !== 1) return `the ${what} shares its buffer with another tensor (refCount ${d.refCount})`;
  if (d.external === true) return `the ${what} is an external GPUBuffer given to TF.js (zeroCopy)`;
  if (d.resource != null && !isBuffer(d.resource)) return `the ${what} is not held in a GPUBuffer`;
  return null;
}

/** Every state tensor of a variable: its rule's slots, and Keras 3's accumulator and average. */
export interface WrittenSlots {
  readonly rms: tf.Variable;
  readonly momentum?: tf.Variable;
  readonly mg?: tf.Variable;
  readonly ema?: tf.Variable;
  readonly accumulator?: tf.Variable;
}

/** The tensors a step writes in place, named as in its reasons; with `around`, also Keras 3's state. */
export function writtenTensors(variable: tf.Variable, slots: WrittenSlots, around = false): Array<[tf.Variable, string]> {
  const out: Array<[tf.Variable, string]> = [[variable, 'variable'], [slots.rms, 'rms slot']];
  if (slots.momentum !== undefined) out.push([slots.momentum, 'momentum slot']);
  if (slots.mg !== undefined) out.push([slots.mg, 'mg slot']);
  if (around && slots.ema !== undefined) out.push([slots.ema, 'EMA of the weights']);
  if (around && slots.accumulator !== undefined) out.push([slots.accumulator, 'gradient accumulator']);
  return out;
}

/** Why the variable or one of its state tensors cannot be written in place, or null. */
export function stateWritableReason(b: WebGPUBackendInternals, variable: tf.Variable, slots: WrittenSlots, around = false): string | null {
  for (const [t, what] of writtenTensors(variable, slots, around)) {
    const why = writableReason(b, t, what);
    if (why !== null) return why;
  }
  return null;
}

/** The GPUBuffer of `t`, uploading CPU-held values first. */
export function bufferOf(b: WebGPUBackendInternals, t: tf.Tensor): GpuBuffer {
  let d = record(b, t) as WebGPUTensorData;
  if (d.resource == null) {
    b.uploadToGPU(t.dataId as object);
    d = record(b, t) as WebGPUTensorData;
  }
  return d.resource as GpuBuffer;
}

/** The buffers changed under TF.js: drops any CPU copy a read cached (else `dataSync` returns the old values). */
export function dropCpuCopies(b: WebGPUBackendInternals, tensors: ReadonlyArray<tf.Tensor | undefined>): void {
  for (const t of tensors) if (t !== undefined) (record(b, t) as WebGPUTensorData).values = null;
}

/** Each device's workgroup limit per dimension: `device.limits` is a native getter that builds a new object per read. */
const maxGroups = new WeakMap<object, number>();

/** Workgroups for n invocations of 64, as a 2-D grid when x alone would exceed the device's limit. */
export function grid(b: WebGPUBackendInternals, n: number): [number, number] {
  let limit = maxGroups.get(b.device);
  if (limit === undefined) maxGroups.set(b.device, (limit = b.device.limits.maxComputeWorkgroupsPerDimension));
  const groupsNeeded = Math.max(1, Math.ceil(n / WORKGROUP));
  const x = Math.min(groupsNeeded, limit);
  return [x, Math.ceil(groupsNeeded / x)];
}

/**
 * What a device refused of our work, by device. WebGPU reports an invalid
 * pipeline, bind group or pass only as an error event and skips the work, so a
 * step would change nothing, silently. The kernels' work runs in an error scope;
 * what it catches (it arrives after the step) sends every later step of that
 * device to the op chain, with the reason, and is said once on the console.
 */
const refused = new WeakMap<object, string>();

/** Runs `encode` (a kernel's pipelines, bind groups and pass) in a validation error scope of the device. */
export function guarded(b: WebGPUBackendInternals, kernel: string, encode: () => void): void {
  const device = b.device;
  device.pushErrorScope('validation');
  try {
    encode();
  } finally {
    device.popErrorScope().then((e) => {
      if (e === null || refused.has(device)) return;
      refused.set(device, `${kernel}: ${e.message}`);
      console.warn(`RMSprop: the WebGPU device refused the fused kernel's work (${kernel}: ${e.message}); later steps run as TF.js ops`);
    }, () => { /* the device is gone: TF.js reports that */ });
  }
}

/** Why the kernels no longer run on this backend's device (it refused their work), or null. */
export function refusedReason(b: WebGPUBackendInternals): string | null {
  const r = refused.get(b.device);
  return r === undefined ? null : `the WebGPU device refused an earlier step of the fused kernels (${r})`;
}

/** Ends tfjs's open compute pass and begins ours in tfjs's encoder (tfjs's own `copyBuffer` does the same). */
export function beginPass(b: WebGPUBackendInternals): ReturnType<NonNullable<WebGPUBackendInternals['commandEncoder']>['beginComputePass']> {
  b.ensureCommandEncoderReady();
  b.endComputePassEncoder();
  return (b.commandEncoder as NonNullable<WebGPUBackendInternals['commandEncoder']>).beginComputePass();
}
