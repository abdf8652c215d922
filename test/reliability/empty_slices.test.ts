/**
 * An IndexedSlices gradient with no rows (a batch that looked up nothing) is a
 * zero gradient: it must not make a step non-finite or change another
 * variable's clipping. tfjs-backend-wasm's `sum` of an empty tensor returns
 * whatever lay in memory, so the op chain's reductions must not be given one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { IndexedSlices, RMSprop, type RMSpropOptions } from '../../src/index.js';
import { setOpChainOnly } from '../../src/kernels/registry.js';
import { assertBitEqual, BACKENDS, tf, useBackend } from '../support/tf.js';

function step(options: RMSpropOptions, withEmpty: boolean): { w: Float32Array; iterations: number; skipped: number } {
  const w = tf.tidy(() => tf.variable(tf.tensor1d([1, -2, 3])));
  const table = tf.tidy(() => tf.variable(tf.ones([4, 2])));
  const opt = new RMSprop({ learningRate: 0.1, ...options });
  try {
    tf.tidy(() => {
      // Garbage where the wasm backend's next reduction output will land.
      tf.dispose(tf.tensor1d([NaN, NaN, NaN, NaN]));
      const pairs: Array<[tf.Tensor | IndexedSlices, tf.Variable]> = [[tf.tensor1d([3, 4, 12]), w]];
      if (withEmpty) pairs.push([new IndexedSlices(tf.zeros([0, 2]), []), table]);
      opt.applyGradients(pairs);
    });
    return { w: Float32Array.from(w.dataSync()), iterations: opt.iterations, skipped: opt.skippedSteps };
  } finally {
    opt.dispose();
    tf.dispose([w, table]);
  }
}

for (const backend of BACKENDS) {
  for (const opChain of [false, true]) {
    describe(`IndexedSlices with no rows (${backend}${opChain ? ', op chain' : ''})`, () => {
      before(async () => {
        await useBackend(backend);
        setOpChainOnly(opChain);
      });
      after(() => setOpChainOnly(false));

      test("is finite to nonFinite 'error' and 'skip'", () => {
        for (const nonFinite of ['error', 'skip'] as const) {
          const r = step({ nonFinite }, true);
          assert.equal(r.iterations, 1, nonFinite);
          assert.equal(r.skipped, 0, nonFinite);
        }
      });

      for (const clip of [{ globalClipnorm: 1 }, { clipnorm: 1 }, { clipvalue: 0.5, globalClipnorm: 2 }]) {
        test(`leaves the other variable's clipping as it was (${Object.keys(clip).join(', ')})`, () => {
          assertBitEqual(step(clip, true).w, step(clip, false).w, 'w');
        });
      }
    });
  }
}
