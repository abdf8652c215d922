// PyTorch's RMSprop (flavor 'pytorch'), f32x4, the arithmetic of
// src/rules/pytorch.ts operation for operation, with its fused multiply-adds:
//   g = fma(w, wd, g);  ms = fma((1−α)·g, g, ms·α);  mg = fma(g, 1−α, mg·α)
//   avg = √fma(−mg, mg, ms) + ε | √ms + ε
//   buf = buf·μ + g/avg; w = fma(buf, −lr, w)  |  w = fma(fma(buf, μ, g/avg), −lr, w) (Nesterov)
//   |  w = w + (−lr·g)/avg
import { ENTRY, avg_, fma1, fma4, g_, ld, mg_, mom_, ms_, n_, st, storeW1, storeW4, w_ } from '../common';

export function body(table: usize, count: i32, lr: f32, rho: f32, omr: f32, mu: f32, eps: f32, wd: f32, momentum: bool, centered: bool, nesterov: bool = false, ema: bool = false, emaM: f32 = 0, emaOmm: f32 = 0, emaOw: bool = false): void {
  const nlr = -lr;
  const decays = wd != 0;
  const vnlr = f32x4.splat(nlr), vrho = f32x4.splat(rho), vomr = f32x4.splat(omr), vmu = f32x4.splat(mu), veps = f32x4.splat(eps), vwd = f32x4.splat(wd);
  const vEmaM = f32x4.splat(emaM), vEmaOmm = f32x4.splat(emaOmm);
  for (let k = 0; k < count; k++) {
    const e = table + <usize>k * ENTRY;
    const avgp = avg_(e), w = w_(e), g = g_(e), ms = ms_(e), mom = mom_(e), mg = mg_(e), n = n_(e) << 2;
    const n4 = n & ~<usize>15;
    let i: usize = 0;
    for (; i < n4; i += 16) {
      const wi = ld(w + i);
      let gi = ld(g + i);
      if (decays) gi = fma4(wi, vwd, gi);
      const m = fma4(f32x4.mul(vomr, gi), gi, f32x4.mul(ld(ms + i), vrho));
      st(ms + i, m);
      let avg: v128;
      if (centered) {
        const a = fma4(gi, vomr, f32x4.mul(ld(mg + i), vrho));
        st(mg + i, a);
        avg = f32x4.sqrt(fma4(f32x4.neg(a), a, m));
      } else {
        avg = f32x4.sqrt(m);
      }
      avg = f32x4.add(avg, veps);
      if (momentum) {
        const s = f32x4.div(gi, avg);
        const b = f32x4.add(f32x4.mul(ld(mom + i), vmu), s);
        st(mom + i, b);
        storeW4(w + i, avgp + i, fma4(nesterov ? fma4(b, vmu, s) : b, vnlr, wi), ema, vEmaM, vEmaOmm, emaOw);
      } else {
        storeW4(w + i, avgp + i, f32x4.add(wi, f32x4.div(f32x4.mul(vnlr, gi), avg)), ema, vEmaM, vEmaOmm, emaOw);
      }
    }
    for (; i < n; i += 4) {
      const wi = load<f32>(w + i);
      let gi = load<f32>(g + i);
      if (decays) gi = fma1(wi, wd, gi);
      const m = fma1(omr * gi, gi, load<f32>(ms + i) * rho);
      store<f32>(ms + i, m);
      let avg: f32;
      if (centered) {
        const a = fma1(gi, omr, load<f32>(mg + i) * rho);
        store<f32>(mg + i, a);
        avg = Mathf.sqrt(fma1(-a, a, m));
      } else {
        avg = Mathf.sqrt(m);
      }
      avg = avg + eps;
      if (momentum) {
        const s = gi / avg;
        const b = load<f32>(mom + i) * mu + s;
        store<f32>(mom + i, b);
        storeW1(w + i, avgp + i, fma1(nesterov ? fma1(b, mu, s) : b, nlr, wi), ema, emaM, emaOmm, emaOw);
      } else {
        storeW1(w + i, avgp + i, wi + (nlr * gi) / avg, ema, emaM, emaOmm, emaOw);
      }
    }
  }
}

