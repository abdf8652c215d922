// Shared pieces of the kernel modules (keras2.ts, keras3.ts, tfjs.ts,
// pytorch.ts, sparse.ts, and the flavors' loops in steps/): the step-table
// layout, unaligned v128 access, the decoupled weight-decay pass, the EMA
// folded into an update loop, and a float32 fused multiply-add. Everything is
// @inline, so each module stays a leaf with no globals. Not a module itself:
// scripts/build.mjs compiles every other file at the top of wasm-src/.

// An entry: [w, g, ms, mom, mg, n, avg, acc], byte offsets of float32 arrays
// and the element count; avg (the EMA of w) and acc (the gradient accumulator)
// are read only by training.ts.
export const ENTRY: usize = 32;

@inline export function w_(e: usize): usize { return <usize>load<u32>(e, 0); }
@inline export function g_(e: usize): usize { return <usize>load<u32>(e, 4); }
@inline export function ms_(e: usize): usize { return <usize>load<u32>(e, 8); }
@inline export function mom_(e: usize): usize { return <usize>load<u32>(e, 12); }
@inline export function mg_(e: usize): usize { return <usize>load<u32>(e, 16); }
@inline export function n_(e: usize): usize { return <usize>load<u32>(e, 20); }
@inline export function avg_(e: usize): usize { return <usize>load<u32>(e, 24); }
@inline export function acc_(e: usize): usize { return <usize>load<u32>(e, 28); }

// Offsets may be only 8-byte aligned (tfjs-wasm's allocator): alignment 4.
@inline export function ld(p: usize): v128 { return v128.load(p, 0, 4); }
@inline export function st(p: usize, v: v128): void { v128.store(p, v, 0, 4); }

// The new weights of an update loop, stored; with `ema`, Keras 3's average
// taken from them while they are still in registers (training.ts's `ema`,
// operation for operation: avg ← m·avg + (1 − m)·w), and with `ow` the weights
// take the average. Folded in, the average costs its own read and write, which
// overlap the update's divisions and square roots: measured side by side on
// wasm at 1e6 (momentum), useEma cost 1.40x the step as a pass of its own after
// the update and 1.15x folded in.
@inline export function storeW4(w: usize, avg: usize, wn: v128, ema: bool, vm: v128, vomm: v128, ow: bool): void {
  if (ema) {
    const a = f32x4.add(f32x4.mul(vm, ld(avg)), f32x4.mul(vomm, wn));
    st(avg, a);
    st(w, ow ? a : wn);
  } else {
    st(w, wn);
  }
}

@inline export function storeW1(w: usize, avg: usize, wn: f32, ema: bool, m: f32, omm: f32, ow: bool): void {
  if (ema) {
    const a = m * load<f32>(avg) + omm * wn;
    store<f32>(avg, a);
    store<f32>(w, ow ? a : wn);
  } else {
    store<f32>(w, wn);
  }
}

// Keras 3's decoupled weight decay, before the update: w ← w − (w·wd)·lr.
@inline export function decayPass(table: usize, count: i32, lr: f32, wd: f32): void {
  const vlr = f32x4.splat(lr), vwd = f32x4.splat(wd);
  for (let k = 0; k < count; k++) {
    const e = table + <usize>k * ENTRY;
    const w = w_(e), n = n_(e) << 2;
    const n4 = n & ~<usize>15;
    let i: usize = 0;
    for (; i < n4; i += 16) {
      const wi = ld(w + i);
      st(w + i, f32x4.sub(wi, f32x4.mul(f32x4.mul(wi, vwd), vlr)));
    }
    for (; i < n; i += 4) {
      const wi = load<f32>(w + i);
      store<f32>(w + i, wi - (wi * wd) * lr);
    }
  }
}

// a·b + c rounded once to float32 (as PyTorch's AVX2 kernels compute add(alpha)
// and addcmul). a·b is exact in f64; the sum is rounded to odd at 53 bits (the
// TwoSum error forces the last bit odd when inexact), so demoting to f32 rounds
// correctly. NaN or infinite sums keep their plain value.
@inline function roundToOdd(p: v128, c: v128): v128 {
  const one = i64x2.splat(1);
  const zero = i64x2.splat(0);
  const s = f64x2.add(p, c);
  const z = f64x2.sub(s, p);
  const err = f64x2.add(f64x2.sub(p, f64x2.sub(s, z)), f64x2.sub(c, z));
  const fix = v128.and(i64x2.eq(v128.and(s, one), zero), v128.and(f64x2.ne(err, zero), f64x2.eq(err, err)));
  const delta = v128.or(i64x2.shr_s(v128.xor(s, err), 63), one);
  return i64x2.add(s, v128.and(delta, fix));
}

@inline function fmaLow(a: v128, b: v128, c: v128): v128 {
  return f32x4.demote_f64x2_zero(roundToOdd(
    f64x2.mul(f64x2.promote_low_f32x4(a), f64x2.promote_low_f32x4(b)), f64x2.promote_low_f32x4(c)));
}

export function fma4(a: v128, b: v128, c: v128): v128 {
  const lo = fmaLow(a, b, c);
  const hi = fmaLow(v128.shuffle<i32>(a, a, 2, 3, 0, 1), v128.shuffle<i32>(b, b, 2, 3, 0, 1), v128.shuffle<i32>(c, c, 2, 3, 0, 1));
  return v128.shuffle<i32>(lo, hi, 0, 1, 4, 5);
}

export function fma1(a: f32, b: f32, c: f32): f32 {
  const p = <f64>a * <f64>b;
  const cc = <f64>c;
  const s = p + cc;
  const z = s - p;
  const err = (p - (s - z)) + (cc - z);
  let bits = reinterpret<i64>(s);
  if (err != 0 && err == err && (bits & 1) == 0) bits += ((bits ^ reinterpret<i64>(err)) >> 63) | 1;
  return <f32>reinterpret<f64>(bits);
}
