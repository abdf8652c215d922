/**
 * Sparse rows as TF.js ops, for every backend without a row kernel of its own
 * (and for tables whose buffers other tensors share): the touched rows of the
 * table and its slots are gathered, caught up with their per-row factors, take
 * the rule's tensor form with their gradient rows, and are scattered back. No
 * value of the table reaches the host; the device does work in proportion to
 * the table only to scatter the rows back into a new buffer. The catch-up factors are float32 here
 * (the loops keep them in float64), so it is within a few ulps of the
 * reference loops rather than equal to them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { rowPasses } from '../../rules/table.js';
import type { TensorState } from '../../rules/types.js';
import type { RowKernel } from '../types.js';
import { scalarTensors, TF_OPS, withChanges } from './ops.js';

export const tfopsRows: RowKernel = {
  name: 'tfops-rows',
  unsupportedReason: () => null,
  run({ variable, slots }, job) {
    const { rows, rowSize, form, s } = job;
    const k = rows.length;
    if (k === 0) return;
    tf.tidy(() => {
      const idx = tf.tensor2d(rows, [k, 1], 'int32');
      const gather = (t: tf.Variable | undefined): tf.Tensor | undefined => t && tf.reshape(tf.gatherND(t, idx), [k, rowSize]);
      const before: TensorState<tf.Tensor | undefined> = { w: gather(variable), ms: gather(slots.rms), mom: gather(slots.momentum), mg: gather(slots.mg) };
      let st = before as TensorState<tf.Tensor>;
      const c = job.catchUp;
      if (c !== null) {
        const column = (a: Float64Array): tf.Tensor => tf.tensor2d(Float32Array.from(a), [k, 1]);
        const decay = column(c.decay);
        st = withChanges(st, { ms: tf.mul(st.ms, decay), mg: st.mg && tf.mul(st.mg, decay) });
        if (c.muPow !== null && c.muSum !== null && st.mom !== undefined) {
          const muSum = column(c.muSum);
          // Rows that missed nothing keep their values exactly (w − mom·0 would turn an infinite mom into NaN).
          const moved = tf.where(tf.notEqual(muSum, 0), tf.sub(st.w, tf.mul(st.mom, muSum)), st.w);
          st = withChanges(st, { w: moved, mom: tf.mul(st.mom, column(c.muPow)) });
        }
      }
      if (job.values !== null) {
        const g = new Float32Array(k * rowSize);
        for (let p = 0; p < k; p++) g.set(job.values.subarray(job.slice[p] * rowSize, (job.slice[p] + 1) * rowSize), p * rowSize);
        const gt = tf.tensor2d(g, [k, rowSize]);
        const scalars = scalarTensors(s);
        for (const pass of rowPasses(form, s, job.rule)) st = withChanges(st, pass.ops(TF_OPS, scalars, form.centered, gt, st));
      }
      // tf.tensorScatterUpdate would do, but tfjs-backend-cpu 4.22 writes its result into
      // the input's buffer, which other tensors may share: rows are selected instead.
      const touched = tf.reshape(
        tf.cast(tf.scatterND(idx, tf.ones([k], 'int32'), [variable.shape[0]]), 'bool'), variable.shape.map((d, i) => (i === 0 ? d : 1)),
      );
      const scatter = (t: tf.Variable | undefined, next: tf.Tensor | undefined, old: tf.Tensor | undefined): void => {
        if (t === undefined || next === undefined || next === old) return;
        t.assign(tf.where(touched, tf.scatterND(idx, tf.reshape(next, [k, ...t.shape.slice(1)]), t.shape), t));
      };
      scatter(variable, st.w, before.w);
      scatter(slots.rms, st.ms, before.ms);
      scatter(slots.momentum, st.mom, before.mom);
      scatter(slots.mg, st.mg, before.mg);
    });
  },
};
