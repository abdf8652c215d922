/** What the page exposes as `window.rmspropDemo`, for a person at the console and for the browser test. */
import type { RunResult } from '../app/train.js';

export interface DemoSettings {
  readonly backend: string;
  readonly epochs: number;
  readonly seed: number;
  readonly batchSize: number;
  readonly learningRate: number;
  /** Also train with tf.train.rmsprop at the same settings. */
  readonly compare: boolean;
}

export interface DemoApi {
  /** Backends this browser can start, in order of preference. */
  backends(): Promise<string[]>;
  run(settings: Partial<DemoSettings>): Promise<RunResult[]>;
  /** Training digits in the page's data file. */
  readonly trainSize: number;
  /** The update kernels this package's RMSprop used in the last step of the last run (e.g. 'webgl-fused'). */
  lastKernels(): string[];
}

declare global {
  interface Window {
    /** Set once the page has loaded its digits. */
    rmspropDemo?: DemoApi;
    /** Set instead when the page could not start. */
    rmspropDemoError?: string;
  }
}

/** The training set the page ships: small enough to load fast, the same split as `npm start -- --train-size`. */
export const WEB_TRAIN_SIZE = 2000;
