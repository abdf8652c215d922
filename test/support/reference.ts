/**
 * Loads ../shared/reference/keras2.json (format rmsprop-reference/1) and replays
 * a case through the public API: build from `config`, one `applyGradients` per
 * step, compare variables and slots after each step within the case's tolerance.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IndexedSlices, RMSprop, schedules, type RMSpropOptions } from '../../src/index.js';
import { assertClose, tf } from './tf.js';

export interface DenseGrad { dense: number[] }
export interface SparseGrad { indices: number[]; values: number[]; denseShape: number[] }
export interface ReferenceCase {
  id: string;
  description: string;
  config: Record<string, unknown> & { momentumIsCallable?: boolean };
  variables: Array<{ name: string; shape: number[]; init: number[] }>;
  steps: Array<{ grads: Array<DenseGrad | SparseGrad | null> }>;
  expected: Array<{ iterations: number; variables: number[][]; slots: Record<string, number[][]> }>;
  tolerance: { rtol: number; atol: number };
}

const here = dirname(fileURLToPath(import.meta.url));
export const REFERENCE_PATH = process.env.RMSPROP_REFERENCE ?? join(here, '..', '..', '..', 'shared', 'reference', 'keras2.json');

export function loadReferenceCases(): ReferenceCase[] {
  const doc = JSON.parse(readFileSync(REFERENCE_PATH, 'utf8')) as { format: string; cases: ReferenceCase[] };
  if (doc.format !== 'rmsprop-reference/1') throw new Error(`unexpected reference format ${doc.format}`);
  return doc.cases;
}

export function isSparseCase(c: ReferenceCase): boolean {
  return c.steps.some((s) => s.grads.some((g) => g !== null && 'indices' in g));
}

/** Optimizer options for a case: `momentumIsCallable` becomes `() => momentum`, a schedule is deserialized. */
export function optionsOf(c: ReferenceCase): RMSpropOptions {
  const { momentumIsCallable, ...rest } = c.config;
  const o: Record<string, unknown> = { ...rest };
  if (typeof o.learningRate === 'object' && o.learningRate !== null) {
    o.learningRate = schedules.deserialize(o.learningRate);
  }
  if (momentumIsCallable) {
    const m = o.momentum as number;
    o.momentum = () => m;
  }
  return o as RMSpropOptions;
}

/** Replays a case (dense or sparse gradients); throws on the first value outside tolerance. */
export function replayCase(c: ReferenceCase, extra: RMSpropOptions = {}): void {
  const opt = new RMSprop({ ...optionsOf(c), ...extra });
  const vars = c.variables.map((v) => tf.variable(tf.tensor(v.init, v.shape, 'float32'), true));
  try {
    c.steps.forEach((step, s) => {
      const pairs = step.grads.map((g, i) => {
        if (g === null) return [null, vars[i]] as const;
        if ('dense' in g) return [tf.tensor(g.dense, c.variables[i].shape, 'float32'), vars[i]] as const;
        const values = tf.tensor(g.values, [g.indices.length, ...c.variables[i].shape.slice(1)], 'float32');
        return [new IndexedSlices(values, g.indices, g.denseShape), vars[i]] as const;
      });
      const it = opt.applyGradients(pairs);
      tf.dispose(pairs.map((p) => (p[0] instanceof IndexedSlices ? p[0].values : p[0])).filter((g): g is tf.Tensor => g !== null));
      const exp = c.expected[s];
      if (it !== exp.iterations) throw new Error(`${c.id} step ${s + 1}: iterations ${it}, expected ${exp.iterations}`);
      const { rtol, atol } = c.tolerance;
      vars.forEach((v, i) => {
        assertClose(v.dataSync(), exp.variables[i], rtol, atol, `${c.id} step ${s + 1} ${c.variables[i].name}`);
        for (const [slot, values] of Object.entries(exp.slots)) {
          let actual: ArrayLike<number>;
          try {
            actual = opt.getSlot(v, slot).dataSync();
          } catch {
            actual = new Float32Array(values[i].length); // no slot yet: Keras reports zeros
          }
          assertClose(actual, values[i], rtol, atol, `${c.id} step ${s + 1} ${c.variables[i].name}/${slot}`);
        }
      });
      const names = opt.getSlotNames().sort().join(',');
      const expectedNames = Object.keys(exp.slots).sort().join(',');
      if (names !== expectedNames) throw new Error(`${c.id}: slots [${names}], expected [${expectedNames}]`);
    });
  } finally {
    opt.dispose();
    tf.dispose(vars);
  }
}
