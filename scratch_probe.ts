import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { IndexedSlices, RMSprop } from './src/index.js';

async function probe(rows: number, dim: number, touched: number, reps: number, read: number, vary: number, skip = '') {
  (globalThis as any).__skip = skip;
  await tf.setBackend('webgl');
  const gl = (tf.backend() as unknown as { gpgpu: { gl: WebGL2RenderingContext } }).gpgpu.gl;
  const table = tf.variable(tf.randomUniform([rows, dim], -1, 1, 'float32', 1));
  const opt = new RMSprop({ learningRate: 0.001, sparseMode: 'keras2' });
  const ids = Array.from({ length: touched }, (_, i) => (i * 193) % rows);
  const values = tf.tensor2d(new Float32Array(touched * dim).fill(0.1), [touched, dim]);
  const out: string[] = [];
  for (let i = 0; i < reps; i++) {
    gl.finish();
    const t0 = performance.now();
    const shift = vary ? i * 7 : 0;
    opt.applyGradients([[new IndexedSlices(values, ids.map((x) => (x + shift) % rows)), table]]);
    const t1 = performance.now();
    gl.finish();
    const t2 = performance.now();
    if (read === 1) { const one = tf.slice(table, [0, 0], [1, 1]); await one.data(); one.dispose(); }
    if (read === 2) { const one = tf.slice(table, [0, 0], [1, 1]); one.dataSync(); one.dispose(); }
    const t3 = performance.now();
    if (read) { const one = tf.slice(table, [0, 0], [1, 1]); await one.data(); one.dispose(); }
    const t4 = performance.now();
    if (read) { const one = tf.slice(table, [5, 0], [1, 1]); await one.data(); one.dispose(); }
    const t5 = performance.now();
    out.push(`${(t1 - t0).toFixed(1)}+${(t2 - t1).toFixed(1)}+${(t3 - t2).toFixed(1)}+${(t4 - t3).toFixed(1)}+${(t5 - t4).toFixed(1)}`);
  }
  const r = `rows ${rows} dim ${dim} touched ${touched}: ${out.join(' ')} ${opt.lastStepKernels()[0].kernel}`;
  opt.dispose(); table.dispose(); values.dispose();
  return r;
}
(window as unknown as { gpuPage: unknown }).gpuPage = {
  backends: async () => ['webgl'],
  probe,
};
