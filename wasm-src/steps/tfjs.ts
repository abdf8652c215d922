// TF.js's tf.train.rmsprop (flavor 'tfjs'), f32x4, the arithmetic of
// src/rules/tfjs.ts operation for operation (always the momentum form):
//   ms = ms·ρ + g²·(1−ρ);  mg = mg·ρ + g·(1−ρ);  d = ms − (mg² − ε) | ms + ε
//   s = (g·lr)/√d;  mom = mom·μ + s;  w −= mom  |  w −= s + mom·μ (Nesterov)
import { ENTRY, avg_, g_, ld, mg_, mom_, ms_, n_, st, storeW1, storeW4, w_ } from '../common';

@inline export function body(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32, centered: bool, nesterov: bool, ema: bool = false, emaM: f32 = 0, emaOmm: f32 = 0, emaOw: bool = false): void {
  const vlr = f32x4.splat(lr), vrho = f32x4.splat(rho), vomr = f32x4.splat(omr), vmu = f32x4.splat(mu), veps = f32x4.splat(eps);
  const vEmaM = f32x4.splat(emaM), vEmaOmm = f32x4.splat(emaOmm);
  for (let k = 0; k < count; k++) {
    const e = table + <usize>k * ENTRY;
    const avgp = avg_(e), w = w_(e), g = g_(e), ms = ms_(e), mom = mom_(e), mg = mg_(e), n = n_(e) << 2;
    const n4 = n & ~<usize>15;
    let i: usize = 0;
    for (; i < n4; i += 16) {
      const gi = ld(g + i);
      const m = f32x4.add(f32x4.mul(ld(ms + i), vrho), f32x4.mul(f32x4.mul(gi, gi), vomr));
      st(ms + i, m);
      let d: v128;
      if (centered) {
        const a = f32x4.add(f32x4.mul(ld(mg + i), vrho), f32x4.mul(gi, vomr));
        st(mg + i, a);
        d = f32x4.sub(m, f32x4.sub(f32x4.mul(a, a), veps));
      } else {
        d = f32x4.add(m, veps);
      }
      const s = f32x4.div(f32x4.mul(gi, vlr), f32x4.sqrt(d));
      const mo = f32x4.add(f32x4.mul(ld(mom + i), vmu), s);
      st(mom + i, mo);
      storeW4(w + i, avgp + i, f32x4.sub(ld(w + i), nesterov ? f32x4.add(s, f32x4.mul(mo, vmu)) : mo), ema, vEmaM, vEmaOmm, emaOw);
    }
    for (; i < n; i += 4) {
      const gi = load<f32>(g + i);
      const m = load<f32>(ms + i) * rho + (gi * gi) * omr;
      store<f32>(ms + i, m);
      let d: f32;
      if (centered) {
        const a = load<f32>(mg + i) * rho + gi * omr;
        store<f32>(mg + i, a);
        d = m - (a * a - eps);
      } else {
        d = m + eps;
      }
      const s = (gi * lr) / Mathf.sqrt(d);
      const mo = load<f32>(mom + i) * mu + s;
      store<f32>(mom + i, mo);
      storeW1(w + i, avgp + i, load<f32>(w + i) - (nesterov ? s + mo * mu : mo), ema, emaM, emaOmm, emaOw);
    }
  }
}

