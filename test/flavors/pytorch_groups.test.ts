/**
 * `RMSprop.fromPyTorch([...groups], defaults)`: PyTorch's param groups that
 * differ in weight decay only (the decay / no-decay split) train as two
 * optimizers would, one per group, bit for bit; groups one optimizer cannot
 * hold are refused before anything is built, with the difference named.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { RMSprop } from '../../src/index.js';
import { assertBitEqual, tf, useBackend } from '../support/tf.js';
import { randomValues, rng } from '../kernels/support.js';

/** Variables with values from `seed` (the same values for the same seed), named `<name>-<tag>`. */
function variables(seed: number, names: string[], tag: string | number = seed): tf.Variable[] {
  const r = rng(seed);
  return names.map((name) => tf.tidy(() => tf.variable(tf.tensor(randomValues(6, r)), true, `${name}-${tag}`)));
}

describe('RMSprop.fromPyTorch with param groups', () => {
  before(() => useBackend('cpu'));

  test('a decay group and a no-decay group train as one optimizer per group', () => {
    const [w, b] = variables(1, ['pg/kernel', 'pg/bias']);
    const [wRef, bRef] = variables(1, ['pg/kernel', 'pg/bias'], 'reference');
    const defaults = { lr: 0.01, momentum: 0.9, centered: true };
    const opt = RMSprop.fromPyTorch([{ params: [w], weight_decay: 0.1 }, { params: [b], weight_decay: 0 }], defaults);
    const decayed = RMSprop.fromPyTorch({ ...defaults, weight_decay: 0.1 });
    const plain = RMSprop.fromPyTorch(defaults);
    const r = rng(2);
    try {
      assert.equal(opt.flavor, 'pytorch');
      assert.equal(opt.weightDecay, 0.1);
      for (let step = 0; step < 8; step++) {
        const gw = randomValues(6, r);
        const gb = randomValues(6, r);
        tf.tidy(() => {
          opt.applyGradients([[tf.tensor(gw), w], [tf.tensor(gb), b]]);
          decayed.applyGradients([[tf.tensor(gw), wRef]]);
          plain.applyGradients([[tf.tensor(gb), bRef]]);
        });
      }
      assertBitEqual(Float32Array.from(w.dataSync()), Float32Array.from(wRef.dataSync()), 'decayed group');
      assertBitEqual(Float32Array.from(b.dataSync()), Float32Array.from(bRef.dataSync()), 'no-decay group');
    } finally {
      for (const o of [opt, decayed, plain]) o.dispose();
      tf.dispose([w, b, wRef, bRef]);
    }
  });

  test('keys of a group override the defaults; groups agreeing on everything make a plain optimizer', () => {
    const [a, c] = variables(3, ['pg2/a', 'pg2/c']);
    try {
      const opt = RMSprop.fromPyTorch([{ params: [a], alpha: 0.9 }, { params: [c], alpha: 0.9 }], { lr: 0.5, alpha: 0.5 }, { name: 'groups' });
      assert.equal(opt.rho, 0.9);
      assert.equal(opt.learningRate, 0.5);
      assert.equal(opt.weightDecay, 0);
      assert.equal(opt.name, 'groups');
      opt.dispose();
    } finally {
      tf.dispose([a, c]);
    }
  });

  test('groups one optimizer cannot hold, and malformed groups, are refused with the reason', () => {
    const [a, c] = variables(4, ['pg3/a', 'pg3/c']);
    try {
      const cases: Array<[() => unknown, RegExp]> = [
        [() => RMSprop.fromPyTorch([{ params: [a], lr: 0.1 }, { params: [c], lr: 0.2 }]),
          /groups\[0\] and groups\[1\] differ in learningRate \(0.1 vs 0.2\).*one optimizer per group/],
        [() => RMSprop.fromPyTorch([{ params: [a], momentum: 0.9 }, { params: [c] }]), /differ in momentum \(0.9 vs 0\)/],
        [() => RMSprop.fromPyTorch([{ params: [a], weight_decay: 0.1 }, { params: [c], weight_decay: 0.2 }]),
          /weight decays 0.1 and 0.2; one optimizer takes one non-zero weight decay/],
        [() => RMSprop.fromPyTorch([{ params: [a] }, { params: [a, c] }]), /variable "pg3\/a-4" is in groups\[0\] and groups\[1\]/],
        [() => RMSprop.fromPyTorch([{ params: [a, 3 as never] }]), /groups\[0\]\.params\[1\] must be a tf.Variable, got 3/],
        [() => RMSprop.fromPyTorch([{ lr: 0.1 } as never]), /groups\[0\] must be \{params: tf.Variable\[\], \.\.\.\}/],
        [() => RMSprop.fromPyTorch([]), /the list of param groups is empty/],
        [() => RMSprop.fromPyTorch([{ params: [a], weight_decay: -1 }]), /invalid weight_decay value `weight_decay` = -1/],
        [() => RMSprop.fromPyTorch([{ params: [a] }], { params: [0] } as never), /defaults after a list of param groups must be an object without `params`/],
      ];
      for (const [make, message] of cases) assert.throws(make, message);
    } finally {
      tf.dispose([a, c]);
    }
  });
});
