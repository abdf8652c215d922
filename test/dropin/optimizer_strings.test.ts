/**
 * `useRMSpropForOptimizerStrings` against the real tfjs-layers: what the
 * optimizer strings of `model.compile` build before, during and after the
 * opt-in, nesting, bad options, ownership, and save → load.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { RMSprop, type RMSpropOptions } from '../../src/index.js';
import { useRMSpropForOptimizerStrings } from '../../src/layers/index.js';
import { assertBitEqual, BACKENDS, tf, useBackend, collectGarbage } from '../support/tf.js';
import { PROGRAMS } from './programs.js';
import { fitEpochs, saveAndLoad, weightsOf } from './training.js';

// Taken before anything in this file opts in.
const proto = tf.LayersModel.prototype;
const compileBefore = Object.getOwnPropertyDescriptor(proto, 'compile');
const trainRmspropBefore = tf.train.rmsprop;

const dense = PROGRAMS.find((p) => p.id === 'dense')!;
const STRINGS = ['rmsprop', 'RMSprop', 'RMSProp'];

function compiledWith(optimizer: string, functional = false): tf.LayersModel {
  let model: tf.LayersModel;
  if (functional) {
    const input = tf.input({ shape: [4] });
    const output = tf.layers.dense({ units: 3, activation: 'softmax' }).apply(input) as tf.SymbolicTensor;
    model = tf.model({ inputs: input, outputs: output });
  } else {
    model = dense.build();
  }
  model.compile({ optimizer, loss: dense.loss });
  return model;
}

function assertTfjsBehaviour(): void {
  assert.deepEqual(Object.getOwnPropertyDescriptor(proto, 'compile'), compileBefore, 'LayersModel.prototype.compile is TF.js\'s own');
  assert.equal(tf.train.rmsprop, trainRmspropBefore);
  for (const s of ['rmsprop', 'RMSProp']) {
    const m = compiledWith(s);
    assert.equal(m.optimizer.getClassName(), 'RMSProp', `${s} builds TF.js's optimizer`);
    assert.ok(!(m.optimizer instanceof RMSprop));
    m.dispose();
  }
  assert.throws(() => compiledWith('RMSprop'), /Unknown Optimizer RMSprop/);
}

function isOwned(model: tf.LayersModel): boolean {
  return (model as unknown as { isOptimizerOwned: boolean }).isOptimizerOwned;
}

describe('useRMSpropForOptimizerStrings', () => {
  before(() => useBackend('cpu'));

  test('without the call nothing changes: TF.js builds its own optimizer, and \'RMSprop\' is unknown', () => {
    assertTfjsBehaviour();
  });

  test('with it, the three strings build this RMSprop with Keras\'s defaults and the options; everything else is unchanged', () => {
    const options: RMSpropOptions = { learningRate: 0.01, centered: true, flavor: 'keras3' };
    const undo = useRMSpropForOptimizerStrings(options);
    try {
      options.learningRate = 1; // the call took a copy
      for (const s of STRINGS) {
        for (const functional of [false, true]) {
          const m = compiledWith(s, functional);
          assert.ok(m.optimizer instanceof RMSprop, `${s} builds RMSprop`);
          assert.deepEqual(m.optimizer.getConfig(), new RMSprop({ learningRate: 0.01, centered: true, flavor: 'keras3' }).getConfig());
          assert.ok(isOwned(m), 'the model owns it, as one built from a string');
          m.dispose();
        }
      }
      for (const [s, cls] of [['adam', 'Adam'], ['sgd', 'SGD']]) {
        const m = compiledWith(s);
        assert.equal(m.optimizer.getClassName(), cls);
        m.dispose();
      }
      const mine = new RMSprop();
      const m = dense.build();
      m.compile({ optimizer: mine, loss: dense.loss });
      assert.equal(m.optimizer, mine);
      assert.ok(!isOwned(m), 'an instance stays the caller\'s');
      m.dispose();
      assert.throws(() => compiledWith('RMSPROP'), /Unknown Optimizer RMSPROP/);
      assert.equal(tf.train.rmsprop, trainRmspropBefore);
      assert.equal(tf.train.rmsprop(0.1).getClassName(), 'RMSProp');
    } finally {
      undo();
    }
    assertTfjsBehaviour();
  });

  test('no options: exactly new RMSprop() (learning rate 0.001, rho 0.9, momentum 0, epsilon 1e-7, flavor keras2)', () => {
    const undo = useRMSpropForOptimizerStrings();
    const m = compiledWith('rmsprop');
    undo();
    const opt = m.optimizer as RMSprop;
    assert.deepEqual(opt.getConfig(), new RMSprop().getConfig());
    assert.deepEqual([opt.learningRate, opt.rho, opt.momentum, opt.epsilon, opt.flavor], [0.001, 0.9, 0, 1e-7, 'keras2']);
    m.dispose();
  });

  test('undo restores TF.js\'s behaviour exactly, and a second undo does nothing', () => {
    const undo = useRMSpropForOptimizerStrings({ flavor: 'tfjs' });
    assert.notDeepEqual(Object.getOwnPropertyDescriptor(proto, 'compile'), compileBefore);
    undo();
    assertTfjsBehaviour();
    const again = useRMSpropForOptimizerStrings();
    undo();
    const m = compiledWith('rmsprop');
    assert.ok(m.optimizer instanceof RMSprop, 'an old undo does not cancel a newer call');
    m.dispose();
    again();
    assertTfjsBehaviour();
  });

  test('calls nest: the latest call not undone decides, whatever the order of the undos', () => {
    const flavorOf = () => {
      const m = compiledWith('rmsprop');
      const f = m.optimizer instanceof RMSprop ? m.optimizer.flavor : m.optimizer.getClassName();
      m.dispose();
      return f;
    };
    for (const order of [['a', 'b'], ['b', 'a']]) {
      const undos: Record<string, () => void> = {
        a: useRMSpropForOptimizerStrings({ flavor: 'tfjs' }),
        b: useRMSpropForOptimizerStrings({ flavor: 'pytorch' }),
      };
      assert.equal(flavorOf(), 'pytorch');
      undos[order[0]]();
      assert.equal(flavorOf(), order[0] === 'a' ? 'pytorch' : 'tfjs');
      undos[order[1]]();
      assert.equal(flavorOf(), 'RMSProp');
      assertTfjsBehaviour();
    }
  });

  test('bad options: an error naming the option and the value, before anything changes', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ rho: 2 }, /^useRMSpropForOptimizerStrings: RMSprop: `rho` must be in \[0, 1\], got 2$/],
      [{ flavor: 'torch' }, /^useRMSpropForOptimizerStrings: RMSprop: `flavor` must be one of 'keras2', 'keras3', 'pytorch', 'tfjs', got "torch"$/],
      [{ flavour: 'tfjs' }, /^useRMSpropForOptimizerStrings: RMSprop: unknown option "flavour" \(value "tfjs"\)/],
      [{ clipnorm: 1, globalClipnorm: 1 }, /^useRMSpropForOptimizerStrings: RMSprop: cannot accept both `clipnorm` \(1\) and `globalClipnorm` \(1\)/],
      ['tfjs', /^useRMSpropForOptimizerStrings: options must be an object of RMSprop options, got string "tfjs"$/],
      [[{ flavor: 'tfjs' }], /^useRMSpropForOptimizerStrings: options must be an object of RMSprop options, got an array$/],
      [null, /^useRMSpropForOptimizerStrings: options must be an object of RMSprop options, got null$/],
    ];
    for (const [options, message] of cases) {
      assert.throws(() => useRMSpropForOptimizerStrings(options as RMSpropOptions), { message }, JSON.stringify(options));
      assertTfjsBehaviour();
    }
    // Inside an active call, a bad second call leaves the first in force.
    const undo = useRMSpropForOptimizerStrings({ flavor: 'tfjs' });
    assert.throws(() => useRMSpropForOptimizerStrings({ momentum: -1 }), /`momentum` must be in \[0, 1\], got -1/);
    const m = compiledWith('rmsprop');
    assert.equal((m.optimizer as RMSprop).flavor, 'tfjs');
    m.dispose();
    undo();
    assertTfjsBehaviour();
  });

  test('model.dispose() disposes the RMSprop built from a string, as TF.js does its own', async () => {
    const { x, y } = dense.data();
    const undo = useRMSpropForOptimizerStrings({ momentum: 0.9 });
    try {
      await collectGarbage();
      const start = tf.memory().numTensors;
      const m = compiledWith('RMSprop');
      await m.fit(x, y, { epochs: 1, batchSize: 16, verbose: 0 });
      const opt = m.optimizer as RMSprop;
      assert.ok(tf.memory().numTensors > start);
      assert.deepEqual(opt.getSlotNames(), ['rms', 'momentum']);
      m.dispose();
      await collectGarbage();
      assert.equal(tf.memory().numTensors, start, 'model and optimizer tensors all freed');
    } finally {
      undo();
      tf.dispose([x, y]);
    }
  });

  test('a wrapper of compile added after the call survives its undo, and strings are TF.js\'s again', () => {
    const undo = useRMSpropForOptimizerStrings();
    const ours = proto.compile;
    const seen: string[] = [];
    proto.compile = function (this: tf.LayersModel, args: tf.ModelCompileArgs) {
      seen.push(String(args.optimizer));
      return ours.call(this, args);
    };
    const theirs = proto.compile;
    try {
      undo();
      assert.equal(proto.compile, theirs, 'the later wrapper stays');
      const m = compiledWith('rmsprop');
      assert.equal(m.optimizer.getClassName(), 'RMSProp');
      m.dispose();
      assert.deepEqual(seen, ['rmsprop']);
      const undo2 = useRMSpropForOptimizerStrings({ flavor: 'tfjs' });
      const m2 = compiledWith('rmsprop');
      assert.ok(m2.optimizer instanceof RMSprop);
      m2.dispose();
      undo2();
    } finally {
      proto.compile = ours;
    }
    // With the later wrapper gone, ours is on top again (passing through); a last call and undo removes it.
    useRMSpropForOptimizerStrings()();
    assertTfjsBehaviour();
  });

  for (const backend of BACKENDS) {
    test(`${backend}: { flavor: 'tfjs' } with 'rmsprop' gives the run TF.js's 'rmsprop' gave, to the bit; save → load keeps it, after undo too`, async () => {
      await useBackend(backend);
      const data = dense.data();
      try {
        const theirs = compiledWith('rmsprop');
        await fitEpochs(theirs, dense, data, 4);

        const undo = useRMSpropForOptimizerStrings({ flavor: 'tfjs' });
        let first: tf.LayersModel;
        try {
          first = compiledWith('rmsprop');
        } finally {
          undo();
        }
        await fitEpochs(first, dense, data, 2);
        const loaded = await saveAndLoad(first);
        assert.ok(loaded.optimizer instanceof RMSprop, 'loads as RMSprop with no opt-in active');
        assert.equal(loaded.optimizer.flavor, 'tfjs');
        assert.ok(!isOwned(loaded), 'a loaded optimizer is not owned by the model (TF.js\'s rule)');
        await fitEpochs(loaded, dense, data, 2);
        const a = await weightsOf(loaded);
        const b = await weightsOf(theirs);
        a.forEach((w, i) => assertBitEqual(w, b[i], `weight ${i}`));
        loaded.optimizer.dispose();
        for (const m of [theirs, first, loaded]) m.dispose();
      } finally {
        tf.dispose([data.x, data.y]);
        await useBackend('cpu');
      }
    });
  }
});
