/**
 * Cutting a step's arrays into cache-sized tiles, shared by the SIMD kernels
 * wherever a gradient must pass through a scratch area first (the cpu kernel
 * always; the wasm kernel when clipping is folded in), and the clipping factors
 * both derive from the norms they measure.
 */
import { globalScale, normDivisor, type FoldedClip } from '../../clipping/scalar.js';

/**
 * Gradient elements per tile (128 KiB): the scratch and the tile's share of the
 * variable and slots stay in a core's L2. Tiles from 4 KiB to 512 KiB measured
 * the same at 1e7; smaller ones pay more calls. A multiple of 4.
 */
export const TILE_ELEMENTS = 32768;
/** Table entries per call: the most variables one tile can hold. */
export const TILE_ENTRIES = 1024;

/**
 * Walks arrays of `count` sizes in tiles of `tile` elements holding at most
 * `entries` segments. A segment is a run of one array that fits the tile:
 * `segment(k, off, len, at, entry)` says array `k`'s elements `[off, off+len)`
 * go to tile position `at` as the tile's `entry`-th segment; `flush(n)` ends a
 * tile of `n` segments. Positions are 4-aligned; arrays go in order, so one
 * listed twice is walked twice, in order.
 */
export function walkTiles(
  count: number, sizeOf: (k: number) => number, tile: number, entries: number,
  segment: (k: number, off: number, len: number, at: number, entry: number) => void,
  flush: (segments: number) => void,
): void {
  let at = 0;
  let entry = 0;
  for (let k = 0; k < count; k++) {
    const n = sizeOf(k);
    for (let off = 0; off < n;) {
      if (at >= tile || entry === entries) {
        flush(entry);
        at = 0;
        entry = 0;
      }
      const len = Math.min(n - off, tile - at);
      segment(k, off, len, at, entry);
      entry++;
      at += (len + 3) & ~3;
      off += len;
    }
  }
  if (entry > 0) flush(entry);
}

/** Per-gradient `cn`/`dn` and the step's `scale`, the factors of FoldedClip's formula. */
export interface ClipFactors {
  readonly cn: Float32Array;
  readonly dn: Float32Array;
  readonly scale: number;
}

/**
 * The factors for `count` gradients. `sumSquares(cn, dn)` must return Σx² of
 * each gradient with x clipped by the bounds and the given cn/dn (scale 1);
 * it runs once for clipnorm and once more for globalClipnorm, whose norm is
 * taken after clipnorm, as in TF.
 */
export function clipFactors(
  c: FoldedClip, count: number, sumSquares: (cn: Float32Array, dn: Float32Array) => ArrayLike<number>,
): ClipFactors {
  const cn = new Float32Array(count).fill(1);
  const dn = new Float32Array(count).fill(1);
  if (c.clipnorm !== null) {
    const sums = sumSquares(cn, dn);
    for (let k = 0; k < count; k++) {
      cn[k] = c.clipnorm;
      dn[k] = normDivisor(sums[k], c.clipnorm);
    }
  }
  const scale = c.globalClipnorm === null ? 1 : globalScale(sumSquares(cn, dn), c.globalClipnorm);
  return { cn, dn, scale };
}
