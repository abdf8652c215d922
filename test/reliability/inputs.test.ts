/**
 * Inputs that pass "finite" but not float32, and inputs of the wrong kind:
 * each is refused at construction (or, for values a function or schedule gives,
 * at the step, before any change) with an error that names the argument and
 * the value as given.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { RMSprop, schedules } from '../../src/index.js';
import { tf, useBackend } from '../support/tf.js';

describe('numbers float32 cannot hold', () => {
  before(() => useBackend('cpu'));

  const beyond = /is beyond float32's range/;
  const toZero = /rounds to 0 in float32/;
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['learningRate 1e308', () => new RMSprop({ learningRate: 1e308 }), /`learningRate` = 1e\+308 is beyond float32's range/],
    ['lr 1e39', () => new RMSprop({ lr: 1e39 }), /`lr` = 1e\+39 is beyond/],
    ['clipnorm 1e308', () => new RMSprop({ clipnorm: 1e308 }), /`clipnorm` = 1e\+308 is beyond/],
    ['globalClipnorm 1e300', () => new RMSprop({ globalClipnorm: 1e300 }), beyond],
    ['clipvalue 1e300', () => new RMSprop({ clipvalue: 1e300 }), beyond],
    ['decay 1e308', () => new RMSprop({ decay: 1e308 }), /`decay` = 1e\+308/],
    ['weightDecay 1e308', () => new RMSprop({ weightDecay: 1e308 }), /`weightDecay` = 1e\+308/],
    ['epsilon 1e308', () => new RMSprop({ epsilon: 1e308 }), /`epsilon` = 1e\+308/],
    ['epsilon 1e-300', () => new RMSprop({ epsilon: 1e-300 }), /`epsilon` = 1e-300 rounds to 0 in float32/],
    ['learningRate 1e-50', () => new RMSprop({ learningRate: 1e-50 }), toZero],
    ['fromPyTorch lr 1e308', () => RMSprop.fromPyTorch({ lr: 1e308 }), /fromPyTorch: `lr` = 1e\+308 is beyond/],
    ['fromPyTorch eps 1e-300', () => RMSprop.fromPyTorch({ eps: 1e-300 }), /fromPyTorch: `eps` = 1e-300 rounds to 0/],
    ['schedule initialLearningRate 1e300', () => new schedules.ExponentialDecay({ initialLearningRate: 1e300, decaySteps: 10, decayRate: 0.9 }), /`initialLearningRate` = 1e\+300 is beyond/],
    ['schedule decaySteps 1e-300', () => new schedules.InverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 1e-300, decayRate: 0.5 }), /`decaySteps` = 1e-300 rounds to 0/],
    ['deserialized schedule', () => schedules.deserialize({ className: 'ExponentialDecay', config: { initialLearningRate: 1e300, decaySteps: 1, decayRate: 0.5 } }), beyond],
  ];
  for (const [name, make, error] of cases) test(`${name} is refused`, () => assert.throws(make, error));

  test('the learningRate setter checks too', () => {
    const opt = new RMSprop();
    assert.throws(() => { opt.learningRate = 1e308; }, /`learningRate` = 1e\+308 is beyond/);
    assert.equal(opt.learningRate, 0.001);
  });

  test('a function or schedule giving a rate float32 cannot hold fails the step before any change', () => {
    const v = tf.variable(tf.ones([2]));
    for (const learningRate of [() => 1e300, new (class extends schedules.LearningRateSchedule {
      static get className() { return 'Huge'; }
      valueAt() { return 1e300; }
      getConfig() { return {}; }
    })()]) {
      const opt = new RMSprop({ learningRate });
      assert.throws(() => opt.applyGradients([[tf.ones([2]), v]]), /the learning rate at step 0 is 1e\+300, beyond float32's range/);
      assert.equal(opt.iterations, 0);
      assert.deepEqual(Array.from(v.dataSync()), [1, 1]);
      assert.equal(opt.getSlotNames().length, 1);
      opt.dispose();
    }
    v.dispose();
  });

  test('globalClipnorm −0 is 0 (a NaN-free clip), not −0', () => {
    const v = tf.variable(tf.ones([2]));
    const opt = new RMSprop({ globalClipnorm: -0 });
    assert.ok(Object.is(opt.globalClipnorm, 0));
    opt.applyGradients([[tf.tensor1d([3, 4]), v]]);
    assert.ok(Array.from(v.dataSync()).every(Number.isFinite), `finite: ${v.dataSync()}`);
    opt.dispose();
    v.dispose();
  });

  test('setWeights refuses an iteration count outside int32, as getWeights saves it', async () => {
    const opt = new RMSprop();
    const v = tf.variable(tf.ones([2]), true, 'inputs/iter/v');
    opt.applyGradients([[tf.ones([2]), v]]);
    const rms = opt.getSlot(v, 'rms');
    await assert.rejects(opt.setWeights([{ name: 'iter', tensor: tf.scalar(1e30) }, { name: 'inputs/iter/v/rms', tensor: rms.clone() }]),
      /iteration count must be an integer in \[0, 2\^31 − 1\], got 1\.0*\d*e\+30/);
    assert.equal(opt.iterations, 1);
    opt.dispose();
    v.dispose();
  });
});

describe('inputs of the wrong kind', () => {
  before(() => useBackend('cpu'));

  const config = /RMSprop\.fromConfig: `config` must be a plain object of options/;
  for (const [name, value] of [['null', null], ['a string', 'lr=0.1'], ['an array', [0.1]], ['a Map', new Map([['learningRate', 0.1]])]] as const) {
    test(`fromConfig with ${name} names \`config\``, () => {
      assert.throws(() => RMSprop.fromConfig(RMSprop, value as never), config);
    });
  }

  test('a config key is named as it was given (__proto__ is not "Proto__")', () => {
    const parsed = JSON.parse('{"learning_rate": 0.1, "__proto__": {"polluted": true}}') as Record<string, unknown>;
    assert.throws(() => RMSprop.fromConfig(RMSprop, parsed as never), /unknown option "__proto__"/);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('options must be a plain object: a Map is refused, not ignored', () => {
    assert.throws(() => new RMSprop(new Map([['learningRate', 0.5]]) as never), /options must be a plain object \(\{\.\.\.\}\), got a Map/);
    assert.throws(() => new RMSprop('fast' as never), /options must be a plain object/);
  });

  test('a nested-array gradient holding a string or a boolean is refused, naming the place', () => {
    const v = tf.variable(tf.ones([2, 2]), true, 'inputs/nested/v');
    const opt = new RMSprop();
    assert.throws(() => opt.applyGradients([[[[1, 2], [3, 'x']] as never, v]]),
      /the gradient for variable "inputs\/nested\/v" \(entry 0\) holds "x" at \[1\]\[1\]; expected numbers/);
    assert.throws(() => opt.applyGradients([[[[1, 2], [true, 4]] as never, v]]), /holds true at \[1\]\[0\]/);
    assert.deepEqual(Array.from(v.dataSync()), [1, 1, 1, 1]);
    assert.equal(opt.iterations, 0);
    opt.applyGradients([[[[1, 2], [3, 4]], v]]);
    assert.equal(opt.iterations, 1);
    opt.dispose();
    v.dispose();
  });
});
