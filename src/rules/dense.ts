/**
 * One dense step of any flavor as float32 loops: the reference every kernel is
 * tested against, and what the host kernels run in place. Its passes come from
 * the rule table, and Keras 3's passes around them from training.ts.
 */
import { densePasses } from './table.js';
import { aroundPasses, aroundScalars, COMBINE, UNSCALE, type Around } from './training.js';
import type { DenseState, StepScalars, UpdateForm } from './types.js';

/** One dense step of the given form over `[start, end)` of the state; the gradient of element `i` is `g[i + gShift]`. */
export function denseStep(
  form: UpdateForm, s: StepScalars, g: Float32Array, st: DenseState, start = 0, end = g.length, gShift = 0,
): void {
  for (const pass of densePasses(form, s)) pass.loop(s, form.centered, g, st, start, end, gShift);
}

/**
 * One optimizer call with Keras 3's passes over a whole variable: the gradient
 * divided by the loss scale and the combined gradient of an accumulation update
 * (in a copy: `g` is never written), then the rule's passes or the
 * accumulation, then the EMA (`st.avg`, `st.acc` as the call needs them).
 */
export function aroundStep(form: UpdateForm, s: StepScalars, around: Around, g: Float32Array, st: DenseState): void {
  const sx = aroundScalars(s, around);
  let grad = g;
  if (around.unscale !== null || around.combineSteps !== null) grad = g.slice();
  if (around.unscale !== null) UNSCALE.loop(sx, grad, 0, grad.length);
  if (around.combineSteps !== null) COMBINE.loop(sx, grad, st, 0, grad.length);
  const rule = around.phase === 'update' ? densePasses(form, s) : [];
  for (const pass of aroundPasses(rule, around)) pass.loop(sx, form.centered, grad, st, 0, grad.length, 0);
}
