/**
 * `excludeFromWeightDecay` (Keras 3's `exclude_from_weight_decay`): excluded
 * variables follow, bit for bit, the trajectory of an optimizer without weight
 * decay, the others that of one with it, on every flavor that decays, dense and
 * sparse, on each backend; clipping with a global norm spans both groups; bad
 * arguments and late calls are refused before anything changes.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { IndexedSlices, RMSprop, type RMSpropOptions } from '../../src/index.js';
import { clipByGlobalNorm } from '../../src/clipping/tensor.js';
import { assertBitEqual, BACKENDS, tf, useBackend } from '../support/tf.js';
import { randomValues, rng } from '../kernels/support.js';

const SHAPES: Record<string, number[]> = { 'layer/kernel': [6, 4], 'layer/bias': [4], 'norm/gamma': [4], 'out/kernel': [4, 3] };

interface Model { vars: tf.Variable[]; byName: Map<string, tf.Variable> }

let made = 0;
function model(seed: number): Model {
  const r = rng(seed);
  made++;
  const vars = Object.entries(SHAPES).map(([name, shape]) =>
    tf.tidy(() => tf.variable(tf.tensor(randomValues(shape.reduce((a, b) => a * b, 1), r), shape), true, `wdx${made}/${name}`)));
  return { vars, byName: new Map(Object.keys(SHAPES).map((name, i) => [name, vars[i]])) };
}

/** Gradients per step, the same for every model: step k, variable i. */
function gradients(steps: number, seed: number): Float32Array[][] {
  const r = rng(seed);
  return Array.from({ length: steps }, () => Object.values(SHAPES).map((shape) =>
    randomValues(shape.reduce((a, b) => a * b, 1), r, 3)));
}

function train(opt: RMSprop, m: Model, grads: Float32Array[][], only?: (i: number) => boolean): void {
  for (const step of grads) {
    tf.tidy(() => {
      const pairs = m.vars.map((v, i) => [tf.tensor(step[i], v.shape), v] as const).filter((_, i) => only?.(i) ?? true);
      opt.applyGradients(pairs);
    });
  }
}

const values = (v: tf.Variable): Float32Array => Float32Array.from(v.dataSync());

const FLAVORS: RMSpropOptions[] = [
  { flavor: 'keras3', weightDecay: 0.05, learningRate: 0.01, momentum: 0.9, centered: true },
  { flavor: 'keras3', weightDecay: 0.05, learningRate: 0.01 },
  { flavor: 'keras2', weightDecay: 0.05, learningRate: 0.01, momentum: 0.5 },
  { flavor: 'pytorch', weightDecay: 0.05, learningRate: 0.01, momentum: 0.9 },
  { flavor: 'tfjs', weightDecay: 0.05, learningRate: 0.01, centered: true },
];

for (const backend of BACKENDS) {
  describe(`excludeFromWeightDecay (${backend})`, () => {
    before(() => useBackend(backend));

    for (const options of FLAVORS) {
      const label = `${options.flavor}${options.momentum ? ', momentum' : ''}${options.centered ? ', centered' : ''}`;
      test(`excluded variables step as without weight decay, the others as with it (${label})`, () => {
        const grads = gradients(6, 11);
        const m = model(3);
        const decayed = model(3);
        const plain = model(3);
        const opt = new RMSprop(options);
        const withDecay = new RMSprop(options);
        const without = new RMSprop({ ...options, weightDecay: 0 });
        const excludedName = (name: string) => name === 'out/kernel' || /bias|gamma/.test(name);
        try {
          opt.excludeFromWeightDecay({ varList: [m.byName.get('out/kernel')!], varNames: ['bias', 'gam+a'] });
          train(opt, m, grads);
          train(withDecay, decayed, grads);
          train(without, plain, grads);
          Object.keys(SHAPES).forEach((name, i) => {
            const expected = excludedName(name) ? plain.vars[i] : decayed.vars[i];
            assertBitEqual(values(m.vars[i]), values(expected), `${name} (${excludedName(name) ? 'excluded' : 'decayed'})`);
          });
          assert.equal(opt.lastStepKernels().length, 4);
          assert.deepEqual(new Set(opt.lastStepKernels().map((c) => c.variable)), new Set(m.vars.map((v) => v.name)));
        } finally {
          for (const o of [opt, withDecay, without]) o.dispose();
          tf.dispose([...m.vars, ...decayed.vars, ...plain.vars]);
        }
      });
    }

    test('sparse gradients of an excluded table step as without weight decay', () => {
      const r = rng(5);
      const init = randomValues(40, r);
      const make = () => tf.tidy(() => tf.variable(tf.tensor(init, [10, 4])));
      const [t, ref] = [make(), make()];
      const opt = new RMSprop({ flavor: 'keras3', weightDecay: 0.1, learningRate: 0.05, momentum: 0.9, sparseMode: 'lazy' });
      const without = new RMSprop({ flavor: 'keras3', weightDecay: 0, learningRate: 0.05, momentum: 0.9, sparseMode: 'lazy' });
      opt.excludeFromWeightDecay({ varList: [t] });
      try {
        for (let step = 0; step < 5; step++) {
          const rows = [step % 10, (step * 3) % 10, 7];
          const g = tf.tensor(randomValues(12, r), [3, 4]);
          opt.applyGradients([[new IndexedSlices(g, rows), t]]);
          without.applyGradients([[new IndexedSlices(g, rows), ref]]);
          g.dispose();
        }
        assertBitEqual(values(t), values(ref), 'table');
      } finally {
        opt.dispose();
        without.dispose();
        tf.dispose([t, ref]);
      }
    });

    test('a global clipnorm spans the decayed and the excluded variables together', () => {
      const grads = gradients(4, 21);
      const m = model(8);
      const decayed = model(8);
      const plain = model(8);
      const options: RMSpropOptions = { flavor: 'keras3', weightDecay: 0.05, learningRate: 0.01, momentum: 0.9 };
      const opt = new RMSprop({ ...options, globalClipnorm: 0.5 });
      const withDecay = new RMSprop(options);
      const without = new RMSprop({ ...options, weightDecay: 0 });
      const excluded = (i: number) => Object.keys(SHAPES)[i].endsWith('bias');
      try {
        opt.excludeFromWeightDecay({ varNames: ['bias$'] });
        train(opt, m, grads);
        // The expected steps: every gradient clipped by the norm of all of them, then each group unclipped.
        const clipped = grads.map((step) => tf.tidy(() =>
          clipByGlobalNorm(step.map((g) => tf.tensor(g)), 0.5).map((t) => Float32Array.from(t.dataSync()))));
        train(withDecay, decayed, clipped, (i) => !excluded(i));
        train(without, plain, clipped, excluded);
        m.vars.forEach((v, i) => {
          assertBitEqual(values(v), values((excluded(i) ? plain : decayed).vars[i]), Object.keys(SHAPES)[i]);
        });
      } finally {
        for (const o of [opt, withDecay, without]) o.dispose();
        tf.dispose([...m.vars, ...decayed.vars, ...plain.vars]);
      }
    });
  });
}

describe('excludeFromWeightDecay: arguments and timing', () => {
  before(() => useBackend('cpu'));

  test('bad arguments are refused with the argument named, and change nothing', () => {
    const opt = new RMSprop({ flavor: 'keras3', weightDecay: 0.1 });
    const v = tf.variable(tf.ones([2]));
    try {
      opt.excludeFromWeightDecay({ varNames: ['bias'] });
      const cases: Array<[unknown, RegExp]> = [
        [null, /expected \{varList\?, varNames\?\}, got null/],
        [['bias'], /expected \{varList\?, varNames\?\}/],
        [{ var_names: ['bias'] }, /"var_names" is Python's spelling; pass varNames/],
        [{ names: ['bias'] }, /unknown argument "names"/],
        [{ varList: v }, /varList must be an array of tf.Variable/],
        [{ varList: [tf.ones([2])] }, /varList\[0\] must be a tf.Variable, got a Tensor/],
        [{ varNames: 'bias' }, /varNames must be an array of strings, got "bias"/],
        [{ varNames: ['ok', 3] }, /varNames\[1\] must be a string or RegExp, got 3/],
        [{ varNames: ['(unclosed'] }, /varNames\[0\] \("\(unclosed"\) is not a valid regular expression/],
      ];
      for (const [arg, message] of cases) {
        assert.throws(() => opt.excludeFromWeightDecay(arg as never), message);
      }
      // The earlier exclusion still holds: a 'bias' variable keeps its value under decay with a zero gradient.
      const bias = tf.variable(tf.ones([2]), true, 'wdx-args/bias');
      tf.tidy(() => opt.applyGradients([[tf.zeros([2]), bias], [tf.zeros([2]), v]]));
      assert.deepEqual([...bias.dataSync()], [1, 1]);
      assert.ok(v.dataSync()[0] < 1, 'the other variable decays');
      bias.dispose();
    } finally {
      opt.dispose();
      v.dispose();
    }
  });

  test('a later call replaces the exclusions; after the first step calls are refused', () => {
    const opt = new RMSprop({ flavor: 'keras3', weightDecay: 0.1, learningRate: 0.1 });
    const a = tf.variable(tf.ones([2]), true, 'wdx-replace/a');
    const b = tf.variable(tf.ones([2]), true, 'wdx-replace/b');
    try {
      opt.excludeFromWeightDecay({ varList: [a] });
      opt.excludeFromWeightDecay({ varNames: [/replace\/b/g] });
      // A global RegExp keeps no state between variables or steps.
      for (let i = 0; i < 3; i++) tf.tidy(() => opt.applyGradients([[tf.zeros([2]), a], [tf.zeros([2]), b]]));
      assert.ok(a.dataSync()[0] < 1, 'a decays: the second call replaced the first');
      assert.deepEqual([...b.dataSync()], [1, 1]);
      assert.throws(() => opt.excludeFromWeightDecay({ varList: [a] }), /can only be configured before the first step/);
      assert.deepEqual([...b.dataSync()], [1, 1]);
    } finally {
      opt.dispose();
      tf.dispose([a, b]);
    }
  });
});
