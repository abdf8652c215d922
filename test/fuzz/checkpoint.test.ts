/**
 * Fuzz: a checkpoint mid-run. An optimizer takes the first k steps of a random
 * stream; its weights (`getWeights`) and the variables' values go to a new
 * optimizer of the same configuration and new variables of the same names
 * (`setWeights` before the first step: state kept until each variable's first
 * gradient, matched by name), which takes the rest of the stream. Every step
 * after the checkpoint must end as in a run that never stopped (and brought
 * deferred rows up to date where getWeights did), and the state after a last
 * step that gives every variable a gradient must equal it to the bit.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as fc from 'fast-check';
import { RMSprop } from '../../src/index.js';
import { setFastKernelsEnabled } from '../../src/kernels/registry.js';
import { BACKENDS, tf, useBackend } from '../support/tf.js';
import { buildStep, configSpec, options, streamSpec, type ConfigSpec, type GradSpec, type StreamSpec } from './arbitraries.js';
import { assertSameStates, fuzzParameters, makeVariables, runCase, stateOf } from './harness.js';

const RUNS = 60;
let counter = 0;
const quiet = (): void => {};

/** The stream's steps from `k` on through a new optimizer restored from one that took the first `k`; null if some variable had no state at k. */
async function resumed(spec: ConfigSpec, stream: StreamSpec, k: number): Promise<Array<{ error: string | null; iterations: number; state: Float32Array[] }> | null> {
  const prefix = `ckpt${++counter}`;
  const shared: tf.Tensor[] = [];
  let vars = makeVariables(stream, prefix, shared);
  const first = new RMSprop(options(spec));
  first.warn = quiet;
  let second: RMSprop | null = null;
  try {
    if (stream.excludeFirst) first.excludeFromWeightDecay({ varList: [vars[0]] });
    const take = (opt: RMSprop, from: number, to: number, record: boolean) => stream.steps.slice(from, to).map((step) => {
      if (step.finalizeFirst) opt.finalizeVariableValues();
      const built = buildStep(stream, vars, step);
      let error: string | null = null;
      try { opt.applyGradients(built.arg); } catch (e) { error = (e as Error).message.split(prefix).join('<v>'); } finally { tf.dispose(built.tensors); }
      return { error, iterations: opt.iterations, state: record ? stateOf(opt, vars) : [] };
    });
    take(first, 0, k, false);
    // As the uninterrupted run does at k (with useEma this also sets the variables to their averages).
    first.finalizeVariableValues();
    const weights = await first.getWeights();
    // Every variable must have state at k (by name: Keras 3's averages and accumulators add entries too).
    const saved = new Set(weights.map((w) => w.name));
    if (!vars.every((v) => saved.has(`${v.name}/rms`))) {
      tf.dispose(weights.map((w) => w.tensor));
      return null;
    }
    const values = vars.map((v) => v.clone());
    first.dispose();
    tf.dispose([...vars, ...shared]);
    shared.length = 0;
    vars = values.map((t, i) => tf.variable(t, true, `${prefix}/v${i}`));
    tf.dispose(values);
    second = new RMSprop(options(spec));
    second.warn = quiet;
    if (stream.excludeFirst) second.excludeFromWeightDecay({ varList: [vars[0]] });
    await second.setWeights(weights);
    tf.dispose(weights.map((w) => w.tensor));
    return take(second, k, stream.steps.length, true);
  } finally {
    first.dispose();
    second?.dispose();
    tf.dispose([...vars, ...shared]);
  }
}

for (const backend of BACKENDS) {
  describe(`fuzz: a checkpoint mid-run changes nothing (${backend})`, () => {
    before(() => useBackend(backend));

    test(`${RUNS} random streams, restored at a random step, equal an uninterrupted run to the bit`, async () => {
      let compared = 0;
      const start = tf.memory().numTensors;
      await fc.assert(fc.asyncProperty(configSpec, streamSpec(false, 6), fc.nat(), async (spec, stream, at) => {
        if (stream.steps.length < 2) return;
        // Unshared variables only: a variable sharing its buffer takes the op chain until a step
        // writes it (accumulating calls and rowless sparse steps do not), while its restored copy
        // never shares and takes the kernels, whose sparse rows round differently from the op
        // chain's (TF's rsqrt, the sign of a zero). Sharing is fuzzed in parity.test.ts.
        stream = { ...stream, variables: stream.variables.map((v) => ({ ...v, shared: false })) };
        const k = 1 + (at % (stream.steps.length - 1));
        // State restored for a variable is taken up on its gradient; until then Keras 3's average
        // cannot move (the optimizer does not know the variable yet): the first step after the
        // restore must reach every variable for the two runs to agree (model.fit's steps always do).
        const reached = new Set(stream.steps[k].entries.filter(([, g]) => g.kind !== 'null').map(([i]) => i));
        if (spec.useEma === true && reached.size < stream.variables.length) return;
        // The uninterrupted run brings rows up to date where getWeights did. A last step
        // gives every variable a gradient, so state still kept for a variable's first
        // gradient after the restore is in use, and compared, by then.
        const everyone = { entries: stream.variables.map((_, i) => [i, { kind: 'dense', offset: 1, asArray: false, poison: [] }] as [number, GradSpec]), form: 'pairs' as const, finalizeFirst: false };
        const steps = [...stream.steps.map((s, i) => (i === k ? { ...s, finalizeFirst: true } : s)), everyone];
        const whole = runCase(spec, { ...stream, steps }, { fast: true });
        setFastKernelsEnabled(true);
        const rest = await resumed(spec, { ...stream, steps }, k);
        if (rest === null) return;
        rest.forEach((r, j) => {
          const w = whole.steps[k + j];
          assert.equal(r.error, w.error, `step ${k + j}: error`);
          assert.equal(r.iterations, w.iterations, `step ${k + j}: iterations`);
          if (j === rest.length - 1) assertSameStates(r.state, w.state, `step ${k + j}: state`);
        });
        compared++;
      }), fuzzParameters(RUNS));
      assert.equal(tf.memory().numTensors, start, 'no tensor left behind');
      assert.ok(compared > 0, 'some checkpoints were compared');
    });
  });
}
