/**
 * Construction: Keras defaults, TF 2.4's path choice, and a clear error naming the
 * option and the value for every bad input, thrown before anything is built.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RMSprop, schedules } from '../../src/index.js';

describe('RMSprop options', () => {
  test('new RMSprop() has the Keras defaults', () => {
    const opt = new RMSprop();
    assert.equal(opt.learningRate, 0.001);
    assert.equal(opt.rho, 0.9);
    assert.equal(opt.momentum, 0);
    assert.equal(opt.epsilon, 1e-7);
    assert.equal(opt.centered, false);
    assert.equal(opt.name, 'RMSprop');
    assert.equal(opt.clipnorm, null);
    assert.equal(opt.clipvalue, null);
    assert.equal(opt.globalClipnorm, null);
    assert.equal(opt.decay, 0);
    assert.equal(opt.iterations, 0);
    assert.deepEqual(opt.getSlotNames(), ['rms']);
    assert.equal(RMSprop.className, 'RMSprop');
    assert.equal(opt.getClassName(), 'RMSprop');
  });

  test('momentum > 0 or any momentum function selects the momentum path and its slot', () => {
    assert.deepEqual(new RMSprop({ momentum: 0 }).form, { path: 'plain', centered: false });
    assert.deepEqual(new RMSprop({ momentum: 0.5 }).form, { path: 'momentum', centered: false });
    assert.deepEqual(new RMSprop({ momentum: () => 0 }).form, { path: 'momentum', centered: false });
    assert.deepEqual(new RMSprop({ momentum: 0.5, centered: true }).getSlotNames(), ['rms', 'momentum', 'mg']);
    assert.deepEqual(new RMSprop({ centered: true }).getSlotNames(), ['rms', 'mg']);
  });

  test('epsilon 0, null or undefined becomes 1e-7, as `epsilon or backend.epsilon()`', () => {
    assert.equal(new RMSprop({ epsilon: 0 }).epsilon, 1e-7);
    assert.equal(new RMSprop({ epsilon: null }).epsilon, 1e-7);
    assert.equal(new RMSprop({ epsilon: 1e-3 }).epsilon, 1e-3);
  });

  test('lr is a Keras alias that wins over learningRate', () => {
    assert.equal(new RMSprop({ learningRate: 0.1, lr: 1 }).learningRate, 1);
    assert.equal(new RMSprop({ lr: 0.5 }).learningRate, 0.5);
  });

  test('learningRate accepts a number, a schedule or a function', () => {
    const fn = () => 0.2;
    assert.equal(new RMSprop({ learningRate: fn }).learningRate, fn);
    class Const extends schedules.LearningRateSchedule {
      static get className() { return 'ConstForOptionsTest'; }
      valueAt() { return 0.3; }
      getConfig() { return {}; }
    }
    const s = new Const();
    assert.equal(new RMSprop({ learningRate: s }).learningRate, s);
  });

  test('learningRate may be a serialized schedule, as getConfig writes it', () => {
    const opt = new RMSprop({ learningRate: { className: 'ExponentialDecay', config: { initialLearningRate: 0.1, decaySteps: 2, decayRate: 0.5 } } });
    assert.ok(opt.learningRate instanceof schedules.ExponentialDecay);
    assert.equal(opt.currentLearningRate(), Math.fround(0.1));
    assert.throws(() => new RMSprop({ learningRate: { className: 'NoSuchDecay', config: {} } }), /unknown schedule class "NoSuchDecay"/);
  });

  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ['negative learningRate', { learningRate: -0.1 }, /`learningRate` must be >= 0, got -0.1/],
    ['negative lr', { lr: -1 }, /`lr` must be >= 0, got -1/],
    ['NaN learningRate', { learningRate: NaN }, /`learningRate` must be a finite number, got NaN/],
    ['string learningRate', { learningRate: '0.1' }, /`learningRate` must be a number, a LearningRateSchedule or a function, got "0.1"/],
    ['negative clipnorm', { clipnorm: -1 }, /`clipnorm` must be >= 0, got -1/],
    ['negative clipvalue', { clipvalue: -0.5 }, /`clipvalue` must be >= 0, got -0.5/],
    ['negative globalClipnorm', { globalClipnorm: -2 }, /`globalClipnorm` must be >= 0, got -2/],
    ['negative decay', { decay: -0.1 }, /`decay` must be >= 0, got -0.1/],
    ['rho above 1', { rho: 1.5 }, /`rho` must be in \[0, 1\], got 1.5/],
    ['rho below 0', { rho: -0.1 }, /`rho` must be in \[0, 1\], got -0.1/],
    ['momentum above 1', { momentum: 1.01 }, /`momentum` must be in \[0, 1\], got 1.01/],
    ['momentum below 0', { momentum: -0.5 }, /`momentum` must be in \[0, 1\], got -0.5/],
    ['negative epsilon', { epsilon: -1e-7 }, /`epsilon` must be >= 0, got -1e-7/],
    ['infinite epsilon', { epsilon: Infinity }, /`epsilon` must be a finite number, got Infinity/],
    ['unknown option', { learning_rate: 0.1 }, /unknown option "learning_rate" \(value 0.1\)/],
    ['another unknown option', { beta1: 0.9 }, /unknown option "beta1" \(value 0.9\)/],
    ['nesterov without momentum', { nesterov: true }, /`nesterov` = true needs the momentum path \(momentum > 0 or a function\), got momentum 0/],
    ['non-boolean nesterov', { momentum: 0.9, nesterov: 1 }, /`nesterov` must be a boolean, got 1/],
    ['non-boolean centered', { centered: 'yes' }, /`centered` must be a boolean, got "yes"/],
    ['empty name', { name: '' }, /`name` must be a non-empty string, got ""/],
    ['clipnorm with globalClipnorm', { clipnorm: 1, globalClipnorm: 2 }, /cannot accept both `clipnorm` \(1\) and `globalClipnorm` \(2\)/],
  ];
  for (const [what, options, message] of bad) {
    test(`rejects ${what}`, () => {
      assert.throws(() => new RMSprop(options as never), message);
    });
  }

  test('rho and momentum may be exactly 0 or 1, and clipvalue combines with either norm', () => {
    assert.doesNotThrow(() => new RMSprop({ rho: 0, momentum: 1 }));
    assert.doesNotThrow(() => new RMSprop({ rho: 1, momentum: 0 }));
    assert.doesNotThrow(() => new RMSprop({ clipvalue: 1, clipnorm: 1 }));
    assert.doesNotThrow(() => new RMSprop({ clipvalue: 1, globalClipnorm: 1 }));
  });

  test('assigning learningRate later is checked too', () => {
    const opt = new RMSprop();
    opt.learningRate = 0.05;
    assert.equal(opt.learningRate, 0.05);
    assert.throws(() => { opt.learningRate = -1; }, /`learningRate` must be >= 0, got -1/);
    assert.equal(opt.learningRate, 0.05);
  });
});
