// The loops of TF 2.4's RMSprop steps (flavor 'keras2'), f32x4 SIMD, compiled
// with AssemblyScript by scripts/build.mjs into the modules keras2.ts and
// keras2_ema.ts (every file at the top of wasm-src/ but common.ts is a module;
// the files of steps/ are the flavors' loops they share). A module is a leaf:
// it imports its memory (the wasm backend's heap, or the cpu kernel's private
// memory), has no data segments, no globals, no stack and no allocator, so
// instantiating it writes nothing. With `ema` (the _ema modules) a loop also
// takes Keras 3's average of the weights it has just computed (common.ts storeW4).
//
// Every function walks a table of `count` entries of eight u32 each,
//   [w, g, ms, mom, mg, n, avg, acc]   (byte offsets of float32 arrays, n elements;
// common.ts reads them), so all the variables of a step go through one call.
// `mom` / `mg` are read only by the forms that have those slots.
//
// The arithmetic is src/rules/keras2.ts operation for operation. f32x4 lanes
// are IEEE float32 (add, sub, mul, div, sqrt all correctly rounded), so the
// results equal the rules to the bit, NaN payloads aside. Offsets may be only
// 8-byte aligned (tfjs-wasm's allocator), so the v128 loads and stores are
// declared with alignment 4, which wasm allows at no cost on x86/ARM.

import { ENTRY, avg_, g_, ld, mg_, mom_, ms_, n_, st, storeW1, storeW4, w_ } from '../common';

// Momentum path, ApplyRMSProp / ApplyCenteredRMSProp:
//   ms += (g² − ms)·(1 − ρ);  mg += (g − mg)·(1 − ρ)                 (centered)
//   d = (ms − mg²) + ε | ms + ε;  s = (g·lr)/√d;  mom = mom·μ + s
//   w −= mom  |  w −= s + mom·μ                                      (Nesterov)
@inline export function momentumBody(table: usize, count: i32, lr: f32, omr: f32, mu: f32, eps: f32, centered: bool, nesterov: bool, ema: bool = false, emaM: f32 = 0, emaOmm: f32 = 0, emaOw: bool = false): void {
  const vlr = f32x4.splat(lr), vomr = f32x4.splat(omr), vmu = f32x4.splat(mu), veps = f32x4.splat(eps);
  const vEmaM = f32x4.splat(emaM), vEmaOmm = f32x4.splat(emaOmm);
  for (let k = 0; k < count; k++) {
    const e = table + <usize>k * ENTRY;
    const avgp = avg_(e), w = w_(e), g = g_(e), ms = ms_(e), mom = mom_(e), mg = mg_(e), n = n_(e) << 2;
    const n4 = n & ~<usize>15;
    let i: usize = 0;
    for (; i < n4; i += 16) {
      const gi = ld(g + i);
      const ms0 = ld(ms + i);
      const m = f32x4.add(ms0, f32x4.mul(f32x4.sub(f32x4.mul(gi, gi), ms0), vomr));
      st(ms + i, m);
      let d: v128;
      if (centered) {
        const mg0 = ld(mg + i);
        const a = f32x4.add(mg0, f32x4.mul(f32x4.sub(gi, mg0), vomr));
        st(mg + i, a);
        d = f32x4.add(f32x4.sub(m, f32x4.mul(a, a)), veps);
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
      const m = load<f32>(ms + i) + (gi * gi - load<f32>(ms + i)) * omr;
      store<f32>(ms + i, m);
      let d: f32;
      if (centered) {
        const a = load<f32>(mg + i) + (gi - load<f32>(mg + i)) * omr;
        store<f32>(mg + i, a);
        d = (m - a * a) + eps;
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

// Plain path (momentum == 0, Python ops of _resource_apply_dense):
//   ms = ρ·ms + (1 − ρ)·g²;  mg = ρ·mg + (1 − ρ)·g                      (centered)
//   w −= (lr·g)/(√(ms − mg²) + ε) | (lr·g)/(√ms + ε)
@inline export function plainBody(table: usize, count: i32, lr: f32, rho: f32, omr: f32, eps: f32, centered: bool, ema: bool = false, emaM: f32 = 0, emaOmm: f32 = 0, emaOw: bool = false): void {
  const vlr = f32x4.splat(lr), vrho = f32x4.splat(rho), vomr = f32x4.splat(omr), veps = f32x4.splat(eps);
  const vEmaM = f32x4.splat(emaM), vEmaOmm = f32x4.splat(emaOmm);
  for (let k = 0; k < count; k++) {
    const e = table + <usize>k * ENTRY;
    const avgp = avg_(e), w = w_(e), g = g_(e), ms = ms_(e), mg = mg_(e), n = n_(e) << 2;
    const n4 = n & ~<usize>15;
    let i: usize = 0;
    for (; i < n4; i += 16) {
      const gi = ld(g + i);
      const m = f32x4.add(f32x4.mul(vrho, ld(ms + i)), f32x4.mul(vomr, f32x4.mul(gi, gi)));
      st(ms + i, m);
      let d = m;
      if (centered) {
        const a = f32x4.add(f32x4.mul(vrho, ld(mg + i)), f32x4.mul(vomr, gi));
        st(mg + i, a);
        d = f32x4.sub(m, f32x4.mul(a, a));
      }
      const upd = f32x4.div(f32x4.mul(vlr, gi), f32x4.add(f32x4.sqrt(d), veps));
      storeW4(w + i, avgp + i, f32x4.sub(ld(w + i), upd), ema, vEmaM, vEmaOmm, emaOw);
    }
    for (; i < n; i += 4) {
      const gi = load<f32>(g + i);
      const m = rho * load<f32>(ms + i) + omr * (gi * gi);
      store<f32>(ms + i, m);
      let d = m;
      if (centered) {
        const a = rho * load<f32>(mg + i) + omr * gi;
        store<f32>(mg + i, a);
        d = m - a * a;
      }
      storeW1(w + i, avgp + i, load<f32>(w + i) - (lr * gi) / (Mathf.sqrt(d) + eps), ema, emaM, emaOmm, emaOw);
    }
  }
}

