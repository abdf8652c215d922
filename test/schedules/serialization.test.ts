/**
 * `schedules.serialize` / `deserialize` round trips, configs written by Python
 * Keras, the allow-list, user-defined schedules, and the optimizer's
 * `getConfig` / `fromConfig` carrying a schedule.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RMSprop, schedules } from '../../src/index.js';

const STEPS = [0, 1, 2, 3, 5, 7, 10, 11, 50, 1000];

/** One instance of each built-in, with non-default options. */
const BUILT_INS: schedules.LearningRateSchedule[] = [
  new schedules.ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 3, decayRate: 0.5, staircase: true, name: 'exp' }),
  new schedules.PiecewiseConstantDecay({ boundaries: [3, 7], values: [0.1, 0.05, 0.01] }),
  new schedules.PolynomialDecay({ initialLearningRate: 0.1, decaySteps: 5, endLearningRate: 0.01, power: 2, cycle: true }),
  new schedules.InverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 2, decayRate: 0.5 }),
  new schedules.CosineDecay({ initialLearningRate: 0.1, decaySteps: 10, alpha: 0.1 }),
  new schedules.CosineDecay({ initialLearningRate: 0, decaySteps: 10, alpha: 0.1, warmupTarget: 0.1, warmupSteps: 4 }),
  new schedules.CosineDecayRestarts({ initialLearningRate: 0.1, firstDecaySteps: 5, tMul: 2, mMul: 0.5, alpha: 0.05 }),
  new schedules.LinearCosineDecay({ initialLearningRate: 0.1, decaySteps: 10, numPeriods: 2, alpha: 0.1, beta: 0.01 }),
  new schedules.NoisyLinearCosineDecay({ initialLearningRate: 0.1, decaySteps: 10, initialVariance: 0.01, seed: 5 }),
];

function assertSameSchedule(a: schedules.LearningRateSchedule, b: schedules.LearningRateSchedule): void {
  assert.equal(b.constructor, a.constructor);
  assert.deepEqual(b.getConfig(), a.getConfig());
  assert.deepEqual(STEPS.map((t) => b.valueAt(t)), STEPS.map((t) => a.valueAt(t)));
}

describe('serialize / deserialize', () => {
  for (const s of BUILT_INS) {
    test(`${s.getClassName()} round-trips through JSON`, () => {
      const serialized = schedules.serialize(s);
      assert.equal(serialized.className, s.getClassName());
      const back = schedules.deserialize(JSON.parse(JSON.stringify(serialized)));
      assertSameSchedule(s, back);
    });
  }

  test('every built-in is in the allow-list', () => {
    const names = schedules.registeredScheduleNames();
    for (const n of ['ExponentialDecay', 'PiecewiseConstantDecay', 'PolynomialDecay', 'InverseTimeDecay', 'CosineDecay',
      'CosineDecayRestarts', 'LinearCosineDecay', 'NoisyLinearCosineDecay']) {
      assert.ok(names.includes(n), `${n} is not registered`);
    }
  });

  test('a TF 2.4 Python config: class_name, snake_case keys, name null', () => {
    const s = schedules.deserialize({
      class_name: 'CosineDecayRestarts',
      config: { initial_learning_rate: 0.1, first_decay_steps: 5, t_mul: 2.0, m_mul: 0.5, alpha: 0.05, name: null },
    });
    assertSameSchedule(BUILT_INS[6], s);
  });

  test('a newer Keras config: module and registered_name are ignored, name is a string', () => {
    const s = schedules.deserialize({
      module: 'keras.optimizers.schedules', class_name: 'ExponentialDecay', registered_name: null,
      config: { initial_learning_rate: 0.1, decay_steps: 3, decay_rate: 0.5, staircase: true, name: 'ExponentialDecay' },
    });
    assert.equal(s.getConfig().name, 'ExponentialDecay');
    assert.deepEqual(STEPS.map((t) => s.valueAt(t)), STEPS.map((t) => BUILT_INS[0].valueAt(t)));
  });

  test('a Keras 3 CosineDecay config, with and without warm-up', () => {
    const off = schedules.deserialize({
      class_name: 'CosineDecay',
      config: { initial_learning_rate: 0.1, decay_steps: 10, alpha: 0.1, name: 'CosineDecay', warmup_target: null, warmup_steps: 0 },
    });
    assert.deepEqual(STEPS.map((t) => off.valueAt(t)), STEPS.map((t) => BUILT_INS[4].valueAt(t)));
    const on = schedules.deserialize({
      class_name: 'CosineDecay',
      config: { initial_learning_rate: 0, decay_steps: 10, alpha: 0.1, name: null, warmup_target: 0.1, warmup_steps: 4 },
    });
    assertSameSchedule(BUILT_INS[5], on);
  });

  test('PiecewiseConstantDecay from Python, with integer values', () => {
    const s = schedules.deserialize({ class_name: 'PiecewiseConstantDecay', config: { boundaries: [10], values: [1, 0], name: null } });
    assert.deepEqual([10, 11].map((t) => s.valueAt(t)), [1, 0]);
  });

  test('a config is validated like constructor options', () => {
    assert.throws(() => schedules.deserialize({ className: 'ExponentialDecay', config: { initialLearningRate: 0.1, decaySteps: 0, decayRate: 0.5 } }),
      /ExponentialDecay: `decaySteps` must be > 0, got 0/);
    assert.throws(() => schedules.deserialize({ className: 'InverseTimeDecay', config: { initialLearningRate: 0.1, decaySteps: 1, decayRate: 0.5, extra: 1 } }),
      /InverseTimeDecay: unknown option `extra`/);
    assert.throws(() => schedules.deserialize({ class_name: 'ExponentialDecay', config: { decay_steps: 1, decaySteps: 2 } }),
      /gives 'decaySteps' twice/);
  });

  test('the allow-list: no other name instantiates anything', () => {
    for (const name of ['Object', 'Function', 'constructor', '__proto__', 'toString', 'LearningRateSchedule', 'RMSprop', 'exponentialdecay']) {
      assert.throws(() => schedules.deserialize({ className: name, config: {} }),
        (e: Error) => e instanceof TypeError && e.message.startsWith(`schedules.deserialize: unknown schedule class "${name}"`), name);
    }
  });

  test('malformed input is refused', () => {
    for (const bad of [null, 3, 'ExponentialDecay', [], { className: 'ExponentialDecay' },
      { className: 'ExponentialDecay', config: null }, { className: 'ExponentialDecay', config: [] }, { config: {} }]) {
      assert.throws(() => schedules.deserialize(bad), /schedules\.deserialize: expected \{className, config\}/);
    }
    assert.throws(() => schedules.serialize({} as never), /schedules\.serialize: expected a LearningRateSchedule/);
  });
});

/** A user schedule: linear warm-up to `peak`, then constant. Uses the inherited fromConfig. */
class WarmupConstant extends schedules.LearningRateSchedule {
  static get className(): string { return 'WarmupConstant'; }
  readonly peak: number;
  readonly warmupSteps: number;
  constructor(options: { peak: number; warmupSteps: number }) {
    super();
    this.peak = options.peak;
    this.warmupSteps = options.warmupSteps;
  }
  valueAt(step: number): number {
    return Math.fround(this.peak * Math.min(1, (step + 1) / this.warmupSteps));
  }
  getConfig(): schedules.ScheduleConfig {
    return { peak: this.peak, warmupSteps: this.warmupSteps };
  }
}

/** A user schedule with its own fromConfig, wrapping another schedule in its config. */
class Scaled extends schedules.LearningRateSchedule {
  static get className(): string { return 'Scaled'; }
  constructor(readonly inner: schedules.LearningRateSchedule, readonly factor: number) { super(); }
  valueAt(step: number): number { return Math.fround(this.factor * this.inner.valueAt(step)); }
  getConfig(): schedules.ScheduleConfig {
    return { inner: { ...schedules.serialize(this.inner) }, factor: this.factor };
  }
  static override fromConfig(config: schedules.ScheduleConfig): Scaled {
    return new Scaled(schedules.deserialize(config.inner), config.factor as number);
  }
}

describe('user-defined schedules', () => {
  test('unregistered, a config naming it is refused', () => {
    assert.throws(() => schedules.deserialize({ className: 'WarmupConstant', config: { peak: 1, warmupSteps: 2 } }),
      /unknown schedule class "WarmupConstant".*registerSchedule/);
  });

  test('registered, it round-trips like a built-in (inherited fromConfig)', () => {
    schedules.registerSchedule(WarmupConstant);
    schedules.registerSchedule(WarmupConstant); // the same class again is harmless
    const s = new WarmupConstant({ peak: 0.1, warmupSteps: 4 });
    const back = schedules.deserialize(JSON.parse(JSON.stringify(schedules.serialize(s))));
    assert.ok(back instanceof WarmupConstant);
    assertSameSchedule(s, back);
  });

  test('with its own fromConfig, nesting a built-in', () => {
    schedules.registerSchedule(Scaled);
    const s = new Scaled(BUILT_INS[0], 0.5);
    const back = schedules.deserialize(JSON.parse(JSON.stringify(schedules.serialize(s))));
    assert.ok(back instanceof Scaled && back.inner instanceof schedules.ExponentialDecay);
    assertSameSchedule(s, back);
  });

  test('a built-in name cannot be taken, nor a registered name by another class', () => {
    class Fake extends WarmupConstant { static override get className(): string { return 'ExponentialDecay'; } }
    assert.throws(() => schedules.registerSchedule(Fake), /"ExponentialDecay" is a built-in schedule/);
    class Other extends WarmupConstant { static override get className(): string { return 'WarmupConstant'; } }
    assert.throws(() => schedules.registerSchedule(Other), /another class is already registered as "WarmupConstant"/);
    assert.throws(() => schedules.registerSchedule({} as never), /needs a static, non-empty className/);
  });

  test('a subclass without its own className cannot serialize as its parent', () => {
    class Logged extends schedules.ExponentialDecay {}
    const s = new Logged({ initialLearningRate: 0.1, decaySteps: 1, decayRate: 0.5 });
    assert.equal(s.valueAt(1), Math.fround(0.05));
    assert.throws(() => schedules.serialize(s), /Logged inherits the static className "ExponentialDecay"/);
  });
});

describe('the optimizer carries a schedule in its config', () => {
  for (const s of BUILT_INS) {
    test(`${s.getClassName()}: getConfig gives {className, config}, fromConfig rebuilds it`, () => {
      const opt = new RMSprop({ learningRate: s, rho: 0.8 });
      const config = JSON.parse(JSON.stringify(opt.getConfig()));
      assert.deepEqual(config.learningRate, { className: s.getClassName(), config: s.getConfig() });
      const back = RMSprop.fromConfig(RMSprop, config) as RMSprop;
      assert.ok(back.learningRate instanceof schedules.LearningRateSchedule);
      assertSameSchedule(s, back.learningRate);
      opt.dispose();
      back.dispose();
    });
  }

  test('a Python Keras optimizer config with a schedule', () => {
    const config = {
      name: 'RMSprop', decay: 0.0, rho: 0.9, momentum: 0.0, epsilon: 1e-7, centered: false,
      learning_rate: {
        class_name: 'PolynomialDecay',
        config: { initial_learning_rate: 0.1, decay_steps: 5, end_learning_rate: 0.01, power: 2.0, cycle: true, name: null },
      },
    };
    const opt = RMSprop.fromConfig(RMSprop, config) as RMSprop;
    assert.ok(opt.learningRate instanceof schedules.PolynomialDecay);
    assertSameSchedule(BUILT_INS[2], opt.learningRate);
    opt.dispose();
  });

  test('a user schedule, registered, round-trips through the optimizer config', () => {
    schedules.registerSchedule(WarmupConstant);
    const opt = new RMSprop({ learningRate: new WarmupConstant({ peak: 0.2, warmupSteps: 3 }) });
    const back = RMSprop.fromConfig(RMSprop, JSON.parse(JSON.stringify(opt.getConfig()))) as RMSprop;
    assert.ok(back.learningRate instanceof WarmupConstant);
    assert.equal(back.currentLearningRate(), Math.fround(0.2 / 3));
    opt.dispose();
    back.dispose();
  });

  test('an optimizer config naming an unknown schedule class is refused', () => {
    assert.throws(() => RMSprop.fromConfig(RMSprop, { learningRate: { className: 'Evil', config: {} } }),
      /unknown schedule class "Evil"/);
  });
});
