// The page of `npm run bench:gpu` in Chromium (bundled by test/browser/gpu_harness.ts):
// exposes `window.gpuPage.row(backend, pathIndex, sizeIndex, samples)`, `sparseRow(backend, pathIndex, samples, opChainSamples)`
// and `keras3Row(backend, optionIndex, samples)`.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { IndexedSlices, RMSprop } from '../src/index.js';
import { setFastKernelsEnabled } from '../src/kernels/registry.js';
import type { GpuBackend } from '../test/support/gpu_work.js';
import { benchRow, keras3Row, KERAS3_OPTIONS, PATHS, SIZES, SPARSE_PATHS, sparseBenchRow } from './bench_gpu_core.js';

const api = {
  async backends(): Promise<string[]> {
    const out: string[] = [];
    for (const b of ['webgl', 'webgpu']) {
      try { if (await tf.setBackend(b)) out.push(b); } catch { /* not here */ }
    }
    return out;
  },
  async info(): Promise<string> {
    const gl = document.createElement('canvas').getContext('webgl2');
    const ext = gl?.getExtension('WEBGL_debug_renderer_info');
    const renderer = gl && ext ? String(gl.getParameter(ext.UNMASKED_RENDERER_WEBGL)) : 'no WebGL 2';
    const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string; description?: string } } | null> } }).gpu;
    const adapter = gpu ? await gpu.requestAdapter() : null;
    const i = adapter?.info;
    return `${navigator.userAgent}; WebGL: ${renderer}; WebGPU adapter: ${i ? [i.vendor, i.architecture, i.description].filter(Boolean).join(' ') : 'none'}`;
  },
  async row(backend: GpuBackend, path: number, size: number, samples: number) {
    if (!(await tf.setBackend(backend))) throw new Error(`no ${backend}`);
    await tf.ready();
    return benchRow(backend, RMSprop, PATHS[path], SIZES[size], samples);
  },
  async keras3Row(backend: GpuBackend, option: number, samples: number) {
    if (!(await tf.setBackend(backend))) throw new Error(`no ${backend}`);
    await tf.ready();
    return keras3Row(backend, RMSprop, KERAS3_OPTIONS[option], samples);
  },
  async sparseRow(backend: GpuBackend, path: number, samples: number, opChainSamples: number) {
    if (!(await tf.setBackend(backend))) throw new Error(`no ${backend}`);
    await tf.ready();
    return sparseBenchRow(backend, { RMSprop, IndexedSlices: IndexedSlices as never }, SPARSE_PATHS[path], samples, opChainSamples, setFastKernelsEnabled);
  },
};

(window as unknown as { gpuPage: typeof api }).gpuPage = api;
