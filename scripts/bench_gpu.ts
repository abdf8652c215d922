// `npm run bench:gpu`: this optimizer's fused GPU kernels against tf.train.rmsprop on
// webgl and webgpu in headless Chromium (SwiftShader for both, as in the tests) and on
// webgpu in Node (Dawn over the Vulkan driver VK_ICD_FILENAMES names, else SwiftShader's
// from Debian's chromium). One variable of 1e6 and 200 variables of 5,000; plain,
// momentum and centered+momentum; ratios of interleaved medians (bench_gpu_core.ts).
// Then sparse rows: 1,024 touched rows of a 200,000 × 64 table against the dense step of
// that table (target: ≤ 1/20 of it), with the op chain's rows (as before the row kernels)
// for reference. Not a test: nothing fails. SAMPLES=n sets the samples per row (default
// 30), OPCHAIN_SAMPLES those of the op chain's rows (default 3; 1 on webgl, where one such
// step takes minutes on SwiftShader; 0 skips them); ONLY=node|chromium runs one half;
// PART=dense|sparse one part; PART=keras3 times Keras 3's options
// (EMA, an accumulating call, loss scale) against the same optimizer without them.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { tf } from '../test/support/tf.js';
import { openGpuPage } from '../test/browser/gpu_harness.js';
import { chromiumMissing } from '../test/browser/chromium.js';
import { startNodeWebGPU } from '../test/support/webgpu_node.js';
import type * as Package from '../src/index.js';
import {
  benchRow, formatKeras3Row, formatRow, formatSparseRow, keras3Row, KERAS3_OPTIONS, KERAS3_TABLE_HEADER, PATHS, SIZES, SPARSE_PATHS, SPARSE_TABLE_HEADER,
  sparseBenchRow, TABLE_HEADER, type BenchRow, type Keras3Row, type SparseBenchRow,
} from './bench_gpu_core.js';

// The package as users load it (npm run bench:gpu builds first), as scripts/bench.ts does.
const pkg = require('rmsprop') as typeof Package;
const { RMSprop } = pkg;
// The same build's kernel registry, to time the op chain's rows for reference.
const { setFastKernelsEnabled } = require('../dist/cjs/kernels/registry.js') as { setFastKernelsEnabled(on: boolean): boolean };

const SAMPLES = Number(process.env.SAMPLES ?? 30);
const OPCHAIN_SAMPLES = Number(process.env.OPCHAIN_SAMPLES ?? 3);
const opChainSamples = (backend: string): number => (process.env.OPCHAIN_SAMPLES === undefined && backend === 'webgl' ? 1 : OPCHAIN_SAMPLES);
const ONLY = process.env.ONLY;
const PART = process.env.PART;

function sparseTarget(r: SparseBenchRow): string {
  const work = r.backend === 'webgl' ? 2 : 1;
  return `target ≤ 1/20 of the dense step: ${r.ratio >= 20 ? 'met' : 'NOT met'}; ${work === 1 ? '1 dispatch' : '2 draws'}: ${r.sparseWork <= work ? 'met' : 'NOT met'}`;
}

function targets(r: BenchRow): string {
  const perVar = r.oursWork / r.variables;
  if (r.backend === 'webgl') {
    const want = r.path === 'centered+momentum' ? 2.5 : 3;
    return r.variables === 1 ? `target ≥ ${want}x: ${r.ratio >= want ? 'met' : 'NOT met'}; ≤ 4 kernels/var: ${perVar <= 4 ? 'met' : 'NOT met'}` : `≤ 4 kernels/var: ${perVar <= 4 ? 'met' : 'NOT met'}`;
  }
  return r.variables === 1
    ? `target ≥ 4x: ${r.ratio >= 4 ? 'met' : 'NOT met'}; ≤ 1 dispatch/var: ${perVar <= 1 ? 'met' : 'NOT met'}`
    : `target ≥ 8x: ${r.ratio >= 8 ? 'met' : 'NOT met'}; ≤ 4 dispatches/step: ${r.oursWork <= 4 ? 'met' : 'NOT met'}`;
}

async function main(): Promise<void> {
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model;
  console.log(`machine: ${cpu}, ${os.cpus().length} cores, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; ` +
    `Node ${process.version}; tfjs ${tf.version.tfjs}; ${SAMPLES} samples per row\n`);
  const rows: Array<[BenchRow, string]> = [];
  const sparseRows: Array<[SparseBenchRow, string]> = [];
  const keras3Rows: Array<[Keras3Row, string]> = [];

  if (ONLY !== 'node') {
    const missing = chromiumMissing();
    if (missing !== null) {
      console.log(`Chromium: skipped (${missing})`);
    } else {
      const { page, close } = await openGpuPage('scripts/bench_gpu_page.ts');
      try {
        console.log(`Chromium: ${await page.evaluate(() => (window as unknown as { gpuPage: { info(): Promise<string> } }).gpuPage.info())}`);
        const have = await page.evaluate(() => (window as unknown as { gpuPage: { backends(): Promise<string[]> } }).gpuPage.backends());
        for (const backend of ['webgl', 'webgpu'] as const) {
          if (!have.includes(backend)) { console.log(`Chromium ${backend}: not available`); continue; }
          for (let o = 0; o < KERAS3_OPTIONS.length && PART === 'keras3'; o++) {
            const r = await page.evaluate(([b, oi, n]) => (window as unknown as {
              gpuPage: { keras3Row(b: string, o: number, n: number): Promise<Keras3Row> };
            }).gpuPage.keras3Row(b as string, oi as number, n as number), [backend, o, SAMPLES] as const);
            keras3Rows.push([r, 'Chromium']);
            console.log(formatKeras3Row(r, 'Chromium'));
          }
          for (let p = 0; p < SPARSE_PATHS.length && PART !== 'dense' && PART !== 'keras3'; p++) {
            const r = await page.evaluate(([b, pi, n, m]) => (window as unknown as {
              gpuPage: { sparseRow(b: string, p: number, n: number, m: number): Promise<SparseBenchRow> };
            }).gpuPage.sparseRow(b as string, pi as number, n as number, m as number), [backend, p, SAMPLES, opChainSamples(backend)] as const);
            sparseRows.push([r, 'Chromium']);
            console.log(`${formatSparseRow(r, 'Chromium')}  ${sparseTarget(r)}`);
          }
          for (let s = 0; s < SIZES.length && PART !== 'sparse' && PART !== 'keras3'; s++) {
            for (let p = 0; p < PATHS.length; p++) {
              const r = await page.evaluate(([b, pi, si, n]) => (window as unknown as {
                gpuPage: { row(b: string, p: number, s: number, n: number): Promise<BenchRow> };
              }).gpuPage.row(b as string, pi as number, si as number, n as number), [backend, p, s, SAMPLES] as const);
              rows.push([r, 'Chromium']);
              console.log(`${formatRow(r, 'Chromium')}  ${targets(r)}`);
            }
          }
        }
      } finally {
        await close();
      }
    }
  }

  if (ONLY !== 'chromium') {
    const missing = await startNodeWebGPU();
    if (missing !== null) {
      console.log(`Node webgpu: skipped (${missing})`);
    } else {
      console.log(`Node webgpu: Dawn (webgpu package) on VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES}`);
      for (const path of PART === 'dense' || PART === 'keras3' ? [] : SPARSE_PATHS) {
        const r = await sparseBenchRow('webgpu', pkg as never, path, SAMPLES, opChainSamples('webgpu'), setFastKernelsEnabled);
        sparseRows.push([r, 'Node']);
        console.log(`${formatSparseRow(r, 'Node')}  ${sparseTarget(r)}`);
      }
      for (const option of PART === 'keras3' ? KERAS3_OPTIONS : []) {
        const r = await keras3Row('webgpu', RMSprop, option, SAMPLES);
        keras3Rows.push([r, 'Node']);
        console.log(formatKeras3Row(r, 'Node'));
      }
      for (const size of PART === 'sparse' || PART === 'keras3' ? [] : SIZES) {
        for (const path of PATHS) {
          const r = await benchRow('webgpu', RMSprop, path, size, SAMPLES);
          rows.push([r, 'Node']);
          console.log(`${formatRow(r, 'Node')}  ${targets(r)}`);
        }
      }
    }
  }

  if (keras3Rows.length > 0) {
    console.log(`\nKeras 3's options, each against the same optimizer without it (calls sampled in turn, ${SAMPLES} samples of 4 calls):\n${KERAS3_TABLE_HEADER}`);
    for (const [r, where] of keras3Rows) console.log(formatKeras3Row(r, where));
  }
  if (sparseRows.length > 0) {
    console.log(`\n${SPARSE_TABLE_HEADER}`);
    for (const [r, where] of sparseRows) console.log(formatSparseRow(r, where));
    console.log(`(op-chain rows: median of ${opChainSamples('webgpu')} steps on webgpu, ${opChainSamples('webgl')} on webgl; the rest: ${SAMPLES}.)`);
  }
  if (rows.length === 0) return;
  console.log(`\n${TABLE_HEADER}`);
  for (const [r, where] of rows) console.log(formatRow(r, where));
  console.log('\nGPU work per step: max(kernels tf.profile sees, WebGL draw calls or WebGPU dispatches issued); ours / tf.train.rmsprop:');
  for (const [r, where] of rows) {
    console.log(`  ${r.backend} (${where}) ${r.path} ${r.size}: profiled ${r.oursProfiled} / ${r.tfProfiled}, issued ${r.oursIssued} / ${r.tfIssued}`);
  }
}

main().then(() => process.exit(0), (e: unknown) => {
  console.error(e);
  process.exit(1);
});
