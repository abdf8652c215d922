/**
 * An embedding model trained with `minimize`: each "sentence" is 10 token ids
 * out of a 1000-word vocabulary, every word carries a hidden sentiment, and
 * the model learns an 8-dimensional vector per word to tell positive sentences
 * from negative ones. A batch of 128 sentences reads 1280 ids, about 720
 * distinct rows of the table's 1000.
 *
 * Sparse gradients: the rows are read with this package's `embeddingLookup`.
 * Inside `opt.minimize`, the table's gradient reaches the optimizer as
 * `IndexedSlices`, and only the rows the batch used are updated; no
 * table-sized gradient is built. (With `tf.gather` TF.js builds a dense one,
 * and its backward kernel takes over a second per step on the cpu backend and
 * does not exist on wasm.)
 *
 * Run: npm run example:embedding
 */
import { embeddingLookup, RMSprop } from '../src/index.js';
import { check, runExample, setUpBackend, tf } from './support/setup.js';

const VOCAB = 1000;
const DIM = 8;
const LENGTH = 10;
const TRAIN = 6144;
const TEST = 1024;
const BATCH = 128;
const EPOCHS = 5;

runExample(async () => {
  await setUpBackend();
  const sentiment = tf.randomNormal([VOCAB], 0, 1, 'float32', 7);
  const sentences = (n: number, seed: number) => tf.tidy(() => {
    const ids = tf.randomUniform([n, LENGTH], 0, VOCAB, 'int32', seed);
    const labels = tf.cast(tf.greater(tf.sum(tf.gather(sentiment, ids), 1, true), 0), 'float32');
    return { ids, labels };
  });
  const train = sentences(TRAIN, 1);
  const test = sentences(TEST, 2);

  const table = tf.variable(tf.randomUniform([VOCAB, DIM], -0.05, 0.05, 'float32', 3), true, 'embedding/table');
  const w = tf.variable(tf.randomUniform([DIM, 1], -0.5, 0.5, 'float32', 4), true, 'dense/kernel');
  const b = tf.variable(tf.zeros([1]), true, 'dense/bias');
  // [n, LENGTH] ids → [n, LENGTH, DIM] rows of the table.
  const lookup = (ids: tf.Tensor) => embeddingLookup(table, ids);
  const logits = (ids: tf.Tensor) => tf.add(tf.matMul(tf.mean(lookup(ids), 1), w), b);
  const accuracy = async (set: { ids: tf.Tensor; labels: tf.Tensor }) => {
    const a = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.greater(logits(set.ids), 0), tf.cast(set.labels, 'bool')), 'float32')));
    const v = (await a.data())[0];
    a.dispose();
    return v;
  };

  const opt = new RMSprop({ learningRate: 0.02 });
  const before = await accuracy(test);
  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    let total = 0;
    for (let start = 0; start < TRAIN; start += BATCH) {
      const ids = tf.slice(train.ids, [start, 0], [BATCH, LENGTH]);
      const labels = tf.slice(train.labels, [start, 0], [BATCH, 1]);
      const loss = () => tf.losses.sigmoidCrossEntropy(labels, logits(ids)) as tf.Scalar;
      opt.minimize(loss, [table, w, b]);
      tf.dispose([ids, labels]);
      total++;
    }
    console.log(`epoch ${epoch}  ${total} steps  held-out accuracy ${((await accuracy(test)) * 100).toFixed(1)} %`);
  }
  const after = await accuracy(test);
  console.log(`held-out accuracy ${(before * 100).toFixed(1)} % before training, ${(after * 100).toFixed(1)} % after ${opt.iterations} steps`);
  check(after > 0.8, 'the embeddings learn the words\' sentiment');

  // One more step on a single sentence: only the rows it reads move.
  const one = tf.slice(test.ids, [0, 0], [1, LENGTH]);
  const oneLabel = tf.slice(test.labels, [0, 0], [1, 1]);
  const used = new Set(await one.data());
  const snapshot = (await table.data()).slice(); // on cpu, data() is the live buffer
  opt.minimize(() => tf.losses.sigmoidCrossEntropy(oneLabel, logits(one)) as tf.Scalar, [table, w, b]);
  const now = await table.data();
  const changed = new Set<number>();
  for (let i = 0; i < now.length; i++) if (now[i] !== snapshot[i]) changed.add(Math.floor(i / DIM));
  console.log(`one more step on one sentence: ${changed.size} rows of ${VOCAB} changed, the ${used.size} it reads`);
  check([...changed].every((r) => used.has(r)) && changed.size === used.size, 'only the rows the step used are updated');
  tf.dispose([one, oneLabel]);
  tf.dispose([sentiment, train.ids, train.labels, test.ids, test.labels, table, w, b]);
  opt.dispose();
});
