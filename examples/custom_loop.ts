/**
 * A custom training loop with `minimize`, no tfjs-layers: logistic regression
 * on two noisy clusters, one `opt.minimize(loss, [w, b])` per batch, as a Keras
 * user would write it with tf.GradientTape or `optimizer.minimize`.
 *
 * Run: npm run example:custom-loop
 */
import { RMSprop } from '../src/index.js';
import { check, runExample, setUpBackend, tf } from './support/setup.js';

const N = 512;
const BATCH = 64;
const EPOCHS = 10;

runExample(async () => {
  await setUpBackend();
  // Two clusters centred at (-1, -1) and (1, 1); label 1 for the second.
  const labels = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([N, 1], 0, 1, 'float32', 1), 0.5), 'float32'));
  const x = tf.tidy(() => tf.add(tf.sub(tf.mul(labels, 2), 1), tf.randomNormal([N, 2], 0, 0.7, 'float32', 2)));

  const w = tf.variable(tf.zeros([2, 1]), true, 'w');
  const b = tf.variable(tf.zeros([1]), true, 'b');
  const logits = (xs: tf.Tensor) => tf.add(tf.matMul(xs, w), b);
  const opt = new RMSprop({ learningRate: 0.05, momentum: 0.5 });

  const losses: number[] = [];
  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    for (let start = 0; start < N; start += BATCH) {
      const xb = tf.slice(x, [start, 0], [BATCH, 2]);
      const yb = tf.slice(labels, [start, 0], [BATCH, 1]);
      // Keras form: the loss as a function, the variables to train; returns the step count.
      opt.minimize(() => tf.losses.sigmoidCrossEntropy(yb, logits(xb)) as tf.Scalar, [w, b]);
      tf.dispose([xb, yb]);
    }
    const loss = tf.tidy(() => tf.losses.sigmoidCrossEntropy(labels, logits(x)));
    losses.push((await loss.data())[0]);
    loss.dispose();
    console.log(`epoch ${String(epoch).padStart(2)}  loss ${losses[losses.length - 1].toFixed(4)}`);
  }
  const accuracy = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.greater(logits(x), 0), tf.cast(labels, 'bool')), 'float32')));
  const acc = (await accuracy.data())[0];
  console.log(`after ${opt.iterations} steps: accuracy ${(acc * 100).toFixed(1)} %, w = [${Array.from(await w.data()).map((v) => v.toFixed(3))}]`);
  check(opt.iterations === EPOCHS * (N / BATCH), 'one iteration per minimize call');
  check(losses[losses.length - 1] < losses[0] / 2, 'the loss at least halves');
  check(acc > 0.9, 'the clusters are separated');
  tf.dispose([x, labels, w, b, accuracy]);
  opt.dispose();
});
