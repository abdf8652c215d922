/**
 * Save a model together with its optimizer state, load it, and train on: the
 * loaded model continues exactly where the saved one stopped. The files are
 * TF.js's layers format (model.json + weights.bin) written to
 * out/examples/saved-model/; Node's TF.js has no file:// handler without
 * tfjs-node, so a small one is built from `tf.io.withSaveHandler`.
 *
 * Run: npm run example:save-load
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RMSprop } from '../src/index.js';
import { check, runExample, setUpBackend, tf } from './support/setup.js';

const DIR = join('out', 'examples', 'saved-model');
const fitArgs = { batchSize: 32, shuffle: false, verbose: 0 as const };

function buildModel(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [3], units: 16, activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
}

async function saveToDisk(model: tf.LayersModel, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const weightData = tf.io.concatenateArrayBuffers(
      artifacts.weightData === undefined ? [] : Array.isArray(artifacts.weightData) ? artifacts.weightData : [artifacts.weightData]);
    await writeFile(join(dir, 'weights.bin'), new Uint8Array(weightData));
    await writeFile(join(dir, 'model.json'), JSON.stringify({
      format: 'layers-model',
      modelTopology: artifacts.modelTopology,
      trainingConfig: artifacts.trainingConfig,
      weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
    }));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weightData.byteLength } };
  }), { includeOptimizer: true });
}

async function loadFromDisk(dir: string): Promise<tf.LayersModel> {
  const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const bin = await readFile(join(dir, 'weights.bin'));
  return tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: json.modelTopology,
    trainingConfig: json.trainingConfig,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
  }));
}

runExample(async () => {
  await setUpBackend();
  // y = sin(x0) + x1·x2, a smooth target a small network fits in a few epochs.
  const x = tf.randomUniform([256, 3], -1, 1, 'float32', 5);
  const y = tf.tidy(() => {
    const [a, b, c] = tf.split(x, 3, 1);
    return tf.add(tf.sin(a), tf.mul(b, c));
  });
  const options = { learningRate: 0.01, momentum: 0.9, centered: true };

  // Trained for 6 epochs straight, for comparison.
  const straight = buildModel();
  straight.compile({ optimizer: new RMSprop(options), loss: 'meanSquaredError' });
  await straight.fit(x, y, { ...fitArgs, epochs: 6 });

  // Trained for 3 epochs, saved with its optimizer, loaded, trained 3 more.
  const first = buildModel();
  const opt = new RMSprop(options);
  first.compile({ optimizer: opt, loss: 'meanSquaredError' });
  const h1 = await first.fit(x, y, { ...fitArgs, epochs: 3 });
  await saveToDisk(first, DIR);
  console.log(`saved to ${DIR} after ${opt.iterations} steps (loss ${(h1.history.loss as number[]).map((l) => l.toFixed(4)).join(', ')})`);

  const loaded = await loadFromDisk(DIR);
  const restored = loaded.optimizer;
  check(restored instanceof RMSprop, 'the optimizer is restored as RMSprop');
  const r = restored as RMSprop;
  console.log(`loaded: ${r.getClassName()} at iteration ${r.iterations}, slots [${r.getSlotNames().join(', ')}], ` +
    `momentum ${String(r.momentum)}, centered ${r.centered}`);
  check(r.iterations === opt.iterations, 'the iteration count is restored');
  const h2 = await loaded.fit(x, y, { ...fitArgs, epochs: 3 });
  console.log(`trained on to iteration ${r.iterations} (loss ${(h2.history.loss as number[]).map((l) => l.toFixed(4)).join(', ')})`);

  const a = straight.getWeights().map((w) => w.dataSync() as Float32Array);
  const b = loaded.getWeights().map((w) => w.dataSync() as Float32Array);
  const maxDiff = Math.max(...a.map((w, i) => Array.from(w).reduce((m, v, j) => Math.max(m, Math.abs(v - b[i][j])), 0)));
  console.log(`largest weight difference from 6 epochs without saving: ${maxDiff}`);
  // The saved slots and iteration count make the resumed steps the same computation.
  check(maxDiff === 0, 'resuming gives the same weights as never stopping');
  for (const m of [straight, first, loaded]) {
    m.optimizer.dispose();
    m.dispose();
  }
  tf.dispose([x, y]);
});
