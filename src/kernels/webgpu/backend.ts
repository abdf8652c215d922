/**
 * The parts of tfjs-backend-webgpu 4.22's `WebGPUBackend` the fused kernel
 * uses, and the few WebGPU types it touches, typed here so this package needs
 * neither the backend nor @webgpu/types. Public in 4.22's typings: `device`,
 * `queue`, `tensorMap`, `bufferManager`, `ensureCommandEncoderReady`,
 * `endComputePassEncoder`, `submitQueue`, `uploadToGPU`. Private, read
 * structurally: `commandEncoder` (the encoder tfjs records into; the kernel
 * ends tfjs's compute pass, records its own, and submits, as tfjs's own
 * `copyBuffer` does). Checked once per backend object.
 */
import { backendInternals } from '../gpu/internals.js';

export interface GpuBuffer {
  readonly size: number;
  readonly usage: number;
  mapAsync(mode: number): Promise<void>;
  destroy(): void;
}

export interface GpuBindGroupLayout { readonly __brand?: 'GPUBindGroupLayout' }
export interface GpuBindGroup { readonly __brand?: 'GPUBindGroup' }

export interface GpuComputePipeline {
  getBindGroupLayout(index: number): GpuBindGroupLayout;
}

export interface GpuComputePass {
  setPipeline(pipeline: GpuComputePipeline): void;
  setBindGroup(index: number, group: GpuBindGroup): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  end(): void;
}

export interface GpuCommandEncoder {
  beginComputePass(descriptor?: object): GpuComputePass;
}

export interface GpuBindingEntry {
  binding: number;
  resource: { buffer: GpuBuffer; offset?: number; size?: number };
}

export interface GpuDevice {
  pushErrorScope(filter: 'validation' | 'out-of-memory' | 'internal'): void;
  popErrorScope(): Promise<{ readonly message: string } | null>;
  createShaderModule(descriptor: { code: string }): object;
  createComputePipeline(descriptor: { layout: 'auto'; compute: { module: object; entryPoint: string } }): GpuComputePipeline;
  createBindGroup(descriptor: { layout: GpuBindGroupLayout; entries: GpuBindingEntry[] }): GpuBindGroup;
  readonly limits: { readonly maxComputeWorkgroupsPerDimension: number; readonly minUniformBufferOffsetAlignment: number };
}

export interface GpuQueue {
  writeBuffer(buffer: GpuBuffer, offset: number, data: ArrayBufferView): void;
}

/** A tensor's record in `tensorMap` (backend_webgpu.d.ts `TensorData`): the fields used here. */
export interface WebGPUTensorData {
  values: unknown;
  dtype: string;
  refCount: number;
  resource?: unknown;
  external?: boolean;
}

export interface WebGPUBackendInternals {
  device: GpuDevice;
  queue: GpuQueue;
  tensorMap: { get(dataId: object): WebGPUTensorData | undefined };
  bufferManager: { acquireBuffer(size: number, usage: number): GpuBuffer; releaseBuffer(buffer: GpuBuffer, reuse?: boolean): void };
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  uploadToGPU(dataId: object): void;
  commandEncoder: GpuCommandEncoder | null;
}

/** GPUBufferUsage bits (fixed by the WebGPU specification). */
export const USAGE = { COPY_SRC: 0x04, COPY_DST: 0x08, UNIFORM: 0x40, STORAGE: 0x80 } as const;

/** The active backend if it is tfjs-backend-webgpu with the internals this kernel relies on. */
export const webgpuBackend = backendInternals<WebGPUBackendInternals>('webgpu', (b) => {
  const fns = ['ensureCommandEncoderReady', 'endComputePassEncoder', 'submitQueue', 'uploadToGPU'];
  const tensorMap = b.tensorMap as { get?: unknown } | undefined;
  const manager = b.bufferManager as { acquireBuffer?: unknown; releaseBuffer?: unknown } | undefined;
  return fns.every((k) => typeof b[k] === 'function') && b.device !== undefined && b.queue !== undefined &&
    typeof tensorMap?.get === 'function' && typeof manager?.acquireBuffer === 'function' &&
    typeof manager.releaseBuffer === 'function' && 'commandEncoder' in b;
});

/**
 * Buffers already recognized. Reading `size` and `usage` crosses into the native
 * binding (Dawn's in Node: 0.4 ms a 200-variable step, five checks a variable),
 * and a step sees the same buffers again: its state, and gradients from tfjs's pool.
 */
const knownBuffers = new WeakSet<object>();

/** Whether a tensor record's resource is a buffer (tfjs-webgpu may also hold textures for some ops' inputs). */
export function isBuffer(resource: unknown): resource is GpuBuffer {
  if (resource == null || typeof resource !== 'object') return false;
  if (knownBuffers.has(resource)) return true;
  const r = resource as Partial<GpuBuffer>;
  const is = typeof r.size === 'number' && typeof r.usage === 'number' && typeof r.mapAsync === 'function';
  if (is) knownBuffers.add(resource);
  return is;
}
