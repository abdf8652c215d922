/**
 * The `cpu` backend implementation: the reference rules run in place on the
 * tensors' own Float32Arrays. No tensor is created and nothing is copied; the
 * arithmetic is src/rules/keras2.ts itself, so it equals the reference to the bit.
 */
import { denseStep } from '../rules/keras2.js';
import type { DenseState } from '../rules/types.js';
import { cpuValues, cpuWritableValues } from './cpu_backend.js';
import type { DenseKernel, DenseUpdate } from './types.js';

function state(u: DenseUpdate): DenseState | null {
  const w = cpuWritableValues(u.variable);
  const ms = cpuWritableValues(u.slots.rms);
  const mom = u.slots.momentum ? cpuWritableValues(u.slots.momentum) : undefined;
  const mg = u.slots.mg ? cpuWritableValues(u.slots.mg) : undefined;
  if (w === null || ms === null || mom === null || mg === null) return null;
  return { w, ms, mom, mg };
}

export const cpuKernel: DenseKernel = {
  name: 'cpu-inplace',
  unsupportedReason(u) {
    if (u.variable.dtype !== 'float32') return `dtype ${u.variable.dtype}`;
    if (cpuValues(u.grad) === null) return 'the gradient is not held by the cpu backend';
    if (state(u) === null) return 'the variable or a slot shares its buffer with another tensor';
    return null;
  },
  run(updates, form, s) {
    for (const u of updates) {
      denseStep(form, s, cpuValues(u.grad) as Float32Array, state(u) as DenseState);
    }
  },
};
