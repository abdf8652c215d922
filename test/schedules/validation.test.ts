/**
 * Bad input is refused at construction (and so in `fromConfig`) with an error
 * that names the class, the argument and the value.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { schedules } from '../../src/index.js';

type Options = Record<string, unknown>;
type Ctor = new (options: never) => schedules.LearningRateSchedule;

/** A valid options object per class, with every numeric option given. */
const VALID: Array<[string, Ctor, Options]> = [
  ['ExponentialDecay', schedules.ExponentialDecay, { initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.9 }],
  ['InverseTimeDecay', schedules.InverseTimeDecay, { initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.9 }],
  ['PolynomialDecay', schedules.PolynomialDecay, { initialLearningRate: 0.1, decaySteps: 10, endLearningRate: 0.01, power: 2 }],
  ['CosineDecay', schedules.CosineDecay, { initialLearningRate: 0.1, decaySteps: 10, alpha: 0.1, warmupTarget: 0.2, warmupSteps: 3 }],
  ['CosineDecayRestarts', schedules.CosineDecayRestarts, { initialLearningRate: 0.1, firstDecaySteps: 10, tMul: 2, mMul: 0.5, alpha: 0.1 }],
  ['LinearCosineDecay', schedules.LinearCosineDecay, { initialLearningRate: 0.1, decaySteps: 10, numPeriods: 1, alpha: 0.1, beta: 0.01 }],
  ['NoisyLinearCosineDecay', schedules.NoisyLinearCosineDecay, {
    initialLearningRate: 0.1, decaySteps: 10, initialVariance: 0.1, varianceDecay: 0.5, numPeriods: 1, alpha: 0.1, beta: 0.01, seed: 1,
  }],
  ['PiecewiseConstantDecay', schedules.PiecewiseConstantDecay, { boundaries: [1, 2], values: [0.3, 0.2, 0.1] }],
];

const make = (cls: Ctor, options: Options): schedules.LearningRateSchedule => new cls(options as never);

/** `\`key\`` then `got value` in the message, so the user sees both. */
function names(key: string, value: string): RegExp {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`\`${esc(key)}\`.*got ${esc(value)}`);
}

describe('schedule options are validated at construction', () => {
  for (const [name, cls, valid] of VALID) {
    describe(name, () => {
      test('the valid options construct', () => {
        assert.ok(make(cls, valid).valueAt(0) >= 0);
      });

      for (const [key, value] of Object.entries(valid)) {
        if (typeof value !== 'number') continue;
        for (const bad of [NaN, Infinity, -Infinity]) {
          test(`\`${key}\` = ${bad} is refused`, () => {
            assert.throws(() => make(cls, { ...valid, [key]: bad }), (e: Error) =>
              e.message.startsWith(`${name}:`) && names(key, String(bad)).test(e.message));
          });
        }
        test(`\`${key}\` as a string is refused`, () => {
          assert.throws(() => make(cls, { ...valid, [key]: '0.1' }), names(key, '"0.1"'));
        });
      }

      test('an unknown option is refused, naming it', () => {
        assert.throws(() => make(cls, { ...valid, learning_rate: 0.1 }), /unknown option `learning_rate`/);
      });

      test('`name` must be a string or null', () => {
        assert.equal(make(cls, { ...valid, name: 'lr' }).getConfig().name, 'lr');
        assert.equal(make(cls, { ...valid, name: null }).getConfig().name, null);
        assert.throws(() => make(cls, { ...valid, name: 3 }), names('name', '3'));
      });

      test('valueAt refuses a negative or non-finite step', () => {
        const s = make(cls, valid);
        assert.throws(() => s.valueAt(-1), new RegExp(`${name}\\.valueAt: \`step\` must be a finite number >= 0, got -1`));
        assert.throws(() => s.valueAt(NaN), /got NaN/);
      });
    });
  }

  for (const [name, cls, valid] of VALID) {
    if (!('initialLearningRate' in valid)) continue;
    test(`${name}: a negative initialLearningRate is refused`, () => {
      assert.throws(() => make(cls, { ...valid, initialLearningRate: -0.1 }), (e: Error) =>
        e instanceof RangeError && e.message === `${name}: \`initialLearningRate\` must be >= 0, got -0.1`);
    });
    test(`${name}: a missing initialLearningRate is refused`, () => {
      const { initialLearningRate: _, ...rest } = valid;
      assert.throws(() => make(cls, rest), new RegExp(`${name}: \`initialLearningRate\` is required`));
    });
    const stepsKey = 'decaySteps' in valid ? 'decaySteps' : 'firstDecaySteps';
    for (const bad of [0, -5]) {
      test(`${name}: \`${stepsKey}\` = ${bad} is refused`, () => {
        assert.throws(() => make(cls, { ...valid, [stepsKey]: bad }), (e: Error) =>
          e instanceof RangeError && e.message === `${name}: \`${stepsKey}\` must be > 0, got ${bad}`);
      });
    }
  }

  test('options that would make the rate negative, infinite or NaN are refused', () => {
    const cases: Array<[Ctor, Options, string, number]> = [
      [schedules.ExponentialDecay, VALID[0][2], 'decayRate', -0.5],
      [schedules.InverseTimeDecay, VALID[1][2], 'decayRate', -0.5],
      [schedules.PolynomialDecay, VALID[2][2], 'endLearningRate', -0.01],
      [schedules.PolynomialDecay, VALID[2][2], 'power', -1],
      [schedules.CosineDecay, VALID[3][2], 'alpha', -0.1],
      [schedules.CosineDecay, VALID[3][2], 'warmupTarget', -0.1],
      [schedules.CosineDecay, VALID[3][2], 'warmupSteps', -1],
      [schedules.CosineDecayRestarts, VALID[4][2], 'tMul', 0],
      [schedules.CosineDecayRestarts, VALID[4][2], 'mMul', -1],
      [schedules.LinearCosineDecay, VALID[5][2], 'beta', -0.001],
      [schedules.NoisyLinearCosineDecay, VALID[6][2], 'initialVariance', -1],
    ];
    for (const [cls, valid, key, bad] of cases) {
      assert.throws(() => make(cls, { ...valid, [key]: bad }), names(key, String(bad)), `${cls.name} ${key} ${bad}`);
    }
  });

  test('booleans must be booleans', () => {
    assert.throws(() => new schedules.ExponentialDecay({ ...VALID[0][2], staircase: 'true' } as never), names('staircase', '"true"'));
    assert.throws(() => new schedules.PolynomialDecay({ ...VALID[2][2], cycle: 1 } as never), names('cycle', '1'));
  });

  test('an options object is required', () => {
    assert.throws(() => new schedules.ExponentialDecay(undefined as never), /ExponentialDecay: expected an options object, got undefined/);
  });
});

describe('PiecewiseConstantDecay boundaries and values', () => {
  const P = schedules.PiecewiseConstantDecay;

  test('boundaries must be one shorter than values', () => {
    assert.throws(() => new P({ boundaries: [1, 2], values: [0.1, 0.2] }), (e: Error) =>
      e instanceof RangeError &&
      e.message === 'PiecewiseConstantDecay: the length of `boundaries` should be 1 less than the length of `values`; ' +
        'got 2 boundaries [1, 2] and 2 values [0.1, 0.2]');
    assert.throws(() => new P({ boundaries: [1], values: [0.1, 0.2, 0.3] }), /got 1 boundaries \[1\] and 3 values/);
    assert.throws(() => new P({ boundaries: [], values: [] }), /got 0 boundaries \[\] and 0 values/);
  });

  test('boundaries must be strictly increasing', () => {
    assert.throws(() => new P({ boundaries: [5, 3], values: [1, 2, 3] }),
      /`boundaries` must be strictly increasing, got boundaries\[0\] = 5 then boundaries\[1\] = 3/);
    assert.throws(() => new P({ boundaries: [1, 4, 4], values: [1, 2, 3, 4] }),
      /got boundaries\[1\] = 4 then boundaries\[2\] = 4/);
  });

  test('each boundary and value must be finite, each value >= 0', () => {
    assert.throws(() => new P({ boundaries: [1, NaN], values: [1, 2, 3] }), names('boundaries[1]', 'NaN'));
    assert.throws(() => new P({ boundaries: [1, 2], values: [1, Infinity, 3] }), names('values[1]', 'Infinity'));
    assert.throws(() => new P({ boundaries: [1, 2], values: [1, 2, -3] }), names('values[2]', '-3'));
    assert.throws(() => new P({ boundaries: 3, values: [1, 2] } as never), names('boundaries', '3'));
  });
});

describe('extensions beyond Keras', () => {
  test('seed must be a non-negative safe integer', () => {
    const base = { initialLearningRate: 0.1, decaySteps: 10 };
    for (const bad of [1.5, -1, 2 ** 53]) {
      assert.throws(() => new schedules.NoisyLinearCosineDecay({ ...base, seed: bad }), names('seed', String(bad)));
    }
  });

  test('warmupSteps without warmupTarget is refused rather than silently ignored', () => {
    assert.throws(() => new schedules.CosineDecay({ initialLearningRate: 0.1, decaySteps: 10, warmupSteps: 5 }),
      /CosineDecay: `warmupSteps` = 5 needs a `warmupTarget`.*got null/);
  });

  test('CosineDecayRestarts with tMul < 1 refuses steps past the end of its periods instead of giving NaN', () => {
    // Periods of 10, 5, 2.5, … add up to 20 steps.
    const s = new schedules.CosineDecayRestarts({ initialLearningRate: 0.1, firstDecaySteps: 10, tMul: 0.5 });
    assert.ok(Number.isFinite(s.valueAt(19)));
    assert.throws(() => s.valueAt(25), /periods end at step 20 .*step 25 is past them/);
  });
});
