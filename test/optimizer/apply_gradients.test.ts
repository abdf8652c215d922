/**
 * applyGradients and minimize: both call forms, missing gradients, iterations,
 * slots keyed by the variable, and checks that run before any state changes.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { RMSprop } from '../../src/index.js';
import { assertClose, tf, useBackend } from '../support/tf.js';

const f = Math.fround;

/** One plain-path step from zero state, written out: ms = (1−ρ)g², w −= lr·g/(√ms + ε). */
function firstPlainStep(w: number, g: number, lr = 0.001, rho = 0.9, eps = 1e-7): number {
  const ms = f(f(f(rho) * 0) + f(f(1 - f(rho)) * f(g * g)));
  return f(w - f(f(f(lr) * g) / f(f(Math.sqrt(ms)) + f(eps))));
}

function collectWarnings(opt: RMSprop): string[] {
  const seen: string[] = [];
  opt.warn = (m) => seen.push(m);
  return seen;
}

describe('applyGradients', () => {
  before(() => useBackend('cpu'));

  test('Keras form returns the new iteration count and updates each variable', () => {
    const opt = new RMSprop({ learningRate: 0.1 });
    const a = tf.variable(tf.tensor1d([1, 2]));
    const b = tf.variable(tf.tensor1d([3]));
    const it = opt.applyGradients([[tf.tensor1d([0.5, -1]), a], [tf.tensor1d([2]), b]]);
    assert.equal(it, 1);
    assert.equal(opt.iterations, 1);
    assertClose(a.dataSync(), [firstPlainStep(1, 0.5, 0.1), firstPlainStep(2, -1, 0.1)], 0, 0, 'a');
    assertClose(b.dataSync(), [firstPlainStep(3, 2, 0.1)], 0, 0, 'b');
    assert.equal(opt.applyGradients([[tf.tensor1d([1]), b]]), 2);
  });

  test('TF.js forms: a name→tensor map and {name, tensor}[] look variables up by name', () => {
    const opt = new RMSprop({ learningRate: 0.1 });
    const a = tf.variable(tf.tensor1d([1, 2]), true, 'applyGradients/tfjs-form/a');
    opt.applyGradients({ [a.name]: tf.tensor1d([0.5, -1]) });
    opt.applyGradients([{ name: a.name, tensor: tf.tensor1d([0.5, -1]) }]);
    assert.equal(opt.iterations, 2);
    const ref = new RMSprop({ learningRate: 0.1 });
    const b = tf.variable(tf.tensor1d([1, 2]));
    ref.applyGradients([[tf.tensor1d([0.5, -1]), b]]);
    ref.applyGradients([[tf.tensor1d([0.5, -1]), b]]);
    assertClose(a.dataSync(), b.dataSync(), 0, 0, 'same result in both forms');
    assert.throws(() => opt.applyGradients({ 'no/such/variable': tf.scalar(1) }),
      /no variable named "no\/such\/variable" is registered/);
  });

  test('gradients may be plain arrays, as in Keras', () => {
    const opt = new RMSprop({ learningRate: 0.1 });
    const a = tf.variable(tf.tensor2d([[1, 2], [3, 4]]));
    opt.applyGradients([[[[1, 1], [1, 1]], a]]);
    assertClose(a.dataSync(), [1, 2, 3, 4].map((w) => firstPlainStep(w, 1, 0.1)), 0, 0, 'a');
  });

  test('null gradients are skipped with a warning; the iteration still counts', () => {
    const opt = new RMSprop({ momentum: 0.9 });
    const warnings = collectWarnings(opt);
    const a = tf.variable(tf.tensor1d([1]), true, 'applyGradients/null/a');
    const b = tf.variable(tf.tensor1d([2]), true, 'applyGradients/null/b');
    assert.equal(opt.applyGradients([[tf.tensor1d([1]), a], [null, b]]), 1);
    assert.deepEqual(warnings, ['Gradients do not exist for variables [applyGradients/null/b] when minimizing the loss.']);
    assert.equal(b.dataSync()[0], 2);
    assert.throws(() => opt.getSlot(b, 'rms'), /has no slots yet/);
    const aAfterOne = a.dataSync()[0];
    // b's momentum must not keep moving a variable that has no gradient this step.
    opt.applyGradients([[null, a], [tf.tensor1d([1]), b]]);
    assert.equal(a.dataSync()[0], aAfterOne);
  });

  test('all-null gradients are an error and change nothing; an empty list is a no-op', () => {
    const opt = new RMSprop();
    const a = tf.variable(tf.tensor1d([1]), true, 'applyGradients/allnull/a');
    assert.throws(() => opt.applyGradients([[null, a]]), /no gradients provided for any variable: \[applyGradients\/allnull\/a\]/);
    assert.equal(opt.iterations, 0);
    assert.equal(opt.applyGradients([]), 0);
    assert.equal(opt.applyGradients({}), 0);
    assert.equal(opt.iterations, 0);
  });

  test('slots follow the variable, not its position in the list', () => {
    const opt = new RMSprop({ learningRate: 0.1, momentum: 0.5 });
    const a = tf.variable(tf.tensor1d([1, 2]));
    const b = tf.variable(tf.tensor1d([3, 4, 5]));
    opt.applyGradients([[tf.tensor1d([1, 1]), a], [tf.tensor1d([1, 1, 1]), b]]);
    // Reverse the order, then drop `a`: TF.js's own optimizers mix the state up here.
    opt.applyGradients([[tf.tensor1d([2, 2, 2]), b], [tf.tensor1d([2, 2]), a]]);
    opt.applyGradients([[tf.tensor1d([3, 3, 3]), b]]);
    const ref = new RMSprop({ learningRate: 0.1, momentum: 0.5 });
    const a2 = tf.variable(tf.tensor1d([1, 2]));
    const b2 = tf.variable(tf.tensor1d([3, 4, 5]));
    for (const [ga, gb] of [[1, 1], [2, 2], [null, 3]] as const) {
      ref.applyGradients([[ga === null ? null : tf.fill([2], ga), a2], [tf.fill([3], gb), b2]]);
    }
    assertClose(a.dataSync(), a2.dataSync(), 0, 0, 'a');
    assertClose(b.dataSync(), b2.dataSync(), 0, 0, 'b');
    assertClose(opt.getSlot(b, 'momentum').dataSync(), ref.getSlot(b2, 'momentum').dataSync(), 0, 0, 'b/momentum');
  });

  test('getSlot names the problem: unknown slot, momentum slot without momentum, unseen variable', () => {
    const opt = new RMSprop();
    const a = tf.variable(tf.tensor1d([1]), true, 'applyGradients/getSlot/a');
    opt.applyGradients([[tf.tensor1d([1]), a]]);
    assert.equal(opt.getSlot(a, 'rms').shape.join(), '1');
    assert.throws(() => opt.getSlot(a, 'momentum'), /has no "momentum" slot; its slots are \[rms\]/);
    assert.throws(() => opt.getSlot(a, 'velocity'), /has no "velocity" slot/);
    const b = tf.variable(tf.tensor1d([1]), true, 'applyGradients/getSlot/b');
    assert.throws(() => opt.getSlot(b, 'rms'), /variable "applyGradients\/getSlot\/b" has no slots yet/);
  });
});

describe('applyGradients rejects bad input before any state changes', () => {
  before(() => useBackend('cpu'));

  /** Four good pairs then a bad fifth: nothing may move, no slot may appear, iterations stay. */
  function assertAtomic(bad: (vars: tf.Variable[]) => [unknown, unknown], message: RegExp): void {
    const opt = new RMSprop({ learningRate: 0.1, momentum: 0.9, centered: true });
    const vars = [1, 2, 3, 4].map((i) => tf.variable(tf.fill([3], i)));
    opt.applyGradients(vars.map((v) => [tf.onesLike(v), v] as [tf.Tensor, tf.Variable]));
    const before = vars.map((v) => Array.from(v.dataSync()));
    const slotsBefore = vars.map((v) => Array.from(opt.getSlot(v, 'momentum').dataSync()));
    const pairs = [...vars.map((v) => [tf.onesLike(v), v]), bad(vars)];
    assert.throws(() => opt.applyGradients(pairs as never), message);
    vars.forEach((v, i) => {
      assert.deepEqual(Array.from(v.dataSync()), before[i], `variable ${i} changed`);
      assert.deepEqual(Array.from(opt.getSlot(v, 'momentum').dataSync()), slotsBefore[i], `slot ${i} changed`);
    });
    assert.equal(opt.iterations, 1);
  }

  test('a gradient whose shape does not match its variable', () => {
    const v = tf.variable(tf.zeros([2, 3]), true, 'bad/shape');
    assertAtomic(() => [tf.zeros([3, 2]), v], /the gradient for variable "bad\/shape" \(entry 4\) has shape \[3,2\], but the variable has shape \[2,3\]/);
  });

  test('a gradient of the wrong dtype', () => {
    const v = tf.variable(tf.zeros([2]), true, 'bad/dtype');
    assertAtomic(() => [tf.tensor1d([1, 2], 'int32'), v], /the gradient for variable "bad\/dtype" \(entry 4\) has dtype int32, expected float32/);
  });

  test('a variable that is not a float variable', () => {
    const v = tf.variable(tf.tensor1d([1, 2], 'int32'), true, 'bad/int-variable');
    assertAtomic(() => [tf.tensor1d([1, 2]), v], /variable "bad\/int-variable" \(entry 4\) has dtype int32; only float32 variables can be trained/);
  });

  test('a gradient for a variable that was disposed', () => {
    const v = tf.variable(tf.zeros([2]), true, 'bad/disposed');
    v.dispose();
    assertAtomic(() => [tf.zeros([2]), v], /variable "bad\/disposed" \(entry 4\) has been disposed/);
  });

  test('a gradient tensor that was disposed', () => {
    const v = tf.variable(tf.zeros([2]), true, 'bad/disposed-gradient');
    const g = tf.zeros([2]);
    g.dispose();
    assertAtomic(() => [g, v], /the gradient for variable "bad\/disposed-gradient" \(entry 4\) has been disposed/);
  });

  test('something that is not a variable', () => {
    assertAtomic(() => [tf.zeros([2]), tf.zeros([2])], /entry 4 must pair a gradient with a tf.Variable/);
  });

  test('the same variable twice in one step', () => {
    assertAtomic((vars) => [tf.onesLike(vars[0]), vars[0]], /appears more than once in one step/);
  });

  test('a learning-rate function that returns a negative number', () => {
    const opt = new RMSprop({ learningRate: () => -1 });
    const v = tf.variable(tf.ones([2]));
    assert.throws(() => opt.applyGradients([[tf.ones([2]), v]]), /the `learningRate` function must return a finite number >= 0, got -1/);
    assert.deepEqual(Array.from(v.dataSync()), [1, 1]);
    assert.equal(opt.iterations, 0);
  });

  test('rho and momentum functions that return values outside [0, 1]', () => {
    const v = tf.variable(tf.ones([2]));
    assert.throws(() => new RMSprop({ rho: () => 2 }).applyGradients([[tf.ones([2]), v]]), /the `rho` function must return a number in \[0, 1\], got 2/);
    assert.throws(() => new RMSprop({ momentum: () => NaN }).applyGradients([[tf.ones([2]), v]]), /the `momentum` function must return a number in \[0, 1\], got NaN/);
    assert.deepEqual(Array.from(v.dataSync()), [1, 1]);
  });
});

describe('minimize', () => {
  before(() => useBackend('cpu'));

  test('Keras form: the docstring example gives 9.683772 and returns 1', () => {
    const opt = new RMSprop({ learningRate: 0.1 });
    const w = tf.variable(tf.scalar(10));
    const n = opt.minimize(() => tf.div(tf.square(w), 2) as tf.Scalar, [w]);
    assert.equal(n, 1);
    assert.equal(w.dataSync()[0], f(9.683772));
  });

  test('Keras form with a var-list function called after the loss (lazily built variables)', () => {
    const opt = new RMSprop({ learningRate: 0.1 });
    let w: tf.Variable | null = null;
    const loss = () => {
      w ??= tf.variable(tf.scalar(10));
      return tf.div(tf.square(w), 2) as tf.Scalar;
    };
    assert.equal(opt.minimize(loss, () => [w as tf.Variable]), 1);
    assert.equal((w as unknown as tf.Variable).dataSync()[0], f(9.683772));
  });

  test('Keras form with an empty var list is a no-op', () => {
    const opt = new RMSprop();
    assert.equal(opt.minimize(() => tf.scalar(1), []), 0);
  });

  test('Keras form: a variable the loss does not reach is skipped with a warning', () => {
    const opt = new RMSprop({ learningRate: 0.1 });
    const warnings = collectWarnings(opt);
    const w = tf.variable(tf.scalar(10), true, 'minimize/used');
    const u = tf.variable(tf.scalar(1), true, 'minimize/unused');
    opt.minimize(() => tf.div(tf.square(w), 2) as tf.Scalar, [w, u]);
    assert.equal(w.dataSync()[0], f(9.683772));
    assert.equal(u.dataSync()[0], 1);
    assert.match(warnings[0], /\[minimize\/unused\]/);
  });

  test('TF.js form returns the cost when asked, else null', () => {
    const opt = new RMSprop({ learningRate: 0.1 });
    const w = tf.variable(tf.scalar(10));
    const cost = opt.minimize(() => tf.div(tf.square(w), 2) as tf.Scalar, true, [w]);
    assert.ok(cost instanceof tf.Tensor);
    assert.equal(cost.dataSync()[0], 50);
    cost.dispose();
    assert.equal(opt.minimize(() => tf.div(tf.square(w), 2) as tf.Scalar, false, [w]), null);
    assert.equal(opt.iterations, 2);
  });

  test('a loss that is not a function is a clear error', () => {
    assert.throws(() => new RMSprop().minimize(42 as never, []), /the loss must be a function returning a scalar, got 42/);
  });
});
