/**
 * Real programs with the optimizer swapped: each of the four programs in
 * programs.ts, on cpu and wasm, trained with `tf.train.rmsprop` and with this
 * package's RMSprop through `model.compile` / `model.fit`:
 * - `flavor: 'tfjs'` gives the same weights and losses as `tf.train.rmsprop`, to the bit;
 * - the default flavor, fed the same gradients as `tf.train.rmsprop`, stays within
 *   the difference its documented arithmetic allows (flavor_gap.ts derives it);
 * - the default flavor trains (the loss falls), the fused kernel of the backend
 *   updates every variable, the engine's tensor count stays flat across fit calls,
 *   and save (with the optimizer) → load → train on gives the uninterrupted run's
 *   weights to the bit.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RMSprop } from '../../src/index.js';
import { assertBitEqual, BACKENDS, tf, useBackend } from '../support/tf.js';
import { FlavorGap } from './flavor_gap.js';
import { PROGRAMS } from './programs.js';
import { compiled, disposeAll, fitEpochs, ourRMSprop, saveAndLoad, tfjsRMSprop, weightsOf } from './training.js';

const EPOCHS = 3;

type NamedGrad = { name: string; tensor: tf.Tensor };

for (const backend of BACKENDS) {
  describe(`real programs, optimizer swapped (${backend})`, () => {
    before(() => useBackend(backend));

    for (const p of PROGRAMS) {
      describe(p.title, () => {
        let data: { x: tf.Tensor; y: tf.Tensor };
        before(() => { data = p.data(); });
        after(() => tf.dispose([data.x, data.y]));

        test(`flavor 'tfjs' equals tf.train.rmsprop to the bit; the default flavor stays within the epsilon difference`, async () => {
          const theirs = compiled(p, tfjsRMSprop(p));
          // Every gradient tf.train.rmsprop gets also goes to the default flavor,
          // on copies of the variables, and to the float64 models of both.
          const keras2 = ourRMSprop(p);
          const shadows: tf.Variable[] = [];
          let gap: FlavorGap | null = null;
          const applyTheirs = theirs.optimizer.applyGradients.bind(theirs.optimizer);
          theirs.optimizer.applyGradients = (grads) => {
            const list = grads as NamedGrad[];
            if (gap === null) {
              const registered = tf.engine().registeredVariables;
              for (const g of list) shadows.push(tf.tidy(() => tf.variable(registered[g.name].clone(), true, `shadow_${backend}_${g.name}`)));
              gap = new FlavorGap(shadows.map((v) => v.dataSync() as Float32Array), p.rmsprop);
            }
            gap.step(list.map((g) => g.tensor.dataSync() as Float32Array));
            keras2.applyGradients(list.map((g, i) => [g.tensor, shadows[i]] as [tf.Tensor, tf.Variable]));
            applyTheirs(grads);
          };
          const ref = await fitEpochs(theirs, p, data, EPOCHS);

          const opt = ourRMSprop(p, { flavor: 'tfjs' });
          const ours = compiled(p, opt);
          const mine = await fitEpochs(ours, p, data, EPOCHS);
          assert.deepEqual(mine.losses, ref.losses);
          for (const r of [ref, mine]) assert.ok(r.tensors.every((n) => n === r.tensors[0]), `tensors after each fit: ${r.tensors.join(', ')}`);
          const a = await weightsOf(ours);
          const b = await weightsOf(theirs);
          a.forEach((w, i) => assertBitEqual(w, b[i], `${p.id} weight ${i}`));
          for (const k of opt.lastStepKernels()) assert.equal(k.kernel, `${backend}-simd`, JSON.stringify(k));

          // The default flavor against tf.train.rmsprop, on the same gradient stream.
          assert.ok(gap !== null);
          const g = gap as FlavorGap;
          const tolerance = g.tolerance();
          const modelGap = g.modelGap();
          let largest = 0;
          for (const [i, v] of shadows.entries()) {
            const k = v.dataSync();
            const t = tf.engine().registeredVariables[v.name.replace(`shadow_${backend}_`, '')].dataSync();
            for (let j = 0; j < k.length; j++) {
              // Two-sided: the float32 runs are as far apart as their float64 models, give or take their rounding.
              const d = Math.abs(k[j] - t[j]);
              const rounding = tolerance[i][j] - modelGap[i][j];
              assert.ok(Math.abs(d - modelGap[i][j]) <= rounding,
                `${p.id} variable ${i}[${j}]: |keras2 − tfjs| = ${d}, the formulas give ${modelGap[i][j]} ± ${rounding}`);
              largest = Math.max(largest, d);
            }
          }
          assert.ok(largest > 0, 'keras2 and tfjs differ on this program');
          keras2.dispose();
          tf.dispose(shadows);
          disposeAll(theirs, ours);
        });

        test('the default flavor trains, on the fused kernel, with a flat tensor count; save → load → train on is bit-identical', async () => {
          const opt = ourRMSprop(p);
          const model = compiled(p, opt);
          const run = await fitEpochs(model, p, data, EPOCHS);
          assert.ok(run.losses[EPOCHS - 1] < run.losses[0], `loss fell: ${run.losses.join(', ')}`);
          assert.ok(run.tensors.every((n) => n === run.tensors[0]), `tensors after each fit: ${run.tensors.join(', ')}`);
          for (const k of opt.lastStepKernels()) assert.equal(k.kernel, `${backend}-simd`, JSON.stringify(k));

          const first = compiled(p, ourRMSprop(p));
          await fitEpochs(first, p, data, 1);
          const loaded = await saveAndLoad(first);
          assert.ok(loaded.optimizer instanceof RMSprop);
          assert.equal(loaded.optimizer.iterations, 64 / p.batchSize);
          await fitEpochs(loaded, p, data, EPOCHS - 1);
          const a = await weightsOf(loaded);
          const b = await weightsOf(model);
          a.forEach((w, i) => assertBitEqual(w, b[i], `${p.id} weight ${i}`));
          disposeAll(model, first, loaded);
        });
      });
    }
  });
}
