/**
 * Sparse benchmark (issue 6): a 1,000,000 × 64 float32 table, 1,024 rows
 * indexed per step (with duplicates), in each sparse mode, against the dense
 * step of the same table with the same optimizer settings, on cpu and wasm.
 * Medians over repeated steps after warm-up; memory as tf.memory().numBytes
 * against the table, its slots and the per-row step counter.
 *
 *   node --import tsx scripts/bench_sparse.ts [--rows 1000000] [--dim 64] [--batch 1024]
 *     [--modes keras2,lazy,dense-equivalent] [--backends cpu,wasm] [--momentum 0,0.9]
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type * as Package from '../src/index.js';
import type { SparseMode } from '../src/index.js';

// The package as users load it: the build in dist/ (see scripts/bench.ts).
const { IndexedSlices, RMSprop } = require('rmsprop') as typeof Package;

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const ROWS = arg('rows', 1_000_000);
const DIM = arg('dim', 64);
const BATCH = arg('batch', 1024);
const list = (name: string, dflt: string[]): string[] => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1].split(',') : dflt;
};
const MODES = list('modes', ['keras2', 'lazy', 'dense-equivalent']) as SparseMode[];
const BACKEND_NAMES = list('backends', ['cpu', 'wasm']);
const MOMENTA = list('momentum', ['0', '0.9']).map(Number);

const warn = console.warn;
console.warn = (...a: unknown[]) => { if (!String(a[0]).includes('tfjs-node')) warn(...a); };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn: () => void, warmup: number, reps: number): number {
  for (let i = 0; i < warmup; i++) fn();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

/** A batch of ids with duplicates: 3/4 uniform over the table, 1/4 repeats of a few hot rows. */
function ids(step: number): Int32Array {
  const out = new Int32Array(BATCH);
  let x = (step * 2654435761) >>> 0;
  for (let i = 0; i < BATCH; i++) {
    x = (x * 1664525 + 1013904223) >>> 0;
    out[i] = i % 4 === 3 ? x % 16 : x % ROWS;
  }
  return out;
}

function newTable(): tf.Variable {
  const init = tf.randomUniform([ROWS, DIM], -0.05, 0.05, 'float32', 1);
  const v = tf.variable(init);
  init.dispose();
  return v;
}

interface Row { backend: string; momentum: number; mode: string; denseMs: number; sparseMs: number; ratio: number; bytes: number; budget: number }

async function main(): Promise<void> {
  const rows: Row[] = [];
  for (const backend of BACKEND_NAMES) {
    await tf.setBackend(backend);
    await tf.ready();
    for (const momentum of MOMENTA) {
      const slotsPerVar = 1 + (momentum > 0 ? 1 : 0);
      const tableBytes = ROWS * DIM * 4;
      // Dense step of the same table: one dense gradient, reused.
      const table = newTable();
      const dense = new RMSprop({ learningRate: 0.001, momentum });
      const g = tf.randomNormal([ROWS, DIM], 0, 1, 'float32', 2);
      const denseMs = time(() => { dense.applyGradients([[g, table]]); }, 2, 5);
      dense.dispose();
      g.dispose();
      table.dispose();
      for (const mode of MODES) {
        const t = newTable();
        const opt = new RMSprop({ learningRate: 0.001, momentum, sparseMode: mode });
        let step = 0;
        const values = tf.randomNormal([BATCH, DIM], 0, 1, 'float32', 3);
        const sparseMs = time(() => {
          opt.applyGradients([[new IndexedSlices(values, ids(step++)), t]]);
        }, 300, 200);
        const bytes = tf.memory().numBytes - values.size * 4;
        // Table, its slots, and the per-row step counter (Int32Array, outside TF.js's count).
        const budget = tableBytes * (1 + slotsPerVar);
        rows.push({ backend, momentum, mode, denseMs, sparseMs, ratio: denseMs / sparseMs, bytes, budget });
        values.dispose();
        opt.dispose();
        t.dispose();
      }
    }
  }
  const mb = (b: number) => (b / 2 ** 20).toFixed(0);
  console.log(`\nSparse step: table ${ROWS} × ${DIM} float32, ${BATCH} indices per step (a quarter repeats of 16 hot rows)`);
  console.log('| backend | momentum | sparseMode | dense step ms | sparse step ms | dense/sparse | TF.js MiB after steps | table + slots MiB |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    console.log(`| ${r.backend} | ${r.momentum} | ${r.mode} | ${r.denseMs.toFixed(1)} | ${r.sparseMs.toFixed(3)} | ${r.ratio.toFixed(0)}x | ${mb(r.bytes)} | ${mb(r.budget)} |`);
  }
  console.log(`(the per-row step counter adds ${mb(ROWS * 4)} MiB outside TF.js where a mode defers rows)`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
