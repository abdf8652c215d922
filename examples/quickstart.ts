/**
 * Quick start: the Keras docstring example, then a small tf.layers model trained
 * with model.fit and this optimizer. Run with `npm start` or
 * `node --import tsx examples/quickstart.ts`.
 */
import * as tf from '@tensorflow/tfjs';
import { RMSprop } from '../src/index.js';

function quiet(): void {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('tfjs-node')) return;
    warn(...args);
  };
}

async function main(): Promise<void> {
  quiet();
  await tf.setBackend('cpu');

  // The docstring of tf.keras.optimizers.RMSprop: one step on w = 10, loss w²/2.
  const opt = new RMSprop({ learningRate: 0.1 });
  const w = tf.variable(tf.scalar(10), true, 'w');
  const stepCount = opt.minimize(() => tf.div(tf.square(w), 2) as tf.Scalar, [w]);
  console.log(`Keras docstring example: after ${stepCount} step, w = ${w.dataSync()[0].toFixed(6)} (Keras: 9.683772)`);
  opt.dispose();
  w.dispose();

  // A small regression model: y = 2·x0 − 3·x1 + 1 + noise, trained with model.fit.
  const n = 512;
  const x = tf.randomNormal([n, 2], 0, 1, 'float32', 7);
  const y = tf.tidy(() => tf.add(tf.matMul(x, tf.tensor2d([[2], [-3]])), tf.add(1, tf.randomNormal([n, 1], 0, 0.05, 'float32', 8))));
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [2], units: 16, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  const optimizer = new RMSprop({ learningRate: 0.01, momentum: 0.9, clipnorm: 1 });
  model.compile({ optimizer, loss: 'meanSquaredError' });
  console.log('\nmodel.fit with RMSprop({learningRate: 0.01, momentum: 0.9, clipnorm: 1}):');
  await model.fit(x, y, {
    epochs: 10, batchSize: 32, shuffle: false, verbose: 0,
    callbacks: {
      onEpochEnd: (epoch, logs) => console.log(`  epoch ${String(epoch + 1).padStart(2)}  loss ${logs?.loss.toFixed(5)}`),
    },
  });
  console.log(`optimizer iterations: ${optimizer.iterations}, kernels: ${[...new Set(optimizer.lastStepKernels().map((c) => c.kernel))].join(', ')}`);
  tf.dispose([x, y]);
  model.dispose();
  optimizer.dispose();
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
