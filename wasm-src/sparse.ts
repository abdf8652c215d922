// TF 2.4's sparse momentum kernel (SparseApplyRMSProp, SparseApplyCenteredRMSProp)
// with f32x4 SIMD, over table entries that are each one row of a table:
// src/rules/keras2.ts's sparseMomentum operation for operation. Its
// reciprocal square root is `fround(1 / sqrt(d))` taken in float64 there, so
// here too: f64x2 lanes are IEEE doubles, and the results are equal to the bit.
// A leaf module, like keras2.ts; the entry layout is common.ts's.
import { ENTRY, g_, ld, mg_, mom_, ms_, n_, st, w_ } from './common';

@inline function rsqrt4(d: v128): v128 {
  const one = f64x2.splat(1.0);
  const lo = f64x2.div(one, f64x2.sqrt(f64x2.promote_low_f32x4(d)));
  const hi = f64x2.div(one, f64x2.sqrt(f64x2.promote_low_f32x4(v128.shuffle<i32>(d, d, 2, 3, 0, 1))));
  return v128.shuffle<i32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

// ms = ms·ρ + g²·(1 − ρ);  mg = mg·ρ + g·(1 − ρ);  d = (ms + ε) − mg² | ms + ε
// mom = mom·μ + rsqrt(d)·lr·g;  w −= mom
@inline function body(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32, centered: bool): void {
  const vlr = f32x4.splat(lr), vrho = f32x4.splat(rho), vomr = f32x4.splat(omr), vmu = f32x4.splat(mu), veps = f32x4.splat(eps);
  for (let k = 0; k < count; k++) {
    const e = table + <usize>k * ENTRY;
    const w = w_(e), g = g_(e), ms = ms_(e), mom = mom_(e), mg = mg_(e), n = n_(e) << 2;
    const n4 = n & ~<usize>15;
    let i: usize = 0;
    for (; i < n4; i += 16) {
      const gi = ld(g + i);
      const m = f32x4.add(f32x4.mul(ld(ms + i), vrho), f32x4.mul(f32x4.mul(gi, gi), vomr));
      st(ms + i, m);
      let d = f32x4.add(m, veps);
      if (centered) {
        const a = f32x4.add(f32x4.mul(ld(mg + i), vrho), f32x4.mul(gi, vomr));
        st(mg + i, a);
        d = f32x4.sub(d, f32x4.mul(a, a));
      }
      const mo = f32x4.add(f32x4.mul(ld(mom + i), vmu), f32x4.mul(f32x4.mul(rsqrt4(d), vlr), gi));
      st(mom + i, mo);
      st(w + i, f32x4.sub(ld(w + i), mo));
    }
    for (; i < n; i += 4) {
      const gi = load<f32>(g + i);
      const m = load<f32>(ms + i) * rho + (gi * gi) * omr;
      store<f32>(ms + i, m);
      let d = m + eps;
      if (centered) {
        const a = load<f32>(mg + i) * rho + gi * omr;
        store<f32>(mg + i, a);
        d = d - a * a;
      }
      const rs = <f32>(1.0 / Math.sqrt(<f64>d));
      const mo = load<f32>(mom + i) * mu + (rs * lr) * gi;
      store<f32>(mom + i, mo);
      store<f32>(w + i, load<f32>(w + i) - mo);
    }
  }
}

export function momentum(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32): void {
  body(table, count, lr, rho, omr, mu, eps, false);
}

export function momentumCentered(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32): void {
  body(table, count, lr, rho, omr, mu, eps, true);
}
