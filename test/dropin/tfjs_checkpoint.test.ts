/**
 * Porting mid-training: a model saved by TF.js with its own optimizer (class
 * 'RMSProp') loads with that optimizer, also while the string opt-in is active
 * (it covers compile's strings only). Its state moves into
 * `RMSprop({ flavor: 'tfjs' })` with `setWeights(getWeights())` (the same
 * layout: iter, rms…, momentum…), and training goes on exactly as TF.js's would.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { RMSprop } from '../../src/index.js';
import { useRMSpropForOptimizerStrings } from '../../src/layers/index.js';
import { assertBitEqual, BACKENDS, tf, useBackend } from '../support/tf.js';
import { PROGRAMS } from './programs.js';
import { compiled, disposeAll, fitEpochs, saved, tfjsRMSprop, weightsOf } from './training.js';

for (const backend of BACKENDS) {
  describe(`a TF.js checkpoint trained on with RMSprop (${backend})`, () => {
    before(() => useBackend(backend));

    for (const p of PROGRAMS.filter((q) => q.id === 'gru' || q.id === 'dense')) {
      test(`${p.title}: swap the loaded optimizer for RMSprop({ flavor: 'tfjs' }) and carry on, bit-identical`, async () => {
        const data = p.data();
        const reference = compiled(p, tfjsRMSprop(p));
        await fitEpochs(reference, p, data, 1);
        const artifacts = await saved(reference);
        await fitEpochs(reference, p, data, 2);

        const undo = useRMSpropForOptimizerStrings({ flavor: 'tfjs' });
        let loaded: tf.LayersModel;
        try {
          loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
        } finally {
          undo();
        }
        const theirs = loaded.optimizer;
        assert.equal(theirs.getClassName(), 'RMSProp', 'a saved TF.js optimizer loads as TF.js\'s');
        // TF.js's config names the settings: { learningRate, decay, momentum, epsilon, centered }.
        const c = theirs.getConfig() as { learningRate: number; decay: number; momentum: number; epsilon: number; centered: boolean };
        assert.deepEqual(c, { learningRate: p.rmsprop.learningRate, decay: p.rmsprop.rho, momentum: p.rmsprop.momentum, epsilon: 1e-7, centered: false });
        const opt = new RMSprop({ learningRate: c.learningRate, rho: c.decay, momentum: c.momentum, epsilon: c.epsilon, centered: c.centered, flavor: 'tfjs' });
        await opt.setWeights(await theirs.getWeights());
        assert.equal(opt.iterations, 64 / p.batchSize);
        loaded.optimizer = opt;
        theirs.dispose();
        await fitEpochs(loaded, p, data, 2);
        const a = await weightsOf(loaded);
        const b = await weightsOf(reference);
        a.forEach((w, i) => assertBitEqual(w, b[i], `${p.id} weight ${i}`));
        disposeAll(reference, loaded);
        tf.dispose([data.x, data.y]);
      });
    }
  });
}
