// How close the fused GPU kernels come to their float32 bound: every trajectory case of
// the tests (test/support/gpu_trajectory.ts), STEPS steps each (default 30), on Chromium's
// webgl and webgpu (SwiftShader) and on Node's webgpu (Dawn), with the number of values
// compared, the largest |GPU − reference| / bound and where it was, and whether every
// case told its flavor apart from one with different arithmetic; then the same for the
// row kernels (test/support/gpu_rows.ts), ROW_STEPS sparse steps each (default 20), with
// their catch-up-only jobs. PART=dense|rows runs one part. Not a test.
// Run: node --import tsx scripts/gpu_tolerance_report.ts
import { tf } from '../test/support/tf.js';
import { inPage, openGpuPage } from '../test/browser/gpu_harness.js';
import { webglFusedKernel } from '../src/kernels/webgl/kernel.js';
import { webglRows } from '../src/kernels/webgl/rows.js';
import { webgpuFusedKernel } from '../src/kernels/webgpu/kernel.js';
import { webgpuRows } from '../src/kernels/webgpu/rows.js';
import { CASE_SHAPES, ROW_SHAPES } from '../test/support/gpu_assertions.js';
import { gpuChecks } from '../test/support/gpu_checks.js';
import { gpuRowChecks } from '../test/support/gpu_row_checks.js';
import type { CaseResult } from '../test/support/gpu_trajectory.js';
import { startNodeWebGPU } from '../test/support/webgpu_node.js';

const STEPS = Number(process.env.STEPS ?? 30);
const ROW_STEPS = Number(process.env.ROW_STEPS ?? 20);
const PART = process.env.PART;

function summarize(where: string, results: CaseResult[], steps = STEPS): void {
  const worst = results.reduce((a, b) => (b.maxRatio > a.maxRatio ? b : a));
  const sum = (f: (r: CaseResult) => number) => results.reduce((s, r) => s + f(r), 0);
  console.log(`${where}: ${results.length} cases × ${steps} steps, ${sum((r) => r.compared)} values compared, ` +
    `${results.filter((r) => r.failure !== undefined).length} cases with a value outside its bound, ${sum((r) => r.unbounded)} without a bound; ` +
    `largest |gpu − reference| / bound ${worst.maxRatio.toFixed(3)} (${worst.name}); ` +
    `${results.filter((r) => !r.discriminated).length} cases not told apart from their alternative flavor`);
  for (const r of results) if (r.failure !== undefined) console.log(`  ${r.name}: ${r.failure}`);
}

async function main(): Promise<void> {
  const { page, close } = await openGpuPage('test/browser/gpu_page.ts');
  const count = await inPage(page, 'caseCount', STEPS);
  const rowCount = await inPage(page, 'rowCaseCount', ROW_STEPS);
  try {
    for (const backend of ['webgl', 'webgpu'] as const) {
      if (PART !== 'rows') {
        const results: CaseResult[] = [];
        for (let i = 0; i < count; i++) results.push(await inPage(page, 'runCase', backend, i, CASE_SHAPES, STEPS));
        summarize(`Chromium ${backend}`, results);
      }
      if (PART !== 'dense') {
        const rows: CaseResult[] = [];
        for (let i = 0; i < rowCount; i++) rows.push(await inPage(page, 'runRowCase', backend, i, ROW_SHAPES, ROW_STEPS));
        summarize(`Chromium ${backend}, rows`, rows, ROW_STEPS);
      }
    }
  } finally {
    await close();
  }
  const missing = await startNodeWebGPU();
  if (missing !== null) { console.log(`Node webgpu: skipped (${missing})`); return; }
  const setBackend = async (n: string): Promise<boolean> => tf.setBackend(n);
  if (PART !== 'rows') {
    const checks = gpuChecks({ webgl: webglFusedKernel, webgpu: webgpuFusedKernel }, setBackend);
    const results: CaseResult[] = [];
    for (let i = 0; i < count; i++) results.push(await checks.runCase('webgpu', i, CASE_SHAPES, STEPS));
    summarize('Node webgpu', results);
  }
  if (PART !== 'dense') {
    const checks = gpuRowChecks({ webgl: webglRows, webgpu: webgpuRows }, setBackend);
    const rows: CaseResult[] = [];
    for (let i = 0; i < rowCount; i++) rows.push(await checks.runRowCase('webgpu', i, ROW_SHAPES, ROW_STEPS));
    summarize('Node webgpu, rows', rows, ROW_STEPS);
  }
}

main().then(() => process.exit(0), (e: unknown) => { console.error(e); process.exit(1); });
