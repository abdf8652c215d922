// Timing helpers shared by the benchmark scripts (npm run bench).

/**
 * Median seconds per call of each of `steps`, sampled in turn (a, b, a, b, …)
 * after warm-up, so that whatever drifts during a run (clock, load, caches)
 * falls on all of them; fast calls are batched so each sample is >= ~4 ms.
 */
function interleavedMedians(steps: ReadonlyArray<() => void>, maxSamples: number): number[] {
  for (const step of steps) { step(); step(); }
  let t = performance.now();
  for (const step of steps) step();
  const once = (performance.now() - t) / steps.length;
  const perSample = Math.max(1, Math.min(200, Math.ceil(4 / Math.max(once, 1e-3))));
  const samples = Math.max(3, Math.min(maxSamples, Math.floor(6000 / (steps.length * once * perSample + 1e-3))));
  const times = steps.map((): number[] => []);
  for (let s = 0; s < samples; s++) {
    steps.forEach((step, k) => {
      t = performance.now();
      for (let i = 0; i < perSample; i++) step();
      times[k].push((performance.now() - t) / perSample);
    });
  }
  return times.map((x) => x.sort((p, q) => p - q)[x.length >> 1] / 1000);
}

/** Median seconds per call of `step`, after warm-up. */
export function medianSeconds(step: () => void, maxSamples: number): number {
  return interleavedMedians([step], maxSamples)[0];
}

/** Median seconds per call of `a` and of `b`, sampled in turn: the figures for a ratio between two ways of running one step. */
export function medianPairSeconds(a: () => void, b: () => void, maxSamples: number): [number, number] {
  const [ma, mb] = interleavedMedians([a, b], maxSamples);
  return [ma, mb];
}

/** A figure with three significant digits, or none after the point from 100 up. */
export function fmt(x: number, digits = 3): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toPrecision(digits);
}
