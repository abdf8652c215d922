/**
 * A WebGPU device that refuses the fused kernels' work: WebGPU only reports an
 * invalid bind group, pipeline or pass as an error and skips the work, so the
 * step would change nothing, silently. Here the device's `createBindGroup` is
 * wrapped to add a binding the layout lacks (an injected fault; TF.js itself
 * runs as it is). The refusal must be said once, and every later step of that
 * device, dense or sparse, must run as TF.js ops with the reason. In a process
 * of its own: the device stays refused for the rest of the process.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { tf } from '../support/tf.js';
import { IndexedSlices, RMSprop } from '../../src/index.js';
import { startNodeWebGPU } from '../support/webgpu_node.js';

interface Device {
  createBindGroup(d: { entries: Array<{ binding: number; resource: unknown }> }): unknown;
  queue: { onSubmittedWorkDone(): Promise<void> };
}

/** A variable whose buffer is its own (`tf.variable(t)` shares `t`'s, which the kernels do not write in place). */
function own(t: tf.Tensor): tf.Variable {
  const v = tf.variable(t);
  t.dispose();
  return v;
}

describe('a WebGPU device refusing the fused kernels\' work (Node, Dawn on SwiftShader)', () => {
  test('the refusal is said once; later dense and sparse steps run as TF.js ops with the reason', async (t) => {
    const missing = await startNodeWebGPU();
    if (missing !== null) { t.skip(missing); return; }
    const device = (tf.backend() as unknown as { device: Device }).device;
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (...a: unknown[]) => { warnings.push(a.map(String).join(' ')); };
    const create = device.createBindGroup;
    const v = own(tf.randomNormal([300], 0, 1, 'float32', 1));
    const g = tf.randomNormal([300], 0, 1, 'float32', 2);
    const opt = new RMSprop({ learningRate: 0.1 });
    try {
      device.createBindGroup = function (this: Device, d) {
        return create.call(this, { ...d, entries: [...d.entries, { binding: 99, resource: d.entries[0].resource }] });
      };
      const before = Float32Array.from(await v.data());
      opt.applyGradients([[g, v]]);
      device.createBindGroup = create;
      assert.equal(opt.lastStepKernels()[0].kernel, 'webgpu-fused');
      await device.queue.onSubmittedWorkDone();
      await new Promise((r) => setTimeout(r, 10));
      // The refused step changed nothing: that is what must not pass unnoticed.
      assert.deepEqual(Float32Array.from(await v.data()), before);
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0], /^RMSprop: the WebGPU device refused the fused kernel's work \(webgpu-fused: .*\); later steps run as TF\.js ops$/s);

      opt.applyGradients([[g, v]]);
      const [dense] = opt.lastStepKernels();
      assert.notEqual(dense.kernel, 'webgpu-fused');
      assert.match(dense.fallbackReason ?? '', /the WebGPU device refused an earlier step of the fused kernels \(webgpu-fused: /);
      const after = await v.data();
      assert.ok(after.some((x, i) => x !== before[i]), 'the op chain did not step');

      const table = own(tf.randomNormal([50, 4], 0, 1, 'float32', 3));
      const sparse = new RMSprop({ learningRate: 0.1 });
      sparse.applyGradients([[new IndexedSlices(tf.ones([2, 4]), [3, 7]), table]]);
      const [rows] = sparse.lastStepKernels();
      assert.doesNotMatch(rows.kernel, /webgpu-rows/);
      assert.match(rows.fallbackReason ?? '', /the WebGPU device refused an earlier step of the fused kernels/);
      sparse.dispose();
      table.dispose();
      assert.equal(warnings.length, 1, 'said once');
    } finally {
      device.createBindGroup = create;
      console.warn = warn;
      opt.dispose();
      tf.dispose([v, g]);
    }
  });
});
