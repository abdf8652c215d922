/**
 * Fuzz: the fast kernels (SIMD on cpu and wasm, their row kernels, the fused
 * non-finite check and folded clipping) against the reference path
 * (`setFastKernelsEnabled(false)`: dense updates on the op chain, sparse rows
 * on the reference loops), over random configurations and gradient streams.
 * Every step must end the same way (the same error, or the same counts), and
 * the state must be equal to the bit wherever the two paths are equal today:
 * everything except dense updates of the 'pytorch' flavor (the op chain has no
 * fused multiply-add) and norm clipping folded into a kernel (its norms are
 * float64 sums, the op chain's float32 ones). Around every step the harness
 * checks the memory the step must not write (harness.ts).
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as fc from 'fast-check';
import { BACKENDS, useBackend } from '../support/tf.js';
import { configSpec, hasNormClipping, streamSpec, type ConfigSpec, type StreamSpec } from './arbitraries.js';
import { assertSameStates, fuzzParameters, runCase } from './harness.js';

/** Whether the two paths are equal to the bit on this case (see the header). */
export function bitComparable(spec: ConfigSpec, stream: StreamSpec): boolean {
  const densifies = spec.sparseMode === 'dense-equivalent' && (spec.weightDecay ?? 0) > 0;
  const dense = stream.steps.some((s) => s.entries.some(([, g]) => g.kind === 'dense' || (g.kind === 'slices' && densifies)));
  if (spec.flavor === 'pytorch' && dense) return false;
  // A step whose gradients are all dense may fold norm clipping into the kernel
  // (the first holds the canary's IndexedSlices, unless it is refused: then the next does).
  const foldable = stream.steps.slice(1).some((s) => s.entries.every(([, g]) => g.kind !== 'slices'));
  return !(hasNormClipping(spec) && foldable);
}

const RUNS = 150;

for (const backend of BACKENDS) {
  describe(`fuzz: fast kernels against the reference path (${backend})`, () => {
    before(() => useBackend(backend));

    test(`${RUNS} random configurations and gradient streams: the same outcome, the same bits`, () => {
      let compared = 0;
      let fastSteps = 0;
      fc.assert(fc.property(configSpec, streamSpec(true), (spec, stream) => {
        const fast = runCase(spec, stream, { fast: true, canaryVariable: true });
        const ref = runCase(spec, stream, { fast: false, canaryVariable: true });
        const exact = bitComparable(spec, stream);
        fast.steps.forEach((f, s) => {
          const r = ref.steps[s];
          assert.equal(f.error, r.error, `step ${s}: error`);
          assert.equal(f.iterations, r.iterations, `step ${s}: iterations`);
          assert.equal(f.skippedSteps, r.skippedSteps, `step ${s}: skippedSteps`);
          if (exact) assertSameStates(f.state, r.state, `step ${s}: state`);
          fastSteps += f.kernels.filter((k) => k !== 'tfops' && k !== 'skipped' && k.includes('-')).length;
        });
        if (exact) {
          assertSameStates(fast.final, ref.final, 'final state');
          compared++;
        }
      }), fuzzParameters(RUNS));
      assert.ok(compared > 0, 'some cases were compared to the bit');
      assert.ok(fastSteps > 0, 'the fast kernels ran');
    });
  });
}
