/**
 * Random GPU kernel cases for the fuzz (Node's WebGPU here, WebGL and WebGPU in
 * Chromium): dense trajectories (every flavor, path, Nesterov, centering,
 * clipping by value, by norm or global, weight decay, or Keras 3's passes:
 * accumulation windows, loss scales from 1/4 to 2^20, the EMA; gradients and
 * state on the CPU or in WebGL textures of either layout) and sparse-row
 * trajectories (every sparse mode too; tables likewise), over one to four
 * variables or tables of random shapes: sizes on both sides of the vec4
 * shader's multiple of 4, of a WebGPU workgroup's 1,024 elements and of WebGL's
 * texture rows, in one to three dimensions. Gradients from 1e-20 to 1e6 and scalars come from each
 * case's seed (gpu_trajectory.ts, gpu_rows.ts).
 */
import assert from 'node:assert/strict';
import * as fc from 'fast-check';
import type { ClipOptions } from '../../src/clipping/scalar.js';
import { SPARSE_MODES } from '../../src/sparse/modes.js';
import { rowCaseName, type RowCase } from '../support/gpu_rows.js';
import { caseName, type CaseResult, type GpuCase } from '../support/gpu_trajectory.js';

const none: ClipOptions = { clipvalue: null, clipnorm: null, globalClipnorm: null };

const clip: fc.Arbitrary<ClipOptions> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(none) },
  {
    weight: 3,
    arbitrary: fc.record({
      clipvalue: fc.option(fc.constantFrom(1e-3, 0.25, 0.5, 3)),
      norm: fc.option(fc.constantFrom(1e-2, 0.5, 2, 50)),
      global: fc.boolean(),
    }).map(({ clipvalue, norm, global }) => ({ clipvalue, clipnorm: global ? null : norm, globalClipnorm: global ? norm : null })),
  },
);

const keras3 = fc.record({
  accumulationSteps: fc.option(fc.integer({ min: 2, max: 3 })),
  lossScale: fc.option(fc.constantFrom(0.25, 2, 1024, 2 ** 20)),
  ema: fc.boolean(),
});

/** A size: small, around a multiple of 4, around a WebGPU workgroup's 1,024 elements. */
const size = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 70 }) },
  { weight: 2, arbitrary: fc.integer({ min: 1020, max: 1030 }) },
  { weight: 1, arbitrary: fc.integer({ min: 2040, max: 2060 }) },
);
/** A variable's size: also, rarely, past 16,384 (WebGL's textures then wrap into more rows). */
const variableSize = fc.oneof({ weight: 12, arbitrary: size }, { weight: 1, arbitrary: fc.integer({ min: 16380, max: 16400 }) });

/** `n` as one dimension or, where it factors, two (`twoD`), rows first. */
function shapeOfSize(n: number, twoD: boolean): number[] {
  if (twoD) for (let a = Math.floor(Math.sqrt(n)); a > 1; a--) if (n % a === 0) return [a, n / a];
  return [n];
}

const shapeOf = fc.tuple(variableSize, fc.boolean()).map(([n, twoD]) => shapeOfSize(n, twoD));

export const gpuCase: fc.Arbitrary<GpuCase> = fc.record({
  flavor: fc.constantFrom('keras2' as const, 'keras3' as const, 'pytorch' as const, 'tfjs' as const),
  path: fc.constantFrom('plain' as const, 'momentum' as const, 'nesterov' as const),
  centered: fc.boolean(),
  // Keras 3's passes are traced without clipping, as the trajectory cases do.
  passes: fc.oneof({ weight: 3, arbitrary: clip.map((c) => ({ clip: c })) }, { weight: 1, arbitrary: keras3.map((k) => ({ keras3: k })) }),
  weightDecay: fc.constantFrom(0, 0, 1e-3, 0.05),
  steps: fc.integer({ min: 1, max: 4 }),
  shapes: fc.array(shapeOf, { minLength: 1, maxLength: 4 }),
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  gradientTextures: fc.constantFrom('cpu' as const, 'packed' as const, 'unpacked' as const),
  stateTextures: fc.constantFrom('cpu' as const, 'packed' as const, 'unpacked' as const),
}).map(({ flavor, path, passes, gradientTextures, stateTextures, ...rest }): GpuCase => ({
  ...rest,
  textures: {
    ...(gradientTextures === 'cpu' ? {} : { gradients: gradientTextures }),
    ...(stateTextures === 'cpu' ? {} : { state: stateTextures }),
  },
  flavor,
  // TF.js always keeps a momentum buffer: its plain form is the momentum path.
  path: path === 'plain' && flavor !== 'tfjs' ? 'plain' : 'momentum',
  ...(path === 'nesterov' ? { nesterov: true } : {}),
  clip: 'clip' in passes ? passes.clip : none,
  ...('keras3' in passes ? { keras3: passes.keras3 } : {}),
}));

/**
 * A table, rows first: up to 40 rows of any size, or, rarely, about 8,200 rows
 * of 1 to 3 elements (a WebGL texture too long for one row of texels).
 */
const tableShape = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.integer({ min: 1, max: 40 }), size, fc.boolean()) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 8190, max: 8210 }), fc.integer({ min: 1, max: 3 }), fc.constant(false)) },
).map(([rows, n, split]) => [rows, ...shapeOfSize(n, split)]);

export const rowCase: fc.Arbitrary<RowCase> = fc.record({
  flavor: fc.constantFrom('keras2' as const, 'keras3' as const, 'pytorch' as const, 'tfjs' as const),
  path: fc.constantFrom('plain' as const, 'momentum' as const, 'nesterov' as const),
  centered: fc.boolean(),
  mode: fc.constantFrom(...SPARSE_MODES),
  weightDecay: fc.constantFrom(0, 0, 1e-3, 0.05),
  steps: fc.integer({ min: 1, max: 5 }),
  shapes: fc.array(tableShape, { minLength: 1, maxLength: 3 }),
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  tableTextures: fc.constantFrom('cpu' as const, 'packed' as const, 'unpacked' as const),
}).map(({ flavor, path, mode, weightDecay, tableTextures, ...rest }): RowCase => ({
  ...rest,
  ...(tableTextures === 'cpu' ? {} : { tableTextures }),
  flavor,
  mode,
  path: path === 'plain' && flavor !== 'tfjs' ? 'plain' : 'momentum',
  ...(path === 'nesterov' ? { nesterov: true } : {}),
  // 'dense-equivalent' with weight decay is applied densified (every row gets a gradient): no rows.
  weightDecay: mode === 'dense-equivalent' ? 0 : weightDecay,
}));

/**
 * What a fuzzed case must give: the kernel took it, every compared value within
 * its bound, something compared. (Unlike the fixed cases, a short random one
 * need not tell its flavor from another.) Returns the count compared.
 */
export function assertFuzzedCase(r: CaseResult, where: string): number {
  assert.equal(r.kernelRefusal, undefined, `${where}: the kernel refused an exclusive float32 update: ${r.kernelRefusal}`);
  assert.equal(r.failure, undefined, `${where}: ${r.failure}`);
  assert.ok(r.compared > 0, `${where}: nothing compared`);
  return r.compared;
}

export function describeCase(c: GpuCase): string {
  return `${caseName(c)}, shapes ${JSON.stringify(c.shapes)}, ${c.steps} steps, seed ${c.seed}`;
}

export function describeRowCase(c: RowCase): string {
  return `${rowCaseName(c)}, tables ${JSON.stringify(c.shapes)}, ${c.steps} steps, seed ${c.seed}`;
}
