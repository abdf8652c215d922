/**
 * The example from the docstring of tf.keras.optimizers.RMSprop (TF 2.4):
 *
 *   opt = tf.keras.optimizers.RMSprop(learning_rate=0.1)
 *   var1 = tf.Variable(10.0)
 *   loss = lambda: (var1 ** 2) / 2.0    # d(loss) / d(var1) = var1
 *   step_count = opt.minimize(loss, [var1]).numpy()
 *   var1.numpy()                        # 9.683772
 *
 * Run: npm run example:docstring
 */
import { RMSprop } from '../src/index.js';
import { check, runExample, setUpBackend, tf } from './support/setup.js';

runExample(async () => {
  const backend = await setUpBackend();
  const opt = new RMSprop({ learningRate: 0.1 });
  const var1 = tf.variable(tf.scalar(10), true, 'var1');
  const loss = () => tf.div(tf.square(var1), 2) as tf.Scalar;
  const stepCount = opt.minimize(loss, [var1]);
  const value = (await var1.data())[0];
  console.log(`backend ${backend}: step_count = ${stepCount}, var1 = ${value.toFixed(6)} (Keras: 9.683772)`);
  // One step: 10 − 0.1·10 / (sqrt(0.1·100) + 1e-7); float32 rounding moves the 7th significant digit at most.
  check(stepCount === 1, 'minimize returns the iteration count, 1 after the first step');
  check(Math.abs(value - 9.683772) <= 2e-6, `var1 is 9.683772 as in Keras, got ${value}`);
  opt.dispose();
  var1.dispose();
});
