/**
 * Four small TF.js training programs of the kinds in the public tfjs-examples,
 * written here, deterministic and fast: a GRU regressor on a weather-like time
 * series, an LSTM next-character model, a SimpleRNN encoder–decoder that adds
 * two-digit numbers, and a dense classifier. Each names the `tf.train.rmsprop`
 * settings it was written with; the tests and scripts/dropin-table.ts run them
 * with that optimizer and with this package's.
 */
import { rng } from '../support/random.js';
import { tf } from '../support/tf.js';

export interface TfjsRMSpropSettings {
  /** As passed to `tf.train.rmsprop(learningRate, rho, momentum)`. */
  readonly learningRate: number;
  readonly rho: number;
  readonly momentum: number;
}

export interface Program {
  readonly id: string;
  readonly title: string;
  readonly rmsprop: TfjsRMSpropSettings;
  readonly loss: string;
  readonly batchSize: number;
  /** A new model, with the same initial weights on every call (and on every backend). */
  build(): tf.LayersModel;
  /** New tensors; the caller disposes them. */
  data(): { x: tf.Tensor; y: tf.Tensor };
}

const SAMPLES = 64;

/** Initial weights per program, made once and given to every model built. */
const initial = new Map<string, Array<{ values: Float32Array; shape: number[] }>>();

/**
 * The same initial weights in every run, process and backend: matrices
 * Glorot-uniform from a seeded generator (TF.js's own initializers are unseeded,
 * and its orthogonal one goes through a backend's QR), vectors (biases, LSTM's
 * forget-gate ones) as the layers' constant initializers made them.
 */
function withInitialWeights(id: string, model: tf.LayersModel): tf.LayersModel {
  let saved = initial.get(id);
  if (saved === undefined) {
    const r = rng(1234);
    saved = model.getWeights().map((w) => {
      if (w.rank === 1) return { values: w.dataSync() as Float32Array, shape: w.shape };
      const [fanIn, fanOut] = w.shape;
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      return { values: Float32Array.from({ length: w.size }, () => (2 * r() - 1) * limit), shape: w.shape };
    });
    initial.set(id, saved);
  }
  const tensors = saved.map((w) => tf.tensor(w.values, w.shape));
  model.setWeights(tensors);
  tf.dispose(tensors);
  return model;
}

function oneHot(indices: number[], depth: number): number[][] {
  return indices.map((i) => Array.from({ length: depth }, (_, j) => (j === i ? 1 : 0)));
}

/** GRU regressor (after tfjs-examples/jena-weather): the next value of a noisy seasonal series from the last 10 steps of 3 features. */
const gru: Program = {
  id: 'gru',
  title: 'GRU regressor',
  rmsprop: { learningRate: 0.001, rho: 0.9, momentum: 0 },
  loss: 'meanAbsoluteError',
  batchSize: 16,
  build() {
    return withInitialWeights('gru', tf.sequential({
      layers: [tf.layers.gru({ units: 8, inputShape: [10, 3] }), tf.layers.dense({ units: 1 })],
    }));
  },
  data() {
    const r = rng(7);
    const series = Array.from({ length: SAMPLES + 10 }, (_, t) => [
      Math.sin(0.3 * t) + 0.5 * Math.sin(0.07 * t) + 0.05 * (r() - 0.5),
      Math.cos(0.3 * t),
      r() - 0.5,
    ]);
    const x = Array.from({ length: SAMPLES }, (_, i) => series.slice(i, i + 10));
    const y = Array.from({ length: SAMPLES }, (_, i) => [series[i + 10][0]]);
    return { x: tf.tensor3d(x), y: tf.tensor2d(y) };
  },
};

const TEXT = 'the quick brown fox jumps over the lazy dog. pack my box with five dozen liquor jugs. ';
const CHARS = [...new Set(TEXT)].sort();

/** LSTM character model (after tfjs-examples/lstm-text-generation): the next character of a text from the previous 8. */
const lstm: Program = {
  id: 'lstm',
  title: 'LSTM character model',
  rmsprop: { learningRate: 0.01, rho: 0.9, momentum: 0 },
  loss: 'categoricalCrossentropy',
  batchSize: 16,
  build() {
    return withInitialWeights('lstm', tf.sequential({
      layers: [
        tf.layers.lstm({ units: 16, inputShape: [8, CHARS.length] }),
        tf.layers.dense({ units: CHARS.length, activation: 'softmax' }),
      ],
    }));
  },
  data() {
    const ids = [...TEXT].map((c) => CHARS.indexOf(c));
    const x = Array.from({ length: SAMPLES }, (_, i) => oneHot(ids.slice(i, i + 8), CHARS.length));
    const y = oneHot(Array.from({ length: SAMPLES }, (_, i) => ids[i + 8]), CHARS.length);
    return { x: tf.tensor3d(x), y: tf.tensor2d(y) };
  },
};

const ADDER_CHARS = '0123456789+ ';

function encode(s: string): number[][] {
  return oneHot([...s].map((c) => ADDER_CHARS.indexOf(c)), ADDER_CHARS.length);
}

/** SimpleRNN encoder–decoder (after tfjs-examples/addition-rnn): 'a+b' for two-digit a, b, to the sum as three characters. */
const seq2seq: Program = {
  id: 'seq2seq',
  title: 'SimpleRNN adder (encoder–decoder)',
  rmsprop: { learningRate: 0.01, rho: 0.9, momentum: 0.9 },
  loss: 'categoricalCrossentropy',
  batchSize: 16,
  build() {
    return withInitialWeights('seq2seq', tf.sequential({
      layers: [
        tf.layers.simpleRNN({ units: 16, inputShape: [5, ADDER_CHARS.length] }),
        tf.layers.repeatVector({ n: 3 }),
        tf.layers.simpleRNN({ units: 16, returnSequences: true }),
        tf.layers.timeDistributed({ layer: tf.layers.dense({ units: ADDER_CHARS.length }) }),
        tf.layers.activation({ activation: 'softmax' }),
      ],
    }));
  },
  data() {
    const r = rng(11);
    const pad = (s: string, n: number) => s.padEnd(n, ' ');
    const pairs = Array.from({ length: SAMPLES }, () => [Math.floor(r() * 100), Math.floor(r() * 100)]);
    const x = pairs.map(([a, b]) => encode(pad(`${a}+${b}`, 5)));
    const y = pairs.map(([a, b]) => encode(pad(String(a + b), 3)));
    return { x: tf.tensor3d(x), y: tf.tensor3d(y) };
  },
};

/** Dense classifier (after tfjs-examples/iris): three classes of 4-feature points. */
const dense: Program = {
  id: 'dense',
  title: 'Dense classifier',
  rmsprop: { learningRate: 0.01, rho: 0.95, momentum: 0.5 },
  loss: 'categoricalCrossentropy',
  batchSize: 16,
  build() {
    return withInitialWeights('dense', tf.sequential({
      layers: [
        tf.layers.dense({ units: 10, activation: 'relu', inputShape: [4] }),
        tf.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    }));
  },
  data() {
    const r = rng(5);
    const centers = [[5, 3.4, 1.5, 0.2], [5.9, 2.8, 4.3, 1.3], [6.6, 3, 5.6, 2]];
    const labels = Array.from({ length: SAMPLES }, (_, i) => i % 3);
    const x = labels.map((c) => centers[c].map((v) => v + 0.6 * (r() - 0.5)));
    return { x: tf.tensor2d(x), y: tf.tensor2d(oneHot(labels, 3)) };
  },
};

export const PROGRAMS: readonly Program[] = [gru, lstm, seq2seq, dense];
