/**
 * TF 2.4's gradient clipping options, and its formulas on float32 scalars for
 * kernels that fold clipping into the update (the tensor form is tensor.ts).
 * No TF.js here: the SIMD and GPU kernels read these.
 */

export interface ClipOptions {
  readonly clipnorm: number | null;
  readonly clipvalue: number | null;
  readonly globalClipnorm: number | null;
}

export const NO_CLIPPING: ClipOptions = { clipnorm: null, clipvalue: null, globalClipnorm: null };

export function hasClipping(c: ClipOptions): boolean {
  return c.clipnorm !== null || c.clipvalue !== null || c.globalClipnorm !== null;
}


const f32 = Math.fround;

/**
 * Clipping as a fused kernel applies it, per element
 * `((max(min(g, hi), lo) · cn) / dn) · scale`: the bounds of clip_by_value
 * (±∞ when unset) and float32 clipnorm / globalClipnorm (null when unset).
 */
export interface FoldedClip {
  readonly lo: number;
  readonly hi: number;
  readonly clipnorm: number | null;
  readonly globalClipnorm: number | null;
}

export function foldClip(c: ClipOptions): FoldedClip {
  return {
    lo: c.clipvalue === null ? -Infinity : f32(-c.clipvalue),
    hi: c.clipvalue === null ? Infinity : f32(c.clipvalue),
    clipnorm: c.clipnorm === null ? null : f32(c.clipnorm),
    globalClipnorm: c.globalClipnorm === null ? null : f32(c.globalClipnorm),
  };
}

/** clip_by_norm's divisor `max(‖t‖, c)` from Σt² (‖t‖ is Σt² itself when that is not positive, as in TF). */
export function normDivisor(l2sum: number, c: number): number {
  const s = f32(l2sum);
  const norm = s > 0 ? f32(Math.sqrt(s)) : s;
  return Number.isNaN(norm) ? NaN : Math.max(norm, c);
}

/** clip_by_global_norm's scale `c·min(1/N, 1/c) + (N − N)` from each gradient's Σt². */
export function globalScale(l2sums: ArrayLike<number>, c: number): number {
  let half = 0;
  for (let i = 0; i < l2sums.length; i++) half = f32(half + f32(f32(l2sums[i]) / 2));
  const norm = f32(Math.sqrt(f32(half * 2)));
  return f32(f32(c * Math.min(f32(1 / norm), f32(1 / c))) + f32(norm - norm));
}
