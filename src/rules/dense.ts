/**
 * One dense step of any flavor as float32 loops: the reference every kernel is
 * tested against, and what the host kernels run in place. Its passes come from
 * the rule table.
 */
import { densePasses } from './table.js';
import type { DenseState, StepScalars, UpdateForm } from './types.js';

/** One dense step of the given form over `[start, end)` of the state; the gradient of element `i` is `g[i + gShift]`. */
export function denseStep(
  form: UpdateForm, s: StepScalars, g: Float32Array, st: DenseState, start = 0, end = g.length, gShift = 0,
): void {
  for (const pass of densePasses(form, s)) pass.loop(s, form.centered, g, st, start, end, gShift);
}
