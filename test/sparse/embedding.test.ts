/**
 * embeddingLookup under minimize and SparseEmbedding under model.fit: the
 * table's gradient arrives as IndexedSlices (never table-sized), and the result
 * equals the dense gather path where the semantics agree. Save and restore in
 * the middle of a sparse run.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { embeddingLookup, IndexedSlices, RMSprop, type RMSpropOptions } from '../../src/index.js';
import { SparseEmbedding } from '../../src/layers/index.js';
import { assertClose, BACKENDS, tf, useBackend, saveWithOptimizer } from '../support/tf.js';

function spyGradients(opt: RMSprop): Array<{ sparse: boolean; shape: number[] }> {
  const seen: Array<{ sparse: boolean; shape: number[] }> = [];
  const original = opt.applyGradients.bind(opt);
  opt.applyGradients = (g) => {
    for (const [grad] of g as Array<[unknown, tf.Variable]>) {
      if (grad instanceof IndexedSlices) seen.push({ sparse: true, shape: grad.values.shape });
      else if (grad instanceof tf.Tensor) seen.push({ sparse: false, shape: grad.shape });
    }
    return original(g);
  };
  return seen;
}

for (const backend of BACKENDS) {
  describe(`embeddingLookup and SparseEmbedding (${backend})`, () => {
    before(() => useBackend(backend));

    test('TF 2.4 testMinimizeSparseResourceVariable: [[1, 2]] → [[0, 1]] through minimize', () => {
      const v = tf.variable(tf.tensor2d([[1, 2]]));
      const opt = new RMSprop({ learningRate: 1, rho: 0, momentum: 0, epsilon: 0 });
      const seen = spyGradients(opt);
      opt.minimize(() => tf.square(tf.matMul(embeddingLookup(v, [0]), tf.tensor2d([[4], [5]]))).reshape([]) as tf.Scalar, [v]);
      assert.deepEqual(seen, [{ sparse: true, shape: [1, 2] }]);
      assertClose(v.dataSync(), [0, 1], 0, 0.01, 'var');
    });

    test('with ids of any shape, gradients equal the dense gather path (momentum 0: sparse equals dense in TF 2.4)', () => {
      const init = tf.randomNormal([50, 4], 0, 1, 'float32', 1);
      const sparseTable = tf.variable(init.clone());
      const denseTable = tf.variable(init.clone());
      const w = tf.randomNormal([4, 1], 0, 1, 'float32', 2);
      const ids = tf.tensor2d([[3, 7, 3], [49, 0, 7]], [2, 3], 'int32');
      const sparse = new RMSprop({ learningRate: 0.05 });
      const dense = new RMSprop({ learningRate: 0.05 });
      const seen = spyGradients(sparse);
      const loss = (rows: tf.Tensor) => tf.sum(tf.square(tf.matMul(tf.reshape(rows, [6, 4]), w))) as tf.Scalar;
      for (let i = 0; i < 5; i++) {
        sparse.minimize(() => loss(embeddingLookup(sparseTable, ids)), [sparseTable]);
        if (backend === 'cpu') dense.minimize(() => loss(tf.gather(denseTable, tf.reshape(ids, [6]))), [denseTable]);
      }
      assert.ok(seen.every((s) => s.sparse && s.shape.join() === '6,4'), JSON.stringify(seen));
      // tf.gather's gradient (unsortedSegmentSum) has no wasm kernel in TF.js 4.22: compare on cpu.
      if (backend === 'cpu') assertClose(sparseTable.dataSync(), denseTable.dataSync(), 1e-6, 1e-7, 'table');
      tf.dispose([init, sparseTable, denseTable, w, ids]);
    });

    test("'dense-equivalent' with momentum: lookups see rows brought up to date, and match the dense optimizer", () => {
      const init = tf.randomNormal([20, 2], 0, 1, 'float32', 3);
      const a = tf.variable(init.clone());
      const b = tf.variable(init.clone());
      const opts: RMSpropOptions = { learningRate: 0.02, momentum: 0.9 };
      const sparse = new RMSprop({ ...opts, sparseMode: 'dense-equivalent' });
      const dense = new RMSprop(opts);
      const batches = [[0, 1, 2], [3, 4], [0, 5], [6, 0], [1, 2, 3]];
      for (const ids of batches) {
        sparse.minimize(() => tf.sum(tf.square(embeddingLookup(a, ids))) as tf.Scalar, [a]);
        const g = tf.tidy(() => tf.scatterND(tf.tensor2d(ids, [ids.length, 1], 'int32'), tf.mul(2, tf.gather(b, ids)), [20, 2]));
        dense.applyGradients([[g, b]]);
        g.dispose();
      }
      // A lookup of row 0 (last touched 2 steps ago) sees its momentum's movement since.
      const row0 = embeddingLookup(a, [0]).dataSync();
      assertClose(row0, tf.gather(b, [0]).dataSync(), 2e-6, 1e-7, 'row 0 through embeddingLookup');
      sparse.finalizeVariableValues();
      assertClose(a.dataSync(), b.dataSync(), 2e-6, 1e-7, 'whole table after finalizeVariableValues');
    });

    test('SparseEmbedding under model.fit gives sparse gradients and trains like tf.layers.embedding', async () => {
      const build = (sparse: boolean) => {
        const args = { inputDim: 30, outputDim: 4, inputLength: 3, embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: 4 }) };
        return tf.sequential({
          layers: [
            sparse ? new SparseEmbedding(args) : tf.layers.embedding(args),
            tf.layers.flatten(),
            tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }),
          ],
        });
      };
      const x = tf.tensor2d([[1, 2, 3], [4, 5, 1], [7, 7, 2], [9, 1, 0]], [4, 3], 'float32');
      const y = tf.tensor2d([[1], [0], [1], [0]]);
      const sparseModel = build(true);
      const opt = new RMSprop({ learningRate: 0.01, sparseMode: 'dense-equivalent', momentum: 0.5 });
      const seen = spyGradients(opt);
      sparseModel.compile({ optimizer: opt, loss: 'meanSquaredError' });
      await sparseModel.fit(x, y, { epochs: 3, batchSize: 2, shuffle: false, verbose: 0 });
      assert.ok(seen.some((s) => s.sparse && s.shape.join() === '6,4'), JSON.stringify(seen));
      assert.ok(!seen.some((s) => !s.sparse && s.shape[0] === 30), 'no table-sized gradient');
      if (backend === 'cpu') {
        const denseModel = build(false);
        denseModel.compile({ optimizer: new RMSprop({ learningRate: 0.01, momentum: 0.5 }), loss: 'meanSquaredError' });
        await denseModel.fit(x, y, { epochs: 3, batchSize: 2, shuffle: false, verbose: 0 });
        // getWeights reads the layer's weights through SparseEmbedding, which brings deferred rows up to date.
        const ws = sparseModel.getWeights();
        const wd = denseModel.getWeights();
        ws.forEach((w, i) => assertClose(w.dataSync(), wd[i].dataSync(), 2e-6, 1e-8, `weight ${i}`));
      }
    });

    test('save and restore in the middle of a deferred sparse run continues like the uninterrupted run', async () => {
      const opts: RMSpropOptions = { learningRate: 0.05, momentum: 0.9, centered: true, sparseMode: 'dense-equivalent' };
      const init = tf.randomNormal([12, 3], 0, 1, 'float32', 6);
      const steps = Array.from({ length: 12 }, (_, s) => [s % 5, (s * 7) % 12, s % 5]);
      const apply = (opt: RMSprop, v: tf.Variable, ids: number[], s: number) => tf.tidy(() => {
        opt.applyGradients([[new IndexedSlices(tf.randomNormal([ids.length, 3], 0, 1, 'float32', 100 + s), ids), v]]);
      });
      const a = tf.variable(init.clone());
      const uninterrupted = new RMSprop(opts);
      steps.forEach((ids, s) => apply(uninterrupted, a, ids, s));

      const b = tf.variable(init.clone());
      const first = new RMSprop(opts);
      steps.slice(0, 6).forEach((ids, s) => apply(first, b, ids, s));
      const saved = (await first.getWeights()).map((w) => ({ name: w.name, tensor: w.tensor.clone() }));
      const savedTable = b.clone();
      const c = tf.variable(savedTable);
      const restored = new RMSprop(opts);
      await restored.setWeights(saved);
      steps.slice(6).forEach((ids, s) => apply(restored, c, ids, s + 6));
      uninterrupted.finalizeVariableValues();
      restored.finalizeVariableValues();
      // Catching up at the save point and again later rounds differently from one catch-up: a few ulps.
      assertClose(c.dataSync(), a.dataSync(), 1e-6, 1e-7, 'table');
      for (const slot of ['rms', 'momentum', 'mg']) {
        assertClose(restored.getSlot(c, slot).dataSync(), uninterrupted.getSlot(a, slot).dataSync(), 1e-6, 1e-8, slot);
      }
    });

    test('a model with SparseEmbedding saved with its optimizer mid-run loads back and trains on like the uninterrupted run', async () => {
      const build = () => tf.sequential({
        layers: [
          new SparseEmbedding({ inputDim: 40, outputDim: 3, inputLength: 2, embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: 8 }) }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 9 }) }),
        ],
      });
      const make = () => new RMSprop({ learningRate: 0.02, momentum: 0.9, sparseMode: 'dense-equivalent' });
      const x = tf.tensor2d([[1, 2], [3, 1], [5, 6], [7, 1], [9, 2], [3, 3]], [6, 2]);
      const y = tf.tensor2d([[1], [0], [1], [0], [1], [0]]);
      const fitArgs = { epochs: 2, batchSize: 2, shuffle: false, verbose: 0 as const };
      const uninterrupted = build();
      uninterrupted.compile({ optimizer: make(), loss: 'meanSquaredError' });
      await uninterrupted.fit(x, y, fitArgs);
      await uninterrupted.fit(x, y, fitArgs);

      const first = build();
      first.compile({ optimizer: make(), loss: 'meanSquaredError' });
      await first.fit(x, y, fitArgs);
      const artifacts = await saveWithOptimizer(first);
      const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      assert.ok(loaded.layers[0] instanceof SparseEmbedding, 'the layer comes back as SparseEmbedding');
      assert.ok(loaded.optimizer instanceof RMSprop && loaded.optimizer.sparseMode === 'dense-equivalent');
      await loaded.fit(x, y, fitArgs);
      // Deferred rows were brought up to date at the save: a few ulps from the single catch-up of the uninterrupted run.
      const a = uninterrupted.getWeights();
      loaded.getWeights().forEach((w, i) => assertClose(w.dataSync(), a[i].dataSync(), 2e-6, 1e-8, `weight ${i}`));
    });

    test('embeddingLookup rejects bad ids and tables', () => {
      const t = tf.variable(tf.zeros([3, 2]), true, `lookup/bad/${backend}`);
      assert.throws(() => embeddingLookup(t, [3]), new RegExp(`id 3 at offset 0 is out of range for table "lookup/bad/${backend}" with 3 rows`));
      assert.throws(() => embeddingLookup(t, [-1]), /id -1 at offset 0 is out of range/);
      assert.throws(() => embeddingLookup(t, [0.5]), /id 0.5 at offset 0 is not an integer/);
      assert.throws(() => embeddingLookup(tf.zeros([3, 2]) as tf.Variable, [0]), /`table` must be a tf.Variable/);
      assert.deepEqual(embeddingLookup(t, tf.tensor2d([[0, 1]], [1, 2], 'int32')).shape, [1, 2, 2]);
    });
  });
}
