// Timing helpers shared by the benchmark scripts (npm run bench).

/** Median seconds per call of `step`, after warm-up; batches fast calls so each sample is >= ~4 ms. */
export function medianSeconds(step: () => void, maxSamples: number): number {
  step();
  step();
  let t = performance.now();
  step();
  const once = performance.now() - t;
  const perSample = Math.max(1, Math.min(200, Math.ceil(4 / Math.max(once, 1e-3))));
  const samples = Math.max(3, Math.min(maxSamples, Math.floor(6000 / (once * perSample + 1e-3))));
  const times: number[] = [];
  for (let s = 0; s < samples; s++) {
    t = performance.now();
    for (let i = 0; i < perSample; i++) step();
    times.push((performance.now() - t) / perSample);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1] / 1000;
}

/** A figure with three significant digits, or none after the point from 100 up. */
export function fmt(x: number, digits = 3): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toPrecision(digits);
}

/**
 * Median seconds per call of `a` and of `b`, sampled in turn (a, b, a, b, …)
 * after warm-up, so whatever drifts during a run (clock, load, caches) falls
 * on both: the figure for a ratio between two ways of running one step.
 */
export function medianPairSeconds(a: () => void, b: () => void, maxSamples: number): [number, number] {
  for (const step of [a, b, a, b]) step();
  let t = performance.now();
  a();
  b();
  const once = (performance.now() - t) / 2;
  const perSample = Math.max(1, Math.min(200, Math.ceil(4 / Math.max(once, 1e-3))));
  const samples = Math.max(3, Math.min(maxSamples, Math.floor(6000 / (2 * once * perSample + 1e-3))));
  const times: [number[], number[]] = [[], []];
  for (let s = 0; s < samples; s++) {
    [a, b].forEach((step, k) => {
      t = performance.now();
      for (let i = 0; i < perSample; i++) step();
      times[k].push((performance.now() - t) / perSample);
    });
  }
  const median = (x: number[]): number => x.sort((p, q) => p - q)[x.length >> 1] / 1000;
  return [median(times[0]), median(times[1])];
}
