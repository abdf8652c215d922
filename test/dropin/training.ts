/**
 * Running the drop-in programs: compile with a given optimizer, fit epoch by
 * epoch (recording the loss, the engine's tensor count and the time of each
 * epoch), read the weights, save with the optimizer and load.
 */
import { RMSprop, type RMSpropOptions } from '../../src/index.js';
import { tf, collectGarbage } from '../support/tf.js';
import type { Program } from './programs.js';

/** The program's own optimizer: `tf.train.rmsprop(learningRate, rho, momentum)` (epsilon: the backend's, 1e-7 on cpu and wasm). */
export function tfjsRMSprop(p: Program): tf.Optimizer {
  return tf.train.rmsprop(p.rmsprop.learningRate, p.rmsprop.rho, p.rmsprop.momentum);
}

/** The one-line swap: this package's RMSprop with the same settings, Keras's names. */
export function ourRMSprop(p: Program, extra: RMSpropOptions = {}): RMSprop {
  return new RMSprop({ learningRate: p.rmsprop.learningRate, rho: p.rmsprop.rho, momentum: p.rmsprop.momentum, ...extra });
}

export interface Epochs {
  /** The training loss of each epoch, as `model.fit` reports it. */
  readonly losses: number[];
  /** `tf.memory().numTensors` after each epoch's `fit` call. */
  readonly tensors: number[];
  /** Wall time of each epoch's `fit` call, ms. */
  readonly ms: number[];
}

/** `epochs` calls of `model.fit(x, y, { epochs: 1, ... })`, unshuffled, as one program run would make them. */
export async function fitEpochs(model: tf.LayersModel, p: Program, data: { x: tf.Tensor; y: tf.Tensor }, epochs: number): Promise<Epochs> {
  const out: Epochs = { losses: [], tensors: [], ms: [] };
  for (let e = 0; e < epochs; e++) {
    const t0 = performance.now();
    const h = await model.fit(data.x, data.y, { epochs: 1, batchSize: p.batchSize, shuffle: false, verbose: 0 });
    out.ms.push(performance.now() - t0);
    out.losses.push(h.history.loss[0] as number);
    // What getWeights handed to earlier saves and the collector frees must not count here.
    await collectGarbage();
    out.tensors.push(tf.memory().numTensors);
  }
  return out;
}

export function compiled(p: Program, optimizer: tf.Optimizer): tf.LayersModel {
  const model = p.build();
  model.compile({ optimizer, loss: p.loss });
  return model;
}

export async function weightsOf(model: tf.LayersModel): Promise<Float32Array[]> {
  return Promise.all(model.getWeights().map(async (w) => new Float32Array(await w.data())));
}

/** `model.save(..., { includeOptimizer: true })` into memory. */
export async function saved(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }), { includeOptimizer: true });
  return artifacts as tf.io.ModelArtifacts;
}

/** `model.save(..., { includeOptimizer: true })` into memory, then `tf.loadLayersModel` from it. */
export async function saveAndLoad(model: tf.LayersModel): Promise<tf.LayersModel> {
  return tf.loadLayersModel(tf.io.fromMemory(await saved(model)));
}

/** A model and the optimizer it was given: the user disposes both (tfjs-layers owns only optimizers built from strings). */
export function disposeAll(...models: tf.LayersModel[]): void {
  for (const m of models) {
    m.optimizer?.dispose();
    m.dispose();
  }
}
