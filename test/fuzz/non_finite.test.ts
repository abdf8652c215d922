/**
 * Fuzz: `nonFinite: 'skip'` over random configurations and gradient streams in
 * which some gradients (dense, nested arrays, IndexedSlices values; any
 * variable, any element) hold NaN or ±Infinity. A step whose input holds one
 * changes nothing (every variable and slot to the bit, `iterations`) and counts
 * in `skippedSteps`; every other step ends exactly as it does for an optimizer
 * that never saw the poisoned steps. On the fast kernels' check and on the op
 * chain's.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as fc from 'fast-check';
import { BACKENDS, useBackend } from '../support/tf.js';
import { configSpec, streamSpec } from './arbitraries.js';
import { assertSameStates, fuzzParameters, runCase } from './harness.js';

const RUNS = 80;

for (const backend of BACKENDS) {
  for (const fast of [true, false]) {
    describe(`fuzz: nonFinite 'skip' (${backend}, ${fast ? 'fast kernels' : 'reference path'})`, () => {
      before(() => useBackend(backend));

      test(`${RUNS} random streams: a poisoned step changes nothing; the others as if it never came`, () => {
        let skipped = 0;
        fc.assert(fc.property(configSpec, streamSpec(true, 6), (spec, stream) => {
          const a = runCase(spec, stream, { fast, extra: { nonFinite: 'skip' } });
          const b = runCase(spec, stream, { fast, extra: { nonFinite: 'propagate' }, leaveOut: (_s, poisoned) => poisoned });
          let previous = a.initial;
          let count = 0;
          let j = 0;
          a.steps.forEach((step, s) => {
            if (a.poisoned[s]) {
              count++;
              assert.equal(step.error, null, `step ${s}: ${step.error}`);
              assert.deepEqual(step.kernels, step.kernels.map(() => 'skipped'));
              assertSameStates(step.state, step.finalized ?? previous, `step ${s} (skipped): state`);
            } else {
              const twin = b.steps[j++];
              assert.equal(step.error, twin.error, `step ${s}: error`);
              assert.equal(step.iterations, twin.iterations, `step ${s}: iterations`);
              assertSameStates(step.state, twin.state, `step ${s}: state`);
            }
            assert.equal(step.skippedSteps, count, `step ${s}: skippedSteps`);
            previous = step.state;
          });
          assertSameStates(a.final, b.final, 'final state');
          skipped += count;
        }), fuzzParameters(RUNS));
        assert.ok(skipped > 0, 'some steps were skipped');
      });
    });
  }
}
