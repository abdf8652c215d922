/**
 * The soak: long runs that must hold memory flat. Each run is a process of its
 * own (so RSS starts clean), run with --expose-gc; every `--every` steps it
 * collects garbage and samples the JS heap, RSS, the wasm backend's heap and
 * TF.js's tensor count. The runs, on cpu and wasm:
 * - fit:    a small model (8 → 16 → 1) through model.fit, 100,000 steps; again
 *           with every training feature on (Keras 3's, Nesterov, nonFinite 'skip');
 * - sparse: a 10,000 × 16 embedding through minimize and embeddingLookup
 *           (IndexedSlices, 64 ids a step with repeats, 'dense-equivalent'
 *           with momentum: deferred rows and their catch-up), 100,000 steps;
 * - lifecycles: 1,000 times a variable, an optimizer, 3 steps, dispose both;
 *           of 1,024 elements and of 2^20 (on cpu, the helper thread's size).
 * Writes a Markdown table (`--md`) and an SVG plot (`--svg`): by default into
 * docs/ for the full soak and into out/ for a partial one (`--scale` or
 * `--runs`), so a quick check never replaces the recorded figures. Prints both
 * summaries, and exits 1 if a run's tensor count grew.
 *
 *   npm run soak -- [--scale 0.1] [--runs fit-cpu,sparse-wasm,...] [--md docs/soak.md] [--svg docs/soak.svg]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

interface Sample {
  step: number;
  seconds: number;
  heapMB: number;
  rssMB: number;
  /** The wasm backend's heap; 0 on cpu. */
  wasmMB: number;
  tensors: number;
}

interface RunSpec {
  name: string;
  backend: 'cpu' | 'wasm';
  kind: 'fit' | 'sparse' | 'lifecycles';
  /** Steps (lifecycles for that kind) at scale 1. */
  steps: number;
  /** Elements of the lifecycle variable. */
  size?: number;
  /** Options of the fit run's optimizer beyond its learning rate and momentum. */
  options?: Record<string, unknown>;
  what: string;
}

/** Every training feature at once: Keras 3's, optax's Nesterov momentum, and the non-finite policy. */
const FEATURES = { nesterov: true, useEma: true, emaOverwriteFrequency: 1000, gradientAccumulationSteps: 4, lossScaleFactor: 1024, nonFinite: 'skip' };

const RUNS: RunSpec[] = [
  { name: 'fit-cpu', backend: 'cpu', kind: 'fit', steps: 100_000, what: 'model.fit, 8→16→1, batch 32' },
  { name: 'fit-wasm', backend: 'wasm', kind: 'fit', steps: 100_000, what: 'model.fit, 8→16→1, batch 32' },
  { name: 'fit-features-cpu', backend: 'cpu', kind: 'fit', steps: 100_000, options: FEATURES, what: 'the same with nesterov, useEma, accumulation, loss scale, nonFinite skip' },
  { name: 'fit-features-wasm', backend: 'wasm', kind: 'fit', steps: 100_000, options: FEATURES, what: 'the same with nesterov, useEma, accumulation, loss scale, nonFinite skip' },
  { name: 'sparse-cpu', backend: 'cpu', kind: 'sparse', steps: 100_000, what: 'embeddingLookup + minimize, 10,000×16, dense-equivalent' },
  { name: 'sparse-wasm', backend: 'wasm', kind: 'sparse', steps: 100_000, what: 'embeddingLookup + minimize, 10,000×16, dense-equivalent' },
  { name: 'lifecycles-small-cpu', backend: 'cpu', kind: 'lifecycles', steps: 1000, size: 1024, what: '1,024 elements' },
  { name: 'lifecycles-small-wasm', backend: 'wasm', kind: 'lifecycles', steps: 1000, size: 1024, what: '1,024 elements' },
  { name: 'lifecycles-2^20-cpu', backend: 'cpu', kind: 'lifecycles', steps: 1000, size: 1 << 20, what: '2^20 elements (helper thread)' },
  { name: 'lifecycles-2^20-wasm', backend: 'wasm', kind: 'lifecycles', steps: 1000, size: 1 << 20, what: '2^20 elements' },
];

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};

// ---- one run, in a child process -----------------------------------------------------------------

async function child(spec: RunSpec, steps: number, every: number): Promise<void> {
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-wasm');
  // The package as users load it: the build in dist/ (npm run soak builds it first).
  const { RMSprop, embeddingLookup } = require('rmsprop') as typeof import('../src/index.js');
  // tfjs prints a hint to install tfjs-node once; it is not what this measures.
  const warn = console.warn;
  console.warn = (...a: unknown[]) => { if (!String(a[0]).includes('tfjs-node')) warn(...a); };
  await tf.setBackend(spec.backend);
  await tf.ready();
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc (npm run soak does)');
  const started = Date.now();
  const wasmHeap = (): number => {
    const b = tf.backend() as unknown as { wasm?: { asm?: { memory?: WebAssembly.Memory }; wasmMemory?: WebAssembly.Memory } };
    const m = b.wasm?.asm?.memory ?? b.wasm?.wasmMemory;
    return m instanceof WebAssembly.Memory ? m.buffer.byteLength : 0;
  };
  const sample = async (step: number): Promise<void> => {
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    const m = process.memoryUsage();
    const s: Sample = {
      step, seconds: (Date.now() - started) / 1000, heapMB: m.heapUsed / 2 ** 20, rssMB: m.rss / 2 ** 20,
      wasmMB: wasmHeap() / 2 ** 20, tensors: tf.memory().numTensors,
    };
    process.stdout.write(`SAMPLE ${JSON.stringify(s)}\n`);
  };
  // A seeded generator: the same data every run.
  let seed = 12345;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };

  if (spec.kind === 'fit') {
    const batch = 32;
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [8], units: 16, activation: 'relu' }), tf.layers.dense({ units: 1 })] });
    model.compile({ optimizer: new RMSprop({ learningRate: 1e-3, momentum: 0.9, ...spec.options }), loss: 'meanSquaredError' });
    const n = every * batch;
    const x = tf.tensor2d(Float32Array.from({ length: n * 8 }, random), [n, 8]);
    const y = tf.tidy(() => x.sum(1, true).sin());
    await sample(0);
    for (let done = 0; done < steps; done += every) {
      // One epoch is `every` steps of one batch each.
      await model.fit(x, y, { epochs: 1, batchSize: batch, shuffle: false, verbose: 0 });
      await sample(done + every);
    }
    return;
  }

  if (spec.kind === 'sparse') {
    const rows = 10_000;
    const table = tf.variable(tf.randomUniform([rows, 16], -0.05, 0.05, 'float32', 1), true, 'soak/table');
    const target = tf.ones([64, 16]);
    const opt = new RMSprop({ learningRate: 1e-3, momentum: 0.9, sparseMode: 'dense-equivalent' });
    const ids = new Int32Array(64);
    await sample(0);
    for (let step = 1; step <= steps; step++) {
      // Repeats: ids drawn from a range a little smaller than the batch, now and then.
      const range = step % 7 === 0 ? 48 : rows;
      for (let i = 0; i < ids.length; i++) ids[i] = Math.floor(random() * range);
      opt.minimize(() => tf.losses.meanSquaredError(target, embeddingLookup(table, ids)) as import('@tensorflow/tfjs').Scalar, [table]);
      if (step % every === 0) await sample(step);
    }
    return;
  }

  const size = spec.size as number;
  const values = Float32Array.from({ length: size }, () => random() - 0.5);
  await sample(0);
  for (let life = 1; life <= steps; life++) {
    const v = tf.tidy(() => tf.variable(tf.tensor1d(values)));
    const opt = new RMSprop({ learningRate: 1e-3, momentum: 0.9 });
    for (let s = 0; s < 3; s++) tf.tidy(() => opt.applyGradients([[tf.tensor1d(values), v]]));
    opt.dispose();
    v.dispose();
    if (life % every === 0) await sample(life);
  }
}

// ---- the parent: runs, table, plot -------------------------------------------------------------

interface Result { spec: RunSpec; steps: number; every: number; samples: Sample[]; error?: string }

function runChild(spec: RunSpec, steps: number, every: number): Result {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', __filename, '--child', spec.name, '--steps', String(steps), '--every', String(every)], {
    encoding: 'utf8', maxBuffer: 64 * 2 ** 20, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const samples = r.stdout.split('\n').filter((l) => l.startsWith('SAMPLE ')).map((l) => JSON.parse(l.slice(7)) as Sample);
  const error = r.status === 0 ? undefined : `exit ${r.status}: ${r.stderr.trim().split('\n').slice(-5).join(' / ')}`;
  return { spec, steps, every, samples, error };
}

const mb = (x: number): string => x.toFixed(1);

/** Growth from the first sample after warm-up (the second one) to the last, and the largest value. */
function growth(samples: Sample[], key: keyof Sample): { from: number; to: number; max: number } {
  const base = samples[Math.min(1, samples.length - 1)];
  return { from: base[key], to: samples[samples.length - 1][key], max: Math.max(...samples.map((s) => s[key])) };
}

function markdown(results: Result[], command: string): string {
  const lines: string[] = [];
  lines.push('# Soak: memory over long runs');
  lines.push('');
  lines.push(`Written by \`${command}\` on ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ` +
    `${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}. Each run is a process of its own; before each sample the garbage ` +
    'collector runs (three times). "From" is the sample after the first interval (warm-up), "to" the last.');
  lines.push('');
  lines.push('| run | steps | sampled every | seconds | tensors from → to | JS heap MB from → to (max) | RSS MB from → to (max) | wasm heap MB from → to |');
  lines.push('| --- | ---: | ---: | ---: | --- | --- | --- | --- |');
  for (const r of results) {
    if (r.samples.length === 0) {
      lines.push(`| ${r.spec.name} | ${r.steps} | ${r.every} | – | failed: ${r.error ?? 'no samples'} | | | |`);
      continue;
    }
    const t = growth(r.samples, 'tensors');
    const h = growth(r.samples, 'heapMB');
    const rss = growth(r.samples, 'rssMB');
    const w = growth(r.samples, 'wasmMB');
    const last = r.samples[r.samples.length - 1];
    lines.push(`| ${r.spec.name} (${r.spec.what}) | ${last.step.toLocaleString('en-US')} | ${r.every.toLocaleString('en-US')} | ${last.seconds.toFixed(0)} | ` +
      `${t.from} → ${t.to} | ${mb(h.from)} → ${mb(h.to)} (${mb(h.max)}) | ${mb(rss.from)} → ${mb(rss.to)} (${mb(rss.max)}) | ` +
      `${r.spec.backend === 'wasm' ? `${mb(w.from)} → ${mb(w.to)}` : '–'} |${r.error ? ` ${r.error}` : ''}`);
  }
  lines.push('');
  lines.push('Every sample, per run:');
  for (const r of results) {
    lines.push('');
    lines.push(`<details><summary>${r.spec.name}</summary>`);
    lines.push('');
    lines.push('| step | seconds | tensors | JS heap MB | RSS MB | wasm heap MB |');
    lines.push('| ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const s of r.samples) lines.push(`| ${s.step} | ${s.seconds.toFixed(1)} | ${s.tensors} | ${mb(s.heapMB)} | ${mb(s.rssMB)} | ${mb(s.wasmMB)} |`);
    lines.push('');
    lines.push('</details>');
  }
  return `${lines.join('\n')}\n`;
}

// ---- SVG --------------------------------------------------------------------------------------

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Round axis bounds: 0 up to the next 1, 2, 2.5 or 5 × 10^k above `max`, in 5 steps. */
function axis(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  const unit = [1, 2, 2.5, 5, 10].map((k) => k * p).find((u) => u >= raw) as number;
  return Array.from({ length: Math.ceil(max / unit - 1e-9) + 1 }, (_, i) => Number((i * unit).toPrecision(4)));
}

const SERIES = [
  { key: 'rssMB', label: 'RSS', color: '#d62728' },
  { key: 'heapMB', label: 'JS heap', color: '#1f77b4' },
  { key: 'wasmMB', label: 'wasm heap', color: '#2ca02c' },
] as const;

function plot(results: Result[]): string {
  const PW = 330; // panel
  const PH = 190;
  const M = { left: 54, right: 14, top: 34, bottom: 44 };
  const cols = 2;
  const panels: string[] = [];
  const withData = results.filter((r) => r.samples.length > 0);
  withData.forEach((r, i) => {
    for (const [j, unit] of (['MB', 'tensors'] as const).entries()) {
      const x0 = (i % cols) * 2 * PW + j * PW;
      const y0 = Math.floor(i / cols) * PH + 40;
      const w = PW - M.left - M.right;
      const h = PH - M.top - M.bottom;
      const xs = r.samples.map((s) => s.step);
      const xMax = Math.max(...xs, 1);
      const series = unit === 'MB'
        ? SERIES.filter((s) => s.key !== 'wasmMB' || r.spec.backend === 'wasm').map((s) => ({ ...s, values: r.samples.map((p) => p[s.key]) }))
        : [{ key: 'tensors', label: 'tensors', color: '#9467bd', values: r.samples.map((p) => p.tensors) }];
      const ticks = axis(Math.max(...series.flatMap((s) => s.values)) * 1.05);
      const yMax = ticks[ticks.length - 1];
      const X = (v: number): number => x0 + M.left + (v / xMax) * w;
      const Y = (v: number): number => y0 + M.top + h - (v / yMax) * h;
      const out: string[] = [];
      out.push(`<text x="${x0 + M.left}" y="${y0 + 14}" font-weight="bold">${esc(r.spec.name)}: ${unit === 'MB' ? 'memory (MB)' : 'live tensors'}</text>`);
      out.push(`<rect x="${X(0)}" y="${Y(yMax)}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
      for (const t of ticks) {
        out.push(`<line x1="${X(0)}" x2="${X(xMax)}" y1="${Y(t)}" y2="${Y(t)}" stroke="#eee"/>`);
        out.push(`<text x="${X(0) - 4}" y="${Y(t) + 4}" text-anchor="end">${t}</text>`);
      }
      for (const f of [0, 0.5, 1]) out.push(`<text x="${X(f * xMax)}" y="${Y(0) + 14}" text-anchor="middle">${Math.round(f * xMax).toLocaleString('en-US')}</text>`);
      out.push(`<text x="${X(xMax / 2)}" y="${Y(0) + 28}" text-anchor="middle" fill="#555">${r.spec.kind === 'lifecycles' ? 'lifecycles' : 'steps'}</text>`);
      series.forEach((s, k) => {
        const pts = s.values.map((v, n) => `${X(xs[n]).toFixed(1)},${Y(v).toFixed(1)}`).join(' ');
        out.push(`<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="1.6"/>`);
        const lx = x0 + M.left + 8 + k * 86;
        const ly = y0 + 26;
        out.push(`<line x1="${lx}" x2="${lx + 14}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"/><text x="${lx + 18}" y="${ly}">${s.label}</text>`);
      });
      panels.push(out.join('\n'));
    }
  });
  const width = cols * 2 * PW + 24; // room for the last x label
  const height = Math.ceil(withData.length / cols) * PH + 50;
  const title = 'Memory over long runs (after garbage collection, sampled at each point)';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">\n` +
    `<rect width="100%" height="100%" fill="white"/>\n<text x="${width / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${title}</text>\n` +
    `${panels.join('\n')}\n</svg>\n`;
}

async function main(): Promise<void> {
  const childName = arg('child');
  if (childName !== undefined) {
    const spec = RUNS.find((r) => r.name === childName);
    if (spec === undefined) throw new Error(`no run ${childName}`);
    await child(spec, Number(arg('steps')), Number(arg('every')));
    return;
  }
  const scale = Number(arg('scale') ?? 1);
  if (!(scale > 0)) throw new Error(`--scale must be > 0, got ${arg('scale')}`);
  const names = arg('runs')?.split(',');
  const specs = names === undefined ? RUNS : names.map((n) => RUNS.find((r) => r.name === n) ?? (() => { throw new Error(`no run ${n}; runs: ${RUNS.map((r) => r.name).join(', ')}`); })());
  const results: Result[] = [];
  for (const spec of specs) {
    const steps = Math.max(2, Math.round(spec.steps * scale));
    // Every 1,000 steps (every 20 lifecycles), and at least 10 samples in a short run.
    const every = Math.max(1, Math.min(spec.kind === 'lifecycles' ? 20 : 1000, Math.floor(steps / 10)));
    const r = runChild(spec, Math.floor(steps / every) * every, every);
    results.push(r);
    const t = r.samples.length > 0 ? growth(r.samples, 'tensors') : null;
    const rss = r.samples.length > 0 ? growth(r.samples, 'rssMB') : null;
    console.log(`${spec.name}: ${r.samples.length} samples, tensors ${t ? `${t.from} → ${t.to}` : '-'}, RSS ${rss ? `${mb(rss.from)} → ${mb(rss.to)} MB (max ${mb(rss.max)})` : '-'}${r.error ? `, ${r.error}` : ''}`);
  }
  const command = ['npm run soak', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');
  const md = markdown(results, command);
  // Only the full soak replaces the recorded one in docs/; a partial run writes to out/.
  const full = scale === 1 && names === undefined;
  const dir = full ? 'docs' : 'out';
  mkdirSync(dir, { recursive: true });
  const mdPath = arg('md') ?? `${dir}/soak.md`;
  const svgPath = arg('svg') ?? `${dir}/soak.svg`;
  writeFileSync(mdPath, md);
  writeFileSync(svgPath, plot(results));
  console.log(`wrote ${mdPath} and ${svgPath}`);
  const grew = results.filter((r) => r.error !== undefined || r.samples.length < 2 || growth(r.samples, 'tensors').to !== growth(r.samples, 'tensors').from);
  if (grew.length > 0) {
    console.error(`failed or leaked tensors: ${grew.map((r) => r.spec.name).join(', ')}`);
    process.exit(1);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
