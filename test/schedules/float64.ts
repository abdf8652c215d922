/**
 * Independent float64 versions of the TF 2.4 schedule formulas, written from the
 * definitions (keras2-semantics.md §7) rather than from src/: the SGDR periods
 * are found by walking the periods, not by the closed-form log, and nothing is
 * rounded to float32.
 */
export function exponential(t: number, lr0: number, D: number, rate: number, staircase: boolean): number {
  const p = staircase ? Math.floor(t / D) : t / D;
  return lr0 * rate ** p;
}

export function inverseTime(t: number, lr0: number, D: number, rate: number, staircase: boolean): number {
  const p = staircase ? Math.floor(t / D) : t / D;
  return lr0 / (1 + rate * p);
}

export function polynomial(t: number, lr0: number, D: number, end: number, power: number, cycle: boolean): number {
  let span = D;
  let s = t;
  if (cycle) span = D * Math.max(1, Math.ceil(t / D));
  else s = Math.min(t, D);
  return (lr0 - end) * (1 - s / span) ** power + end;
}

export function cosine(t: number, lr0: number, D: number, alpha: number): number {
  const c = 0.5 * (1 + Math.cos(Math.PI * Math.min(t, D) / D));
  return lr0 * ((1 - alpha) * c + alpha);
}

/** Keras 3: linear from lr0 to target over W steps, then cosine from the target. */
export function cosineWarmup(t: number, lr0: number, D: number, alpha: number, target: number, W: number): number {
  if (t < W) return lr0 + (target - lr0) * (t / W);
  return cosine(t - W, target, D, alpha);
}

export function cosineRestarts(t: number, lr0: number, D1: number, tMul: number, mMul: number, alpha: number): number {
  let start = 0;
  let length = D1;
  let i = 0;
  while (t >= start + length) {
    start += length;
    length *= tMul;
    i++;
  }
  const f = (t - start) / length;
  const c = 0.5 * mMul ** i * (1 + Math.cos(Math.PI * f));
  return lr0 * ((1 - alpha) * c + alpha);
}

export function linearCosine(
  t: number, lr0: number, D: number, numPeriods: number, alpha: number, beta: number, noise = 0,
): number {
  const s = Math.min(t, D);
  const linear = (D - s) / D + noise;
  const c = 0.5 * (1 + Math.cos(Math.PI * 2 * numPeriods * s / D));
  return lr0 * ((alpha + linear) * c + beta);
}

export function noiseStd(t: number, D: number, initialVariance: number, varianceDecay: number): number {
  return Math.sqrt(initialVariance / (1 + Math.min(t, D)) ** varianceDecay);
}
