/**
 * Standard normal samples for NoisyLinearCosineDecay. With a seed, the sample is a
 * pure function of (seed, step): hashing both into two uniforms and applying
 * Box–Muller makes `valueAt(step)` give the same value however often and in
 * whatever order steps are asked for, which a stateful generator could not.
 */

/** murmur3's 32-bit finalizer: a bijection of uint32 that spreads every input bit. */
function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const bits = new DataView(new ArrayBuffer(8));

/** The float64 bit pattern of `x` as two uint32 words, so any number hashes (integer or not). */
function words(x: number): [number, number] {
  bits.setFloat64(0, x + 0); // + 0 turns -0 into 0
  return [bits.getUint32(0), bits.getUint32(4)];
}

/** A uniform in the open interval (0, 1), a pure function of its inputs. */
function uniform(seed: number, step: number, stream: number): number {
  const [sHi, sLo] = words(seed);
  const [tHi, tLo] = words(step);
  let h = fmix32(stream + 0x9e3779b9);
  // Distinct odd constants per position, so (seed, step) and (step, seed) differ.
  h = fmix32(h ^ fmix32(sLo + 0x85ebca77));
  h = fmix32(h ^ fmix32(sHi + 0xc2b2ae3d));
  h = fmix32(h ^ fmix32(tLo + 0x27d4eb2f));
  h = fmix32(h ^ fmix32(tHi + 0x165667b1));
  return (h + 0.5) / 4294967296;
}

/** Box–Muller on two uniforms in (0, 1]: a standard normal sample. */
function boxMuller(u1: number, u2: number): number {
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** A standard normal sample for `step`, reproducible from `seed`. */
export function seededStandardNormal(seed: number, step: number): number {
  return boxMuller(uniform(seed, step, 0), uniform(seed, step, 1));
}

/** A fresh standard normal sample, like TF's unseeded `random_normal`. */
export function randomStandardNormal(): number {
  return boxMuller(1 - Math.random(), Math.random());
}
