/**
 * One dense step of any flavor: the dispatch every implementation that runs
 * the rules on host arrays shares (cpu in place, the wasm heap from JS, the
 * sparse rows), and the reference the SIMD kernels are tested against.
 */
// Module-local on purpose: an imported binding is a getter per call in transpiled code.
const f32 = Math.fround;
import { FLAVOR_SPECS } from './flavors.js';
import { denseStep as keras2Step } from './keras2.js';
import { keras3Step } from './keras3.js';
import { pytorchStep } from './pytorch.js';
import { tfjsStep } from './tfjs.js';
import type { DenseState, StepScalars, UpdateForm } from './types.js';

/**
 * Keras 3's decoupled weight decay (`base_optimizer._apply_weight_decay`):
 * `w ← w − (w·wd)·lr`, with the step's learning rate, before the update.
 */
export function decoupledDecay(s: StepScalars, w: Float32Array, start: number, end: number): void {
  const wd = s.weightDecay ?? 0;
  const lr = s.lr;
  for (let i = start; i < end; i++) w[i] = f32(w[i] - f32(f32(w[i] * wd) * lr));
}

/** Whether a step of this form and these scalars starts with a decoupled weight-decay pass. */
export function hasDecoupledDecay(form: UpdateForm, s: StepScalars): boolean {
  return (s.weightDecay ?? 0) !== 0 && FLAVOR_SPECS[form.flavor ?? 'keras2'].weightDecay === 'decoupled';
}

/**
 * One dense step of the given form over `[start, end)` of the state; the
 * gradient of element `i` is `g[i + gShift]` (see keras2.ts).
 */
export function denseStep(
  form: UpdateForm, s: StepScalars, g: Float32Array, st: DenseState, start = 0, end = g.length, gShift = 0,
): void {
  if (hasDecoupledDecay(form, s)) decoupledDecay(s, st.w, start, end);
  const momentumPath = form.path === 'momentum';
  switch (form.flavor ?? 'keras2') {
    case 'keras2': keras2Step(form, s, g, st, start, end, gShift); break;
    case 'keras3': keras3Step(s, momentumPath, form.centered, g, st, start, end, gShift); break;
    case 'pytorch': pytorchStep(s, momentumPath, form.centered, g, st, start, end, gShift); break;
    case 'tfjs': tfjsStep(s, form.centered, g, st, start, end, gShift); break;
  }
}
