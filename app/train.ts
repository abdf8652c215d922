/**
 * One training run of the classifier with `model.fit`, shared by the Node
 * command and the browser page. Each epoch is one `fit` call over the training
 * set in an order drawn from the seed, so the two environments see the same
 * batches; the held-out set is evaluated after each epoch, outside the timing.
 */
import * as tf from '@tensorflow/tfjs';
import { CLASSES, PIXELS, type DigitSet, type DigitSplit } from './digits.js';
import { buildClassifier } from './model.js';
import { timeOptimizerSteps } from './optimizers.js';
import { mulberry32, permutation } from './random.js';

export interface EpochRecord {
  /** 1-based. */
  readonly epoch: number;
  /** Mean training loss and accuracy over the epoch's batches, as `fit` reports them. */
  readonly loss: number;
  readonly accuracy: number;
  readonly testLoss: number;
  readonly testAccuracy: number;
  /** Wall time of the epoch's `fit` call. */
  readonly seconds: number;
  /** Of which inside the optimizer's `applyGradients`. */
  readonly optimizerSeconds: number;
}

export interface RunResult {
  readonly label: string;
  readonly backend: string;
  readonly epochs: readonly EpochRecord[];
  /** The loss of every batch, in order. */
  readonly batchLosses: readonly number[];
  /** False when a weight ended NaN or infinite (the loss may still look finite: the cross-entropy clips). */
  readonly weightsFinite: boolean;
}

export interface TrainHooks {
  onEpochBegin?(epoch: number, batches: number): void;
  onBatchEnd?(batch: number, loss: number): void;
  onEpochEnd?(record: EpochRecord): void;
}

export interface TrainOptions {
  readonly label: string;
  readonly data: DigitSplit;
  readonly optimizer: tf.Optimizer;
  readonly epochs: number;
  readonly batchSize: number;
  readonly seed: number;
  readonly hooks?: TrainHooks;
}

export function batchesPerEpoch(trainCount: number, batchSize: number): number {
  return Math.ceil(trainCount / batchSize);
}

export async function trainClassifier(o: TrainOptions): Promise<RunResult> {
  const timer = timeOptimizerSteps(o.optimizer);
  const model = buildClassifier(o.seed);
  model.compile({ optimizer: o.optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const train = toTensors(o.data.train);
  const test = toTensors(o.data.test);
  const random = mulberry32(o.seed);
  const batches = batchesPerEpoch(o.data.train.count, o.batchSize);
  const epochs: EpochRecord[] = [];
  const batchLosses: number[] = [];
  let weightsFinite = true;
  try {
    for (let e = 1; e <= o.epochs; e++) {
      const order = tf.tensor1d(permutation(o.data.train.count, random), 'int32');
      const x = tf.gather(train.x, order);
      const y = tf.gather(train.y, order);
      order.dispose();
      o.hooks?.onEpochBegin?.(e, batches);
      timer.take();
      const start = performance.now();
      let history: tf.History;
      try {
        history = await model.fit(x, y, {
          epochs: 1, batchSize: o.batchSize, shuffle: false, verbose: 0,
          callbacks: {
            onBatchEnd: async (batch, logs) => {
              const loss = logs?.loss ?? NaN;
              batchLosses.push(loss);
              o.hooks?.onBatchEnd?.(batch + 1, loss);
            },
          },
        });
      } finally {
        tf.dispose([x, y]);
      }
      const seconds = (performance.now() - start) / 1000;
      const optimizerSeconds = timer.take();
      const [testLoss, testAccuracy] = await evaluate(model, test);
      const record: EpochRecord = {
        epoch: e,
        loss: lastNumber(history.history.loss),
        accuracy: lastNumber(history.history.acc),
        testLoss, testAccuracy, seconds, optimizerSeconds,
      };
      epochs.push(record);
      o.hooks?.onEpochEnd?.(record);
    }
    for (const w of model.getWeights()) {
      if (!(await w.data()).every(Number.isFinite)) weightsFinite = false;
    }
  } finally {
    tf.dispose([train.x, train.y, test.x, test.y]);
    model.dispose();
  }
  return { label: o.label, backend: tf.getBackend(), epochs, batchLosses, weightsFinite };
}

function toTensors(set: DigitSet): { x: tf.Tensor2D; y: tf.Tensor2D } {
  return tf.tidy(() => ({
    x: tf.tensor2d(set.images, [set.count, PIXELS]),
    y: tf.oneHot(tf.tensor1d(set.labels, 'int32'), CLASSES).toFloat() as tf.Tensor2D,
  }));
}

async function evaluate(model: tf.LayersModel, test: { x: tf.Tensor2D; y: tf.Tensor2D }): Promise<[number, number]> {
  const out = model.evaluate(test.x, test.y, { batchSize: 500 }) as tf.Scalar[];
  const values = await Promise.all(out.map(async (t) => (await t.data())[0]));
  tf.dispose(out);
  return [values[0], values[1]];
}

function lastNumber(values: ReadonlyArray<number | tf.Tensor> | undefined): number {
  const v = values?.[values.length - 1];
  if (typeof v !== 'number') throw new Error('model.fit reported no value for a metric');
  return v;
}
