/**
 * Shared pieces of the flavor tests: PyTorch fixtures (test/fixtures/pytorch,
 * written by scripts/gen-pytorch-fixtures.py with PyTorch 1.13.1) and float
 * parsing of their values.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PyTorchStep {
  lr: number;
  step: number;
  grads: Array<Array<number | string>>;
  params: Array<Array<number | string>>;
  state: Array<{ square_avg: Array<number | string>; momentum_buffer?: Array<number | string>; grad_avg?: Array<number | string> }>;
}

export interface PyTorchFixture {
  name: string;
  torch: string;
  description: string;
  kwargs: Record<string, number | boolean>;
  shapes: number[][];
  initial: Array<Array<number | string>>;
  steps: PyTorchStep[];
  param_group: Record<string, unknown>;
}

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'pytorch');

export function pytorchFixtures(): PyTorchFixture[] {
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => ({
    name: f.replace(/\.json$/, ''),
    ...(JSON.parse(readFileSync(join(dir, f), 'utf8')) as Omit<PyTorchFixture, 'name'>),
  }));
}

/** Python's repr of non-finite floats ('nan', 'inf', '-inf') and plain numbers, as float32. */
export function f32s(values: ReadonlyArray<number | string>): Float32Array {
  return Float32Array.from(values, (v) => (typeof v === 'number' ? v : v === 'nan' ? NaN : v.startsWith('-') ? -Infinity : Infinity));
}
