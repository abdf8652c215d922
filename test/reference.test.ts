/**
 * Every dense case of ../shared/reference/keras2.json, through applyGradients,
 * on the cpu and the wasm backend, checking variables and slots after each step.
 */
import { describe, test, before } from 'node:test';
import { isSparseCase, loadReferenceCases, optionsOf, replayDenseCase } from './support/reference.js';
import { BACKENDS, useBackend } from './support/tf.js';

const cases = loadReferenceCases().filter((c) => !isSparseCase(c));

for (const backend of BACKENDS) {
  describe(`keras2 reference trajectories, dense (${backend})`, () => {
    before(() => useBackend(backend));
    for (const c of cases) {
      test(c.id, (t) => {
        try {
          optionsOf(c);
        } catch (e) {
          if (/unknown schedule class/.test((e as Error).message)) {
            t.skip(`schedule class not built yet: ${(e as Error).message}`);
            return;
          }
          throw e;
        }
        replayDenseCase(c);
      });
    }
  });
}
