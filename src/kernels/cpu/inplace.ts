/**
 * The `cpu` backend without WebAssembly SIMD: the reference loops (src/rules)
 * run in place on the tensors' own Float32Arrays, dense steps and sparse rows
 * alike. No tensor is created and, in steady state, nothing is copied; the
 * arithmetic is the rules themselves, so it equals the reference to the bit.
 */
import { aroundStep, denseStep } from '../../rules/dense.js';
import { prepareRows, rowsStep } from '../../rules/rows.js';
import { rowPasses } from '../../rules/table.js';
import type { DenseState } from '../../rules/types.js';
import type { DenseKernel, RowKernel, RowTarget } from '../types.js';
import { cpuBackend, cpuOwnedValues, cpuValues, cpuWritableValues } from './storage.js';

type Access = (t: RowTarget['variable']) => Float32Array | null;

/** The host arrays of a variable and its slots (and EMA and accumulator), or null when one is not accessible. */
function state(u: RowTarget, values: Access): DenseState | null {
  const { rms, momentum, mg: mgSlot, ema, accumulator } = u.slots;
  const w = values(u.variable);
  const ms = values(rms);
  const mom = momentum ? values(momentum) : undefined;
  const mg = mgSlot ? values(mgSlot) : undefined;
  const avg = ema ? values(ema) : undefined;
  const acc = accumulator ? values(accumulator) : undefined;
  if (w === null || ms === null || mom === null || mg === null || avg === null || acc === null) return null;
  return { w, ms, mom, mg, avg, acc };
}

export const cpuKernel: DenseKernel = {
  name: 'cpu-inplace',
  unsupportedReason(u) {
    if (u.variable.dtype !== 'float32') return `dtype ${u.variable.dtype}`;
    if (cpuValues(u.grad) === null) return 'the gradient is not held by the cpu backend';
    if (state(u, cpuWritableValues) === null) return 'the variable or a slot shares its buffer with another tensor';
    return null;
  },
  foldsAround: true,
  run(updates, form, s, _clip, around) {
    for (const u of updates) {
      // Gradient first: if it aliases the variable, it must not see a private copy being swapped in.
      const g = cpuValues(u.grad) as Float32Array;
      const st = state(u, cpuOwnedValues) as DenseState;
      if (around === undefined) denseStep(form, s, g, st);
      else aroundStep(form, s, around, g, st);
    }
  },
};

export const cpuInplaceRows: RowKernel = {
  name: 'cpu-inplace-rows',
  reference: true,
  unsupportedReason(target) {
    if (cpuBackend() === null) return 'the cpu backend internals are not reachable';
    if (state(target, cpuWritableValues) === null) return 'the table or a slot shares its buffer with another tensor';
    return null;
  },
  run(target, job) {
    // cpuOwnedValues: on cpu an array the caller passed to tf.tensor can still be theirs.
    const st = state(target, cpuOwnedValues) as DenseState;
    if (job.values === null) prepareRows(st, job.rows, job.rowSize, job.catchUp);
    else rowsStep(st, job.rows, job.slice, job.values, job.rowSize, rowPasses(job.form, job.s, job.rule), job.form.centered, job.s, job.catchUp);
  },
};
