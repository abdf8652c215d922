/**
 * The classifier both optimizers train: 784 → 128 (ReLU) → 10 (softmax). Dense
 * layers only, because the wasm backend of TF.js 4.22 has no gradient kernel
 * for conv2d filters. Every initializer is seeded, so a seed fixes the start.
 */
import * as tf from '@tensorflow/tfjs';
import { CLASSES, PIXELS } from './digits.js';

export const HIDDEN_UNITS = 128;

export function buildClassifier(seed: number): tf.Sequential {
  return tf.sequential({
    name: 'digits',
    layers: [
      tf.layers.dense({
        inputShape: [PIXELS], units: HIDDEN_UNITS, activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed }),
      }),
      tf.layers.dense({
        units: CLASSES, activation: 'softmax',
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
      }),
    ],
  });
}
