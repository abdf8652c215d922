/**
 * Fuzz: bad input. After a random configuration has taken a few random steps,
 * one bad call of a random kind (a gradient of the wrong shape or dtype, a
 * disposed one, a string in a nested array, rows out of range, a variable twice,
 * a hyperparameter function returning what float32 or the range refuses, a
 * non-finite gradient under nonFinite 'error', weights of the wrong count,
 * shape, dtype or iteration count, ...), the bad entry at a random place among
 * good ones. Each must throw an error that names the argument, and change
 * nothing: every variable and slot to the bit, the counts, the slot names. The
 * optimizer then takes a good step as usual. Options and configs: a bad value
 * for any option is refused naming the option, and every valid configuration
 * survives getConfig → JSON → fromConfig.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as fc from 'fast-check';
import { IndexedSlices, RMSprop, schedules, type RMSpropOptions } from '../../src/index.js';
import { BACKENDS, tf, useBackend } from '../support/tf.js';
import { buildStep, configSpec, fill, options, streamSpec, type ConfigSpec, type StreamSpec } from './arbitraries.js';
import { assertSameStates, fuzzParameters, makeVariables, rawSlots } from './harness.js';

/** A bad call: what it is, where the bad entry goes among the good ones, and the bad value where one is drawn. */
interface BadCall {
  kind: (typeof KINDS)[number];
  at: number;
  value: unknown;
}

const KINDS = [
  'shape', 'dtype', 'disposedGradient', 'duplicate', 'nested', 'rowOutOfRange', 'rowShape', 'rowDtype', 'slicesOnScalar',
  'notVariable', 'disposedVariable', 'intVariable', 'allNull', 'notPair', 'unknownName', 'nonFiniteError',
  'rhoFn', 'momentumFn', 'learningRateFn', 'schedule', 'badIndex',
  'weightsCount', 'weightsShape', 'weightsDtype', 'iterations', 'weightsNotArray', 'weightsEntry', 'weightsDisposed',
] as const;

const badNumber = fc.constantFrom(NaN, Infinity, -Infinity, -1, 2, 1e300, -1e-300, 'x', undefined, null, true);

const badCall: fc.Arbitrary<BadCall> = fc.record({
  kind: fc.constantFrom(...KINDS),
  at: fc.nat(),
  value: fc.oneof(badNumber, fc.constantFrom('x', true, null, {}, [1]), fc.constantFrom(1e30, -1, 1.5, 2 ** 31)),
});

interface Ctx {
  opt: RMSprop;
  vars: tf.Variable[];
  /** Flags the switchable hyperparameters read (see `switchable`). */
  bad: { rho: unknown; momentum: unknown; learningRate: unknown; schedule: unknown };
}

const quiet = (): void => {};

/** A schedule whose value turns bad when the flag is set. */
class Switch extends schedules.LearningRateSchedule {
  constructor(private readonly bad: Ctx['bad']) { super(); }
  static get className(): string { return 'FuzzSwitch'; }
  valueAt(): number { return (this.bad.schedule !== undefined ? this.bad.schedule : 0.01) as number; }
  getConfig(): tf.serialization.ConfigDict { return {}; }
}

/**
 * The configuration's options with rho, momentum and the learning rate read
 * through functions that return a bad value once a flag is set: the same
 * optimizer steps normally, then is handed a bad value mid-run.
 */
function switchable(spec: ConfigSpec, bad: Ctx['bad'], kind: BadCall['kind']): RMSpropOptions {
  const o = options(spec) as Record<string, unknown>;
  const read = (v: unknown): number => (typeof v === 'function' ? (v as () => number)() : v as number);
  if (kind === 'rhoFn') { const rho = o.rho ?? 0.9; o.rho = () => (bad.rho !== undefined ? bad.rho : read(rho)) as number; }
  if (kind === 'momentumFn') { const m = o.momentum ?? 0; o.momentum = () => (bad.momentum !== undefined ? bad.momentum : read(m)) as number; }
  if (kind === 'learningRateFn' || kind === 'schedule') {
    delete o.lr;
    delete o.learningRate;
    if (kind === 'learningRateFn') o.learningRate = () => (bad.learningRate !== undefined ? bad.learningRate : 0.01) as number;
    else o.learningRate = new Switch(bad);
  }
  return o as RMSpropOptions;
}

/** Everything a refused call must leave as it was. */
function snapshot(ctx: Ctx): { state: Float32Array[]; iterations: number; skipped: number; slots: string[] } {
  ctx.opt.finalizeVariableValues();
  const state: Float32Array[] = [];
  for (const v of ctx.vars) {
    state.push(Float32Array.from(v.dataSync()));
    const s = rawSlots(ctx.opt, v);
    for (const t of [s?.rms, s?.momentum, s?.mg]) if (t !== undefined) state.push(Float32Array.from(t.dataSync()));
  }
  return { state, iterations: ctx.opt.iterations, skipped: ctx.opt.skippedSteps, slots: ctx.opt.getSlotNames() };
}

const q = (name: string): string => `"${name.replace(/[/\\^$.*+?()[\]{}|]/g, '\\$&')}"`;

/**
 * Makes the bad call. Returns the call, the pattern its message must match (it
 * names the argument), and the tensors to dispose afterwards; null when the
 * kind does not apply to this optimizer (it is then skipped).
 */
async function prepare(ctx: Ctx, bad: BadCall): Promise<{ call: () => unknown; expect: RegExp; made: tf.Tensor[] } | null> {
  const { opt, vars } = ctx;
  const made: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => { made.push(t); return t; };
  const k = bad.at % vars.length;
  const v = vars[k];
  const good = (): Array<[unknown, unknown]> => vars.map((u) => [keep(tf.tensor(fill([0.5, -1, 2], u.size, 0), u.shape)), u]);
  const withBad = (entry: [unknown, unknown]): { pairs: Array<[unknown, unknown]>; entry: number } => {
    const pairs = good();
    pairs[k] = entry;
    return { pairs, entry: k };
  };
  const apply = (pairs: unknown) => () => opt.applyGradients(pairs as never);
  const named = `variable ${q(v.name)} \\(entry ${k}\\)`;
  const rows = v.shape[0];
  const wrongShape = v.rank === 0 ? [2] : [...v.shape.slice(0, -1), v.shape[v.rank - 1] + 1];
  switch (bad.kind) {
    case 'shape':
      return { call: apply(withBad([keep(tf.zeros(wrongShape)), v]).pairs), expect: new RegExp(`the gradient for ${named} has shape \\[${wrongShape}\\], but the variable has shape`), made };
    case 'dtype':
      return { call: apply(withBad([keep(tf.zeros(v.shape, 'int32')), v]).pairs), expect: new RegExp(`the gradient for ${named} has dtype int32, expected float32`), made };
    case 'disposedGradient': {
      const g = tf.zeros(v.shape);
      g.dispose();
      return { call: apply(withBad([g, v]).pairs), expect: new RegExp(`the gradient for ${named} has been disposed`), made };
    }
    case 'duplicate': {
      const pairs = good();
      pairs.splice(bad.at % (pairs.length + 1), 0, [keep(tf.zeros(v.shape)), v]);
      return { call: apply(pairs), expect: new RegExp(`variable ${q(v.name)} \\(entry \\d+\\) appears more than once in one step`), made };
    }
    case 'nested': {
      if (v.size === 0) return null;
      // (A 0-d variable's null "array" is a missing gradient, not a bad one.)
      const leaf = bad.value === undefined || typeof bad.value === 'number' || Array.isArray(bad.value) || (bad.value === null && v.rank === 0) ? 'x' : bad.value;
      const flat: unknown[] = Array.from(fill([1, 2], v.size, 0));
      const at = bad.at % v.size;
      flat[at] = leaf;
      const nest = (xs: unknown[], shape: number[]): unknown => (shape.length === 0 ? xs[0] : Array.from({ length: shape[0] }, (_, i) => {
        const n = shape.slice(1).reduce((a, b) => a * b, 1);
        return nest(xs.slice(i * n, (i + 1) * n), shape.slice(1));
      }));
      const shown = leaf === null ? 'null' : typeof leaf === 'string' ? `"${leaf}"` : typeof leaf === 'boolean' ? String(leaf) : '';
      return { call: apply(withBad([nest(flat, v.shape), v]).pairs), expect: new RegExp(`the gradient for ${named} holds ${shown.replace(/[[\]{}]/g, '\\$&')}.* at (\\[\\d+\\])+|its top`), made };
    }
    case 'rowOutOfRange': {
      if (v.rank === 0) return null;
      const slices = new IndexedSlices(keep(tf.zeros([2, ...v.shape.slice(1)])), [0, rows + (bad.at % 3)]);
      return { call: apply(withBad([slices, v]).pairs), expect: new RegExp(`entry ${k}: index ${rows + (bad.at % 3)} at offset 1 is out of range for variable ${q(v.name)} with ${rows} rows`), made };
    }
    case 'rowShape': {
      if (v.rank === 0) return null;
      const slices = new IndexedSlices(keep(tf.zeros([1, ...v.shape.slice(1), 2])), [0]);
      return { call: apply(withBad([slices, v]).pairs), expect: new RegExp(`entry ${k}: the IndexedSlices values for ${q(v.name)} have shape`), made };
    }
    case 'rowDtype': {
      if (v.rank === 0) return null;
      const slices = new IndexedSlices(keep(tf.zeros([1, ...v.shape.slice(1)], 'int32')), [0]);
      return { call: apply(withBad([slices, v]).pairs), expect: new RegExp(`entry ${k}: the IndexedSlices values for ${q(v.name)} have dtype int32`), made };
    }
    case 'slicesOnScalar': {
      if (v.rank !== 0) return null;
      const slices = new IndexedSlices(keep(tf.zeros([1])), [0]);
      return { call: apply(withBad([slices, v]).pairs), expect: new RegExp(`a sparse gradient cannot update the 0-d variable ${q(v.name)}`), made };
    }
    case 'notVariable':
      return { call: apply(withBad([keep(tf.zeros(v.shape)), keep(tf.zeros(v.shape))]).pairs), expect: new RegExp(`entry ${k} must pair a gradient with a tf.Variable`), made };
    case 'disposedVariable': {
      const gone = tf.tidy(() => tf.variable(tf.zeros([2]), true, `${v.name}-gone`));
      gone.dispose();
      return { call: apply(withBad([keep(tf.zeros([2])), gone]).pairs), expect: new RegExp(`variable ${q(gone.name)} \\(entry ${k}\\) has been disposed`), made };
    }
    case 'intVariable': {
      const int = keep(tf.tidy(() => tf.variable(tf.zeros([2], 'int32'), true, `${v.name}-int`)));
      return { call: apply(withBad([keep(tf.zeros([2])), int]).pairs), expect: new RegExp(`variable ${q(int.name)} \\(entry ${k}\\) has dtype int32; only float32 variables can be trained`), made };
    }
    case 'allNull':
      return { call: apply(vars.map((u) => [null, u])), expect: /no gradients provided for any variable/, made };
    case 'notPair': {
      const pairs: unknown[] = good();
      pairs[k] = bad.at % 2 === 0 ? [pairs[k] as unknown[]][0].slice(0, 1) : [...(pairs[k] as unknown[]), 1];
      return { call: apply(pairs), expect: new RegExp(`entry ${k} must be a \\[gradient, variable\\] pair, got \\d elements`), made };
    }
    case 'unknownName': {
      const map: Record<string, tf.Tensor> = {};
      for (const u of vars) map[u.name] = keep(tf.zeros(u.shape));
      map[`${v.name}-nobody`] = keep(tf.zeros([1]));
      return { call: apply(map), expect: new RegExp(`no variable named ${q(`${v.name}-nobody`)} is registered`), made };
    }
    case 'nonFiniteError': {
      if (opt.nonFinite !== 'error' || v.size === 0) return null;
      const values = fill([1, 2], v.size, 0);
      values[bad.at % v.size] = [NaN, Infinity, -Infinity][bad.at % 3];
      return { call: apply(withBad([keep(tf.tensor(values, v.shape)), v]).pairs), expect: new RegExp(`the gradient for variable ${q(v.name)} holds NaN or ±Infinity \\(nonFinite: 'error'\\); nothing was changed`), made };
    }
    case 'rhoFn':
    case 'momentumFn': {
      const name = bad.kind === 'rhoFn' ? 'rho' : 'momentum';
      const value = typeof bad.value === 'number' && bad.value >= 0 && bad.value <= 1 ? 2 : bad.value;
      return {
        call: () => { ctx.bad[name] = value ?? 'x'; try { return opt.applyGradients(good() as never); } finally { ctx.bad[name] = undefined; } },
        expect: new RegExp(`the \`${name}\` function must return a number in \\[0, 1\\], got`), made,
      };
    }
    case 'learningRateFn':
    case 'schedule': {
      // A schedule may give any finite value, negative ones included (TF applies them); a function not.
      const fine = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(Math.fround(x)) && (bad.kind === 'schedule' || x >= 0);
      const value = fine(bad.value) ? NaN : bad.value;
      const key = bad.kind === 'learningRateFn' ? 'learningRate' : 'schedule';
      const expect = bad.kind === 'learningRateFn'
        ? /the `learningRate` function must return a finite number >= 0, got|the learning rate at step \d+ is .*, beyond float32's range/
        : /the learning-rate schedule FuzzSwitch gave .* at step \d+; expected a finite number|the learning rate at step \d+ is .*, beyond float32's range/;
      return {
        call: () => { ctx.bad[key] = value ?? 'x'; try { return opt.applyGradients(good() as never); } finally { ctx.bad[key] = undefined; } },
        expect, made,
      };
    }
    case 'badIndex': {
      if (v.rank === 0) return null;
      const index = [NaN, -1, 1.5, 2 ** 31, Infinity][bad.at % 5];
      return {
        call: () => new IndexedSlices(keep(tf.zeros([1, ...v.shape.slice(1)])), [index]),
        expect: /IndexedSlices: index .* at offset 0 (is not an integer|is negative|is too large)/, made,
      };
    }
    default:
      return prepareWeights(ctx, bad, made);
  }
}

async function prepareWeights(ctx: Ctx, bad: BadCall, made: tf.Tensor[]): Promise<{ call: () => unknown; expect: RegExp; made: tf.Tensor[] } | null> {
  const weights = await ctx.opt.getWeights();
  made.push(...weights.map((w) => w.tensor));
  if (weights.length < 2) return null; // no slots yet: setWeights keeps what it gets for later
  const i = 1 + (bad.at % (weights.length - 1));
  const w = weights.slice();
  const call = () => ctx.opt.setWeights(w as never);
  const name = q(w[i].name);
  switch (bad.kind) {
    case 'weightsCount':
      // One fewer is Keras's list without the iteration count: two fewer, or one more.
      if (bad.at % 2 === 0) w.splice(Math.min(i, w.length - 2), 2);
      else w.push(w[i]);
      return { call, expect: /expected \d+ weights \(the iteration count, then \d+ slot\(s\) for each of \d+ variables\), got \d+/, made };
    case 'weightsShape': {
      const t = tf.zeros([...w[i].tensor.shape, 2]);
      made.push(t);
      w[i] = { name: w[i].name, tensor: t };
      return { call, expect: new RegExp(`weight ${i} \\(${name}\\) has shape \\[.*\\], but .* has shape`), made };
    }
    case 'weightsDtype': {
      const t = tf.zeros(w[i].tensor.shape, 'int32');
      made.push(t);
      w[i] = { name: w[i].name, tensor: t };
      return { call, expect: new RegExp(`${name} has dtype int32, expected float32`), made };
    }
    case 'iterations': {
      const value = [1e30, -1, 1.5, 2 ** 31, NaN][bad.at % 5];
      const t = tf.scalar(value);
      made.push(t);
      w[0] = { name: 'iter', tensor: t };
      return { call, expect: /the iteration count must be an integer in \[0, 2\^31 − 1\], got/, made };
    }
    case 'weightsNotArray':
      return { call: () => ctx.opt.setWeights({ iter: w[0].tensor } as never), expect: /setWeights: expected an array of \{name, tensor\}/, made };
    case 'weightsEntry':
      w[i] = (bad.value ?? 'x') as never;
      return { call, expect: new RegExp(`setWeights: entry ${i} must be \\{name, tensor\\}`), made };
    case 'weightsDisposed': {
      const t = tf.clone(w[i].tensor);
      t.dispose();
      w[i] = { name: w[i].name, tensor: t };
      return { call, expect: new RegExp(`setWeights: the tensor of entry ${i} \\(${name}\\) has been disposed`), made };
    }
    default:
      throw new Error(`no such kind ${bad.kind}`);
  }
}

let counter = 0;

async function rejectionCase(spec: ConfigSpec, stream: StreamSpec, bad: BadCall, seen: Set<string>): Promise<void> {
  const prefix = `reject${++counter}`;
  const start = tf.memory().numTensors;
  const shared: tf.Tensor[] = [];
  const vars = makeVariables(stream, prefix, shared);
  const ctx: Ctx = { opt: null as never, vars, bad: { rho: undefined, momentum: undefined, learningRate: undefined, schedule: undefined } };
  let made: tf.Tensor[] = [];
  try {
    ctx.opt = new RMSprop(switchable(spec, ctx.bad, bad.kind));
    ctx.opt.warn = quiet;
    // Calls so far (what applyGradients returns); `iterations` counts updates, which gradient accumulation makes fewer.
    let calls = 0;
    for (const step of stream.steps) {
      const built = buildStep(stream, vars, step);
      try { calls = ctx.opt.applyGradients(built.arg); } catch { /* a warm-up step may be refused (nonFinite 'error'): fine */ } finally { tf.dispose(built.tensors); }
    }
    const prepared = await prepare(ctx, bad);
    if (prepared === null) return;
    made = prepared.made; // the call may add to it
    const before = snapshot(ctx);
    let error: Error | null = null;
    try {
      await prepared.call();
    } catch (e) {
      error = e as Error;
    }
    assert.ok(error !== null, `${bad.kind}: the call was accepted`);
    assert.match(error.message, prepared.expect, `${bad.kind}: the message`);
    const after = snapshot(ctx);
    assertSameStates(after.state, before.state, `${bad.kind}: state`);
    assert.deepEqual({ ...after, state: null }, { ...before, state: null }, `${bad.kind}: counts and slots`);
    seen.add(bad.kind);
    // A good step still goes through.
    const fine = vars.map((u) => [tf.zeros(u.shape), u] as const);
    let returned: number;
    try {
      returned = ctx.opt.applyGradients(fine as never);
    } finally {
      tf.dispose(fine.map(([g]) => g));
    }
    assert.equal(returned, calls + 1, `${bad.kind}: the next good step`);
  } finally {
    ctx.opt?.dispose();
    tf.dispose([...vars, ...made, ...shared]);
  }
  assert.equal(tf.memory().numTensors, start, `${bad.kind}: tensors left behind`);
}

const RUNS = 250;

for (const backend of BACKENDS) {
  describe(`fuzz: bad calls are refused with a clear error, before any change (${backend})`, () => {
    before(() => useBackend(backend));

    test(`${RUNS} random bad calls after random steps`, async () => {
      const seen = new Set<string>();
      const start = tf.memory().numTensors;
      await fc.assert(fc.asyncProperty(configSpec, streamSpec(false, 2), badCall,
        (spec, stream, bad) => rejectionCase(spec, stream, bad, seen)), fuzzParameters(RUNS));
      assert.equal(tf.memory().numTensors, start, 'no tensor left behind');
      if (process.env.FUZZ_RUNS === undefined) assert.ok(seen.size >= KINDS.length - 4, `kinds exercised: ${[...seen].join(', ')}`);
    });
  });
}

describe('fuzz: options and configs', () => {
  before(() => useBackend('cpu'));

  const NUMERIC = ['learningRate', 'lr', 'rho', 'momentum', 'epsilon', 'clipnorm', 'clipvalue', 'globalClipnorm', 'decay', 'weightDecay'] as const;
  const ENUMS = ['sparseMode', 'flavor', 'nonFinite', 'centered', 'name'] as const;

  test('a bad value for any option is refused, naming the option', () => {
    fc.assert(fc.property(configSpec, fc.constantFrom(...NUMERIC, ...ENUMS, 'unknown'), fc.oneof(badNumber, fc.constantFrom('', 'x', {}, [], new Map())), (spec, key, value) => {
      const o = options(spec) as Record<string, unknown>;
      if (key === 'unknown') o.beta1 = value;
      else {
        // Values the option takes are not bad: skip them.
        if ((key === 'epsilon' || key === 'clipnorm' || key === 'clipvalue' || key === 'globalClipnorm' || key === 'weightDecay') && value == null) return;
        if (key === 'centered' && typeof value === 'boolean') return;
        if (value === undefined) return; // not given: the default
        if (key === 'name' && typeof value === 'string' && value !== '') return;
        if (value === 2 && key !== 'rho' && key !== 'momentum') return;
        if (key === 'decay' && value == null) return;
        if (key === 'clipnorm') delete o.globalClipnorm;
        if (key === 'globalClipnorm') delete o.clipnorm;
        if (key === 'learningRate') delete o.lr;
        o[key] = value;
      }
      const named = key === 'unknown' ? 'unknown option "beta1"' : `\`${key}\``;
      assert.throws(() => new RMSprop(o as RMSpropOptions), (e: Error) => e.message.startsWith('RMSprop: ') && e.message.includes(named));
    }), fuzzParameters(400));
  });

  test('every valid configuration survives getConfig → JSON → fromConfig, in either key spelling', () => {
    fc.assert(fc.property(configSpec, fc.boolean(), (spec, snake) => {
      const config = new RMSprop(options(spec)).getConfig();
      const json = JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
      const given = snake ? Object.fromEntries(Object.entries(json).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v])) : json;
      const again = RMSprop.fromConfig(RMSprop, given as never).getConfig();
      assert.deepEqual(again, config);
    }), fuzzParameters(400));
  });

  test('a config with one bad value is refused by fromConfig, naming the key', () => {
    fc.assert(fc.property(configSpec, fc.constantFrom(...NUMERIC.filter((k) => k !== 'lr'), 'sparseMode', 'flavor', 'nonFinite'), badNumber, fc.boolean(), (spec, key, value, snake) => {
      if (value == null || (value === 2 && key !== 'rho' && key !== 'momentum')) return;
      const config = JSON.parse(JSON.stringify(new RMSprop(options(spec)).getConfig())) as Record<string, unknown>;
      if (key === 'clipnorm') delete config.globalClipnorm;
      if (key === 'globalClipnorm') delete config.clipnorm;
      const snakeKey = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
      if (snake && snakeKey !== key) {
        delete config[key];
        config[snakeKey] = value;
      } else config[key] = value;
      assert.throws(() => RMSprop.fromConfig(RMSprop, config as never), (e: Error) => e.message.includes(`\`${key}\``) || e.message.includes(`\`${snakeKey}\``));
    }), fuzzParameters(300));
  });
});
