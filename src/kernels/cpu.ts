/**
 * The `cpu` backend fallback when WebAssembly SIMD is unavailable: the
 * reference rules run in place on the tensors' own Float32Arrays. No tensor is
 * created and, in steady state, nothing is copied; the arithmetic is
 * src/rules (dense.ts, per flavor) itself, so it equals the reference to the bit.
 */
import { denseStep } from '../rules/dense.js';
import type { DenseState } from '../rules/types.js';
import { cpuOwnedValues, cpuValues, cpuWritableValues } from './cpu_backend.js';
import type { DenseKernel, DenseUpdate } from './types.js';

type Access = (t: DenseUpdate['variable']) => Float32Array | null;

function state(u: DenseUpdate, values: Access): DenseState | null {
  const w = values(u.variable);
  const ms = values(u.slots.rms);
  const mom = u.slots.momentum ? values(u.slots.momentum) : undefined;
  const mg = u.slots.mg ? values(u.slots.mg) : undefined;
  if (w === null || ms === null || mom === null || mg === null) return null;
  return { w, ms, mom, mg };
}

export const cpuKernel: DenseKernel = {
  name: 'cpu-inplace',
  unsupportedReason(u) {
    if (u.variable.dtype !== 'float32') return `dtype ${u.variable.dtype}`;
    if (cpuValues(u.grad) === null) return 'the gradient is not held by the cpu backend';
    if (state(u, cpuWritableValues) === null) return 'the variable or a slot shares its buffer with another tensor';
    return null;
  },
  run(updates, form, s) {
    for (const u of updates) {
      // Gradient first: if it aliases the variable, it must not see a private copy being swapped in.
      const g = cpuValues(u.grad) as Float32Array;
      denseStep(form, s, g, state(u, cpuOwnedValues) as DenseState);
    }
  },
};
