// Gradient clipping folded into the fused step (TF 2.4's `_transform_gradients`:
// clipvalue, then clipnorm, then globalClipnorm). Each gradient element becomes
//   x = ((max(min(g, hi), lo) · cn) / dn) · scale
// which is clip_by_value, clip_by_norm's `(t · c) / max(‖t‖, c)` and
// clip_by_global_norm's `t · scale`, operation for operation in float32. With
// lo = −∞, hi = +∞, cn = dn = 1 and scale = 1 each part is the identity to the
// bit, so one loop serves every combination. A leaf module, like keras2.ts.
//
// Table entries, six 32-bit words each:
//   [src, dst, n, cn (f32), dn (f32), flag]   (byte offsets, element count; flag: nonFinite's result)

const ENTRY: usize = 24;

@inline function src_(e: usize): usize { return <usize>load<u32>(e, 0); }
@inline function dst_(e: usize): usize { return <usize>load<u32>(e, 4); }
@inline function n_(e: usize): usize { return <usize>load<u32>(e, 8); }
@inline function cn_(e: usize): f32 { return load<f32>(e, 12); }
@inline function dn_(e: usize): f32 { return load<f32>(e, 16); }

// pmin/pmax are `b < a ? b : a` and `a < b ? b : a`: std::min/max as TF's Eigen
// kernels use them, so a NaN gradient stays NaN; one instruction each on x86,
// where f32x4.min/max need several.
@inline function clip4(g: v128, lo: v128, hi: v128, cn: v128, dn: v128): v128 {
  return f32x4.div(f32x4.mul(f32x4.pmax(f32x4.pmin(g, hi), lo), cn), dn);
}

@inline function bound4(g: v128, lo: v128, hi: v128): v128 {
  return f32x4.pmax(f32x4.pmin(g, hi), lo);
}

@inline function clip1(g: f32, lo: f32, hi: f32, cn: f32, dn: f32): f32 {
  // pmin and pmax exactly: NaN in, NaN out, and on a tie (±0 against ∓0) the
  // first operand, as Eigen's min/max keep it (clipvalue 0 clips 1 to +0, −0 to −0).
  const a = hi < g ? hi : g;
  const b = a < lo ? lo : a;
  return (b * cn) / dn;
}

// Writes Σ x² of each entry (squares rounded to float32, as TF squares in
// float32; summed in float64, which is as close to any float32 order as it gets)
// as an f64 at `out + 8k`. `scale` is not applied: the norms are taken before it.
export function sumSquares(table: usize, count: i32, lo: f32, hi: f32, out: usize): void {
  const vlo = f32x4.splat(lo), vhi = f32x4.splat(hi);
  for (let k = 0; k < count; k++) {
    const e = table + <usize>k * ENTRY;
    const src = src_(e), n = n_(e) << 2, cn = cn_(e), dn = dn_(e);
    const vcn = f32x4.splat(cn), vdn = f32x4.splat(dn);
    const n4 = n & ~<usize>15;
    let a = f64x2.splat(0), b = f64x2.splat(0);
    let i: usize = 0;
    // cn = dn = 1 is the identity: skip the division (a few cycles per vector).
    if (cn == 1 && dn == 1) {
      for (; i < n4; i += 16) {
        const x = bound4(v128.load(src + i, 0, 4), vlo, vhi);
        const sq = f32x4.mul(x, x);
        a = f64x2.add(a, f64x2.promote_low_f32x4(sq));
        b = f64x2.add(b, f64x2.promote_low_f32x4(v128.shuffle<i32>(sq, sq, 2, 3, 0, 1)));
      }
    } else {
      for (; i < n4; i += 16) {
        const x = clip4(v128.load(src + i, 0, 4), vlo, vhi, vcn, vdn);
        const sq = f32x4.mul(x, x);
        a = f64x2.add(a, f64x2.promote_low_f32x4(sq));
        b = f64x2.add(b, f64x2.promote_low_f32x4(v128.shuffle<i32>(sq, sq, 2, 3, 0, 1)));
      }
    }
    let sum = (f64x2.extract_lane(a, 0) + f64x2.extract_lane(b, 0)) + (f64x2.extract_lane(a, 1) + f64x2.extract_lane(b, 1));
    for (; i < n; i += 4) {
      const x = clip1(load<f32>(src + i), lo, hi, cn, dn);
      sum += <f64>(x * x);
    }
    store<f64>(out + (<usize>k << 3), sum);
  }
}

// dst = x · scale for each entry; dst may equal src.
export function apply(table: usize, count: i32, lo: f32, hi: f32, scale: f32): void {
  const vlo = f32x4.splat(lo), vhi = f32x4.splat(hi), vs = f32x4.splat(scale);
  for (let k = 0; k < count; k++) {
    const e = table + <usize>k * ENTRY;
    const src = src_(e), dst = dst_(e), n = n_(e) << 2, cn = cn_(e), dn = dn_(e);
    const vcn = f32x4.splat(cn), vdn = f32x4.splat(dn);
    const n4 = n & ~<usize>15;
    let i: usize = 0;
    if (cn == 1 && dn == 1) {
      for (; i < n4; i += 16) v128.store(dst + i, f32x4.mul(bound4(v128.load(src + i, 0, 4), vlo, vhi), vs), 0, 4);
    } else {
      for (; i < n4; i += 16) {
        v128.store(dst + i, f32x4.mul(clip4(v128.load(src + i, 0, 4), vlo, vhi, vcn, vdn), vs), 0, 4);
      }
    }
    for (; i < n; i += 4) {
      store<f32>(dst + i, clip1(load<f32>(src + i), lo, hi, cn, dn) * scale);
    }
  }
}

// For nonFinite 'skip' and 'error': sets each entry's last word to 0 when every
// element of `src` is finite and to 1 otherwise (a flag in the entry itself,
// read where the caller wrote the entry). An element is NaN
// or ±∞ exactly when its exponent bits are all set, so `x & 0x7f800000` equals
// the mask there and is below it everywhere else: the lanes keep the largest
// such value (one unsigned max each, no compare in the loop), and four
// accumulators keep the loop at the speed of its loads.
export function nonFinite(table: usize, count: i32): void {
  const mask = i32x4.splat(0x7f800000);
  for (let k = 0; k < count; k++) {
    const e = table + <usize>k * ENTRY;
    const src = src_(e), n = n_(e) << 2;
    const n16 = n & ~<usize>63;
    const n4 = n & ~<usize>15;
    let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
    let i: usize = 0;
    for (; i < n16; i += 64) {
      a0 = i32x4.max_u(a0, v128.and(v128.load(src + i, 0, 4), mask));
      a1 = i32x4.max_u(a1, v128.and(v128.load(src + i + 16, 0, 4), mask));
      a2 = i32x4.max_u(a2, v128.and(v128.load(src + i + 32, 0, 4), mask));
      a3 = i32x4.max_u(a3, v128.and(v128.load(src + i + 48, 0, 4), mask));
    }
    for (; i < n4; i += 16) a0 = i32x4.max_u(a0, v128.and(v128.load(src + i, 0, 4), mask));
    let bad = v128.any_true(i32x4.eq(i32x4.max_u(i32x4.max_u(a0, a1), i32x4.max_u(a2, a3)), mask));
    for (; i < n; i += 4) bad = bad || (load<u32>(src + i) & 0x7f800000) == 0x7f800000;
    store<u32>(e, bad ? 1 : 0, 20);
  }
}
