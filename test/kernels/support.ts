/**
 * Shared pieces of the kernel tests: the four dense forms, seeded random data,
 * per-step scalars, and bitwise comparison. f32x4 lanes are IEEE float32, so
 * every kernel must equal the reference rules (src/rules/keras2.ts) to the bit;
 * only NaN payloads may differ (wasm leaves them unspecified), so any NaN
 * matches any NaN.
 */
import { f32 } from '../../src/util/f32.js';
import type { RMSpropOptions } from '../../src/index.js';
import type { StepScalars, UpdateForm } from '../../src/rules/types.js';

export const FORMS: readonly UpdateForm[] = [
  { path: 'plain', centered: false },
  { path: 'plain', centered: true },
  { path: 'momentum', centered: false },
  { path: 'momentum', centered: true },
];

export const formName = (f: UpdateForm): string => `${f.path}${f.centered ? '+centered' : ''}`;

export { rng } from '../support/random.js';

/**
 * A gradient with the values that stress float32: zeros (centered d = ε, NaN
 * neighbours in TF.js's own formula), magnitudes from 1e-20 to 1e6, both signs.
 */
export function randomGrad(n: number, r: () => number): Float32Array {
  const g = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = r();
    g[i] = u < 0.1 ? 0 : (r() < 0.5 ? -1 : 1) * 10 ** (r() * 26 - 20);
  }
  return g;
}

export function randomValues(n: number, r: () => number, scale = 1): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = (r() * 2 - 1) * scale;
  return v;
}

/** Step scalars as the optimizer resolves them (float32), with a learning rate that changes per step. */
export function scalarsAt(step: number, r: () => number): StepScalars {
  const rho = f32(r() < 0.5 ? 0.9 : 0.95);
  return {
    lr: f32(0.001 * (1 + 9 * r()) / (1 + step * 0.1)),
    rho,
    oneMinusRho: f32(1 - rho),
    momentum: f32(r() < 0.5 ? 0.9 : 0.5),
    epsilon: f32(r() < 0.5 ? 1e-7 : 1e-3),
  };
}

/** Bitwise equality of float32 data, except that any NaN matches any NaN. */
export function assertSameFloats(actual: ArrayLike<number>, expected: Float32Array, what: string): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  const a = Float32Array.from(actual);
  const ab = new Uint32Array(a.buffer);
  const eb = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    if (ab[i] !== eb[i] && !(Number.isNaN(a[i]) && Number.isNaN(expected[i]))) {
      throw new Error(`${what}[${i}]: got ${a[i]}, expected ${expected[i]} (bits 0x${ab[i].toString(16)} vs 0x${eb[i].toString(16)})`);
    }
  }
}

export type Clip = Pick<RMSpropOptions, 'clipvalue' | 'clipnorm' | 'globalClipnorm'>;

/**
 * TF 2.4's clipping of one step's gradients, in float32, with float64 norms:
 * TF's formulas written out, independent of the kernels' code.
 */
export function clipInJs(grads: Float32Array[], c: Clip): Float32Array[] {
  const f = f32;
  let out = grads.map((g) => g.slice());
  if (c.clipvalue != null) {
    const hi = f(c.clipvalue);
    out = out.map((g) => g.map((x) => Math.max(Math.min(x, hi), -hi)));
  }
  const sumSq = (g: Float32Array): number => g.reduce((s, x) => s + f(x * x), 0);
  if (c.clipnorm != null) {
    const cn = f(c.clipnorm);
    out = out.map((g) => {
      const l2sum = f(sumSq(g));
      const dn = Math.max(l2sum > 0 ? f(Math.sqrt(l2sum)) : l2sum, cn);
      return g.map((x) => f(f(x * cn) / dn));
    });
  }
  if (c.globalClipnorm != null) {
    const gc = f(c.globalClipnorm);
    const half = out.reduce((h, g) => f(h + f(f(sumSq(g)) / 2)), 0);
    const norm = f(Math.sqrt(f(half * 2)));
    const scale = f(f(gc * Math.min(f(1 / norm), f(1 / gc))) + f(norm - norm));
    out = out.map((g) => g.map((x) => f(x * scale)));
  }
  return out;
}
