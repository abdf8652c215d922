// Keras 3's base-optimizer passes around any rule (src/rules/training.ts,
// operation for operation), f32x4 over the table entries of common.ts:
//   unscale:      g ← g / loss_scale_factor   (g is the kernel's scratch)
//   accumulate:   acc ← g + acc
//   combine:      g ← (g + acc)/steps;  acc ← 0   (g is the kernel's scratch)
//   ema:          avg ← m·avg + (1 − m)·w
//   emaOverwrite: the same, then w ← avg
// A kernel calls them on the same table entries as the rule's passes, tile by
// tile, so the arrays they share are still in the caches.
import { ENTRY, acc_, avg_, g_, ld, n_, st, w_ } from './common';

export function accumulate(table: usize, count: i32): void {
  for (let k = 0; k < count; k++) {
    const e = table + <usize>k * ENTRY;
    const g = g_(e), acc = acc_(e), n = n_(e) << 2;
    const n16 = n & ~<usize>63, n4 = n & ~<usize>15;
    let i: usize = 0;
    for (; i < n16; i += 64) {
      st(acc + i, f32x4.add(ld(g + i), ld(acc + i)));
      st(acc + i + 16, f32x4.add(ld(g + i + 16), ld(acc + i + 16)));
      st(acc + i + 32, f32x4.add(ld(g + i + 32), ld(acc + i + 32)));
      st(acc + i + 48, f32x4.add(ld(g + i + 48), ld(acc + i + 48)));
    }
    for (; i < n4; i += 16) st(acc + i, f32x4.add(ld(g + i), ld(acc + i)));
    for (; i < n; i += 4) store<f32>(acc + i, load<f32>(g + i) + load<f32>(acc + i));
  }
}

export function combine(table: usize, count: i32, steps: f32): void {
  const vsteps = f32x4.splat(steps), zero = f32x4.splat(0);
  for (let k = 0; k < count; k++) {
    const e = table + <usize>k * ENTRY;
    const g = g_(e), acc = acc_(e), n = n_(e) << 2;
    const n4 = n & ~<usize>15;
    let i: usize = 0;
    for (; i < n4; i += 16) {
      st(g + i, f32x4.div(f32x4.add(ld(g + i), ld(acc + i)), vsteps));
      st(acc + i, zero);
    }
    for (; i < n; i += 4) {
      store<f32>(g + i, (load<f32>(g + i) + load<f32>(acc + i)) / steps);
      store<f32>(acc + i, 0);
    }
  }
}

// Two halves of each entry at once: two streams of `avg` in flight instead of
// one, which the caches serve faster (one array read from memory alone is the
// slowest stream of a step).
@inline function average(table: usize, count: i32, m: f32, omm: f32, overwrite: bool): void {
  const vm = f32x4.splat(m), vomm = f32x4.splat(omm);
  for (let k = 0; k < count; k++) {
    const e = table + <usize>k * ENTRY;
    const w = w_(e), avg = avg_(e), n = n_(e) << 2;
    const h = (n >> 1) & ~<usize>15;
    for (let i: usize = 0; i < h; i += 16) {
      const a = f32x4.add(f32x4.mul(vm, ld(avg + i)), f32x4.mul(vomm, ld(w + i)));
      const b = f32x4.add(f32x4.mul(vm, ld(avg + h + i)), f32x4.mul(vomm, ld(w + h + i)));
      st(avg + i, a);
      st(avg + h + i, b);
      if (overwrite) {
        st(w + i, a);
        st(w + h + i, b);
      }
    }
    const n4 = n & ~<usize>15;
    let i: usize = h << 1;
    for (; i < n4; i += 16) {
      const a = f32x4.add(f32x4.mul(vm, ld(avg + i)), f32x4.mul(vomm, ld(w + i)));
      st(avg + i, a);
      if (overwrite) st(w + i, a);
    }
    for (; i < n; i += 4) {
      const a = m * load<f32>(avg + i) + omm * load<f32>(w + i);
      store<f32>(avg + i, a);
      if (overwrite) store<f32>(w + i, a);
    }
  }
}

export function ema(table: usize, count: i32, m: f32, omm: f32): void { average(table, count, m, omm, false); }
export function emaOverwrite(table: usize, count: i32, m: f32, omm: f32): void { average(table, count, m, omm, true); }

// `unscale` from the caller's gradient into the kernel's scratch, over a table
// of clipping.ts's layout ([src, dst, n, ...] entries of 24 bytes): the
// division is the copy, one pass where a copy and then `unscale` made two.
export function unscaleInto(table: usize, count: i32, factor: f32, recip: f32): void {
  for (let k = 0; k < count; k++) {
    const e = table + <usize>k * 24;
    divide(<usize>load<u32>(e), <usize>load<u32>(e, 4), <usize>load<u32>(e, 8) << 2, factor, recip);
  }
}

// g ← g / loss_scale_factor, on the kernel's scratch (Keras's `g / scale`).
export function unscale(table: usize, count: i32, factor: f32, recip: f32): void {
  for (let k = 0; k < count; k++) {
    const e = table + <usize>k * ENTRY;
    divide(g_(e), g_(e), n_(e) << 2, factor, recip);
  }
}

// dst ← src / factor over n bytes. `recip` (non-zero) is 1/factor where that is
// exact (a power of two, rules/training.ts exactReciprocal): then x·recip is the
// same float32 as x/factor for every x, and a SIMD multiply is several times
// cheaper than a divide.
@inline function divide(src: usize, dst: usize, n: usize, factor: f32, recip: f32): void {
  const n4 = n & ~<usize>15;
  let i: usize = 0;
  if (recip != 0) {
    const vr = f32x4.splat(recip);
    for (; i < n4; i += 16) st(dst + i, f32x4.mul(ld(src + i), vr));
    for (; i < n; i += 4) store<f32>(dst + i, load<f32>(src + i) * recip);
  } else {
    const vf = f32x4.splat(factor);
    for (; i < n4; i += 16) st(dst + i, f32x4.div(ld(src + i), vf));
    for (; i < n; i += 4) store<f32>(dst + i, load<f32>(src + i) / factor);
  }
}
