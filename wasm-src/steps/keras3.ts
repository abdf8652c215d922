// Keras 3's RMSprop (flavor 'keras3'), f32x4, the arithmetic of src/rules/keras3.ts
// operation for operation; see steps/keras2.ts for the table and module rules.
//   ms = ρ·ms + (1−ρ)·g²;  mg = ρ·mg + (1−ρ)·g;  d = (ms − mg²) + ε | ms + ε
//   inc = (lr·g)/√d;  mom = μ·mom + inc; w −= mom  |  w −= inc + μ·mom (Nesterov)  |  w −= inc
import { ENTRY, avg_, g_, ld, mg_, mom_, ms_, n_, st, storeW1, storeW4, w_ } from '../common';

@inline export function body(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32, momentum: bool, centered: bool, nesterov: bool = false, ema: bool = false, emaM: f32 = 0, emaOmm: f32 = 0, emaOw: bool = false): void {
  const vlr = f32x4.splat(lr), vrho = f32x4.splat(rho), vomr = f32x4.splat(omr), vmu = f32x4.splat(mu), veps = f32x4.splat(eps);
  const vEmaM = f32x4.splat(emaM), vEmaOmm = f32x4.splat(emaOmm);
  for (let k = 0; k < count; k++) {
    const e = table + <usize>k * ENTRY;
    const avgp = avg_(e), w = w_(e), g = g_(e), ms = ms_(e), mom = mom_(e), mg = mg_(e), n = n_(e) << 2;
    const n4 = n & ~<usize>15;
    let i: usize = 0;
    for (; i < n4; i += 16) {
      const gi = ld(g + i);
      const m = f32x4.add(f32x4.mul(vrho, ld(ms + i)), f32x4.mul(vomr, f32x4.mul(gi, gi)));
      st(ms + i, m);
      let d: v128;
      if (centered) {
        const a = f32x4.add(f32x4.mul(vrho, ld(mg + i)), f32x4.mul(vomr, gi));
        st(mg + i, a);
        d = f32x4.add(f32x4.sub(m, f32x4.mul(a, a)), veps);
      } else {
        d = f32x4.add(m, veps);
      }
      const inc = f32x4.div(f32x4.mul(vlr, gi), f32x4.sqrt(d));
      if (momentum) {
        const mo = f32x4.add(f32x4.mul(vmu, ld(mom + i)), inc);
        st(mom + i, mo);
        storeW4(w + i, avgp + i, f32x4.sub(ld(w + i), nesterov ? f32x4.add(inc, f32x4.mul(vmu, mo)) : mo), ema, vEmaM, vEmaOmm, emaOw);
      } else {
        storeW4(w + i, avgp + i, f32x4.sub(ld(w + i), inc), ema, vEmaM, vEmaOmm, emaOw);
      }
    }
    for (; i < n; i += 4) {
      const gi = load<f32>(g + i);
      const m = rho * load<f32>(ms + i) + omr * (gi * gi);
      store<f32>(ms + i, m);
      let d: f32;
      if (centered) {
        const a = rho * load<f32>(mg + i) + omr * gi;
        store<f32>(mg + i, a);
        d = (m - a * a) + eps;
      } else {
        d = m + eps;
      }
      const inc = (lr * gi) / Mathf.sqrt(d);
      if (momentum) {
        const mo = mu * load<f32>(mom + i) + inc;
        store<f32>(mom + i, mo);
        storeW1(w + i, avgp + i, load<f32>(w + i) - (nesterov ? inc + mu * mo : mo), ema, emaM, emaOmm, emaOw);
      } else {
        storeW1(w + i, avgp + i, load<f32>(w + i) - inc, ema, emaM, emaOmm, emaOw);
      }
    }
  }
}

