/**
 * The 'pytorch' flavor against real torch.optim.RMSprop runs (PyTorch 1.13.1,
 * float32, CPU with AVX2): seven configurations, 40 steps, three parameters of
 * 37, 21 and 5 elements (PyTorch's vector body and scalar tail). The optimizer
 * is built with RMSprop.fromPyTorch from the run's state_dict param group and
 * fed the recorded gradients; every parameter and every slot (square_avg ↔ rms,
 * momentum_buffer ↔ momentum, grad_avg ↔ mg) must equal PyTorch's to the bit,
 * on the fast kernels of cpu and wasm. A float64 rewrite of PyTorch's formula
 * checks the same runs independently within a float32 tolerance.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RMSprop } from '../../src/index.js';
import { setFastKernelsEnabled } from '../../src/kernels/registry.js';
import { pytorchStep } from '../../src/rules/pytorch.js';
import { assertSameFloats } from '../kernels/support.js';
import { BACKENDS, assertClose, tf, useBackend } from '../support/tf.js';
import { f32s, pytorchFixtures, type PyTorchFixture } from './support.js';

const FIXTURES = pytorchFixtures();
const FAST = { cpu: 'cpu-simd', wasm: 'wasm-simd' } as const;

/** Runs a fixture through RMSprop; returns the variables after each step is checked. */
function replay(fx: PyTorchFixture, backend: (typeof BACKENDS)[number], expectKernel: string | null): void {
  const lrs = fx.steps.map((s) => s.lr);
  const scheduled = new Set(lrs).size > 1;
  const group = { ...fx.param_group } as Record<string, unknown>;
  let opt: RMSprop;
  // A run with an lr scheduler: its param group holds the last rate; replay the recorded ones.
  if (scheduled) opt = RMSprop.fromPyTorch({ ...group, lr: () => lrs[opt.iterations] });
  else opt = RMSprop.fromPyTorch(group);
  // Inside a tidy, so each variable's buffer is its own (tf.variable shares its initial tensor's).
  const vars = fx.initial.map((v, i) => tf.tidy(() => tf.variable(tf.tensor(f32s(v), fx.shapes[i]), true, `${fx.name}_${backend}_${i}`)));
  try {
    fx.steps.forEach((step, t) => {
      tf.tidy(() => {
        opt.applyGradients(vars.map((v, i) => [tf.tensor(f32s(step.grads[i]), fx.shapes[i]), v] as [tf.Tensor, tf.Variable]));
      });
      if (expectKernel !== null) {
        for (const c of opt.lastStepKernels()) assert.equal(c.kernel, expectKernel, `step ${t}: ${JSON.stringify(c)}`);
      }
      assert.equal(opt.iterations, step.step, 'iterations is PyTorch\'s step');
      vars.forEach((v, i) => {
        const at = `${fx.name} (${backend}) step ${t + 1} param ${i}`;
        assertSameFloats(v.dataSync(), f32s(step.params[i]), `${at} value`);
        const st = step.state[i];
        assertSameFloats(opt.getSlot(v, 'rms').dataSync(), f32s(st.square_avg), `${at} rms/square_avg`);
        if (st.momentum_buffer) assertSameFloats(opt.getSlot(v, 'momentum').dataSync(), f32s(st.momentum_buffer), `${at} momentum_buffer`);
        if (st.grad_avg) assertSameFloats(opt.getSlot(v, 'mg').dataSync(), f32s(st.grad_avg), `${at} grad_avg`);
      });
    });
    const st = fx.steps[0].state[0];
    const expected = ['rms', ...(st.momentum_buffer ? ['momentum'] : []), ...(st.grad_avg ? ['mg'] : [])];
    assert.deepEqual(opt.getSlotNames(), expected, 'the slots PyTorch keeps, no more');
  } finally {
    opt.dispose();
    tf.dispose(vars);
  }
}

describe('pytorch flavor: fixtures', () => {
  test('the fixtures exist and come from PyTorch', () => {
    assert.ok(FIXTURES.length >= 7, `expected the 7 fixtures of scripts/gen-pytorch-fixtures.py, found ${FIXTURES.length}`);
    for (const fx of FIXTURES) assert.match(fx.torch, /^1\.13/);
  });
});

for (const backend of BACKENDS) {
  describe(`pytorch flavor against torch.optim.RMSprop (${backend})`, () => {
    before(() => useBackend(backend));
    for (const fx of FIXTURES) {
      test(`${fx.name} (${fx.description}): fast kernel equals PyTorch to the bit, values and slots`, () => {
        replay(fx, backend, FAST[backend]);
      });
    }
    test('the op chain (fast kernels off) stays within 1e-5 relative of PyTorch', () => {
      // TF.js has no fused multiply-add: each of PyTorch's fused steps rounds twice
      // here, a few float32 ulps (6e-8) per step; 40 steps stay far under 1e-5.
      const previous = setFastKernelsEnabled(false);
      try {
        for (const fx of FIXTURES) {
          const opt = RMSprop.fromPyTorch(new Set(fx.steps.map((s) => s.lr)).size > 1
            ? { ...fx.param_group, lr: () => fx.steps[opt.iterations].lr } : fx.param_group);
          const vars = fx.initial.map((v, i) => tf.tidy(() => tf.variable(tf.tensor(f32s(v), fx.shapes[i]))));
          for (const step of fx.steps) {
            tf.tidy(() => { opt.applyGradients(vars.map((v, i) => [tf.tensor(f32s(step.grads[i]), fx.shapes[i]), v] as [tf.Tensor, tf.Variable])); });
            assert.equal(opt.lastStepKernels()[0].kernel, 'tfops');
          }
          const last = fx.steps[fx.steps.length - 1];
          vars.forEach((v, i) => assertClose(v.dataSync(), f32s(last.params[i]), 1e-5, 1e-7, `${fx.name} tfops param ${i}`));
          opt.dispose();
          tf.dispose(vars);
        }
      } finally {
        setFastKernelsEnabled(previous);
      }
    });
  });
}

describe('pytorch flavor: the formula, independently in float64', () => {
  // PyTorch's documented algorithm in double, with nothing rounded: it must
  // track the float32 run within a tolerance that float32 rounding explains.
  // Each step rounds ~10 operations at 2^-24 relative; over 40 steps the drift
  // of the parameters stays below 2e-5 relative (plus 1e-6 absolute near 0).
  for (const fx of FIXTURES) {
    test(`${fx.name}: float64 formula within float32 tolerance of PyTorch`, () => {
      const k = { lr: 0.01, alpha: 0.99, eps: 1e-8, momentum: 0, centered: false, weight_decay: 0, ...fx.kwargs } as unknown as Record<string, number>;
      const state = fx.initial.map((v) => ({ w: Array.from(f32s(v)), v: v.map(() => 0), b: v.map(() => 0), a: v.map(() => 0) }));
      fx.steps.forEach((step) => {
        state.forEach((s, i) => {
          const g0 = Array.from(f32s(step.grads[i]));
          for (let j = 0; j < s.w.length; j++) {
            const g = g0[j] + k.weight_decay * s.w[j];
            s.v[j] = k.alpha * s.v[j] + (1 - k.alpha) * g * g;
            let avg: number;
            if (k.centered) {
              s.a[j] = k.alpha * s.a[j] + (1 - k.alpha) * g;
              avg = Math.sqrt(s.v[j] - s.a[j] * s.a[j]) + k.eps;
            } else {
              avg = Math.sqrt(s.v[j]) + k.eps;
            }
            if (k.momentum > 0) {
              s.b[j] = k.momentum * s.b[j] + g / avg;
              s.w[j] -= step.lr * s.b[j];
            } else {
              s.w[j] -= (step.lr * g) / avg;
            }
          }
        });
      });
      const last = fx.steps[fx.steps.length - 1];
      state.forEach((s, i) => assertClose(f32s(last.params[i]), s.w, 2e-5, 1e-6, `${fx.name} param ${i}`));
    });
  }
});

describe('pytorch flavor: what makes it bit-exact', () => {
  const fx = FIXTURES.find((f) => f.name === 'defaults') as PyTorchFixture;
  function mismatches(oneMinusRho: number, fused: boolean): number {
    const f32 = Math.fround;
    let bad = 0;
    const ws = fx.initial.map((v) => ({ w: f32s(v), ms: new Float32Array(v.length) }));
    for (const step of fx.steps) {
      ws.forEach((st, i) => {
        const g = f32s(step.grads[i]);
        if (fused) {
          pytorchStep({ lr: f32(step.lr), rho: f32(0.99), oneMinusRho, momentum: 0, epsilon: f32(1e-8) }, false, false, g, st);
        } else {
          for (let j = 0; j < g.length; j++) {
            st.ms[j] = f32(f32(st.ms[j] * f32(0.99)) + f32(f32(oneMinusRho * g[j]) * g[j]));
            st.w[j] = f32(st.w[j] - f32(f32(f32(step.lr) * g[j]) / f32(f32(Math.sqrt(st.ms[j])) + f32(1e-8))));
          }
        }
        const exp = f32s(step.params[i]);
        for (let j = 0; j < exp.length; j++) if (exp[j] !== st.w[j]) bad++;
      });
    }
    return bad;
  }
  test('1 − alpha in double then float32 (0.01), fused multiply-adds: no mismatch', () => {
    assert.equal(mismatches(Math.fround(1 - 0.99), true), 0);
  });
  test('1 − alpha from float32 alpha (TF 2.4\'s way) misses PyTorch', () => {
    assert.notEqual(Math.fround(1 - 0.99), Math.fround(1 - Math.fround(0.99)));
    assert.ok(mismatches(Math.fround(1 - Math.fround(0.99)), true) > 100);
  });
  test('unfused multiply-adds miss PyTorch', () => {
    assert.ok(mismatches(Math.fround(1 - 0.99), false) > 10);
  });
});

describe('RMSprop.fromPyTorch', () => {
  test('PyTorch\'s defaults, names and the pytorch flavor', () => {
    const opt = RMSprop.fromPyTorch();
    const c = opt.getConfig();
    assert.equal(c.flavor, 'pytorch');
    assert.equal(c.learningRate, 0.01);
    assert.equal(c.rho, 0.99);
    assert.equal(c.epsilon, 1e-8);
    assert.equal(c.momentum, 0);
    assert.equal(c.centered, false);
    assert.equal(opt.weightDecay, 0);
    assert.deepEqual(opt.getSlotNames(), ['rms']);
    const o2 = RMSprop.fromPyTorch({ lr: 0.1, alpha: 0.9, eps: 0, momentum: 0.5, centered: true, weightDecay: 0.01 }, { name: 'pt', clipnorm: 1 });
    assert.deepEqual(o2.getSlotNames(), ['rms', 'momentum', 'mg']);
    assert.equal(o2.epsilon, 0, 'eps 0 is kept, as in PyTorch');
    assert.equal(o2.weightDecay, 0.01);
    assert.equal(o2.name, 'pt');
    assert.equal(o2.clipnorm, 1);
  });

  test('a state_dict param group as JSON, scheduler keys included', () => {
    for (const fx of FIXTURES) {
      const opt = RMSprop.fromPyTorch(JSON.parse(JSON.stringify(fx.param_group)));
      assert.equal(opt.flavor, 'pytorch');
      assert.equal(opt.learningRate, fx.param_group.lr);
      assert.equal(opt.weightDecay, fx.param_group.weight_decay);
    }
  });

  test('bad input: errors that name the key and the value', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ lr: -0.1 }, /invalid learning rate `lr` = -0\.1/],
      [{ alpha: 1.5 }, /`alpha` must be in \[0, 1\], got 1\.5/],
      [{ alpha: -0.1 }, /invalid alpha value `alpha` = -0\.1/],
      [{ eps: -1e-8 }, /invalid epsilon value `eps` = -1e-8/],
      [{ momentum: -1 }, /invalid momentum value `momentum` = -1/],
      [{ weight_decay: -0.01 }, /invalid weight_decay value `weight_decay` = -0\.01/],
      [{ weightDecay: Infinity }, /`weightDecay` must be finite, got Infinity/],
      [{ lr: NaN }, /`lr` must be a number, got NaN/],
      [{ betas: [0.9, 0.99] }, /unknown key "betas"/],
      [{ maximize: true }, /`maximize` = true is not supported/],
      [{ weightDecay: 0.1, weight_decay: 0.2 }, /disagree/],
      [{ centered: 'yes' }, /`centered` must be a boolean, got "yes"/],
    ];
    for (const [group, message] of cases) {
      assert.throws(() => RMSprop.fromPyTorch(group as never), message, JSON.stringify(group));
    }
    assert.throws(() => RMSprop.fromPyTorch({}, { rho: 0.5 } as never), /`extra\.rho` is not allowed/);
  });
});
