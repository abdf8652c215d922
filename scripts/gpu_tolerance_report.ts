// How close the fused GPU kernels come to their float32 bound: every trajectory case of
// the tests (test/support/gpu_trajectory.ts), STEPS steps each (default 30), on Chromium's
// webgl and webgpu (SwiftShader) and on Node's webgpu (Dawn), with the number of values
// compared, the largest |GPU − reference| / bound and where it was, and whether every
// case told its flavor apart from one with different arithmetic. Not a test.
// Run: node --import tsx scripts/gpu_tolerance_report.ts
import { tf } from '../test/support/tf.js';
import { openGpuPage } from '../test/browser/gpu_harness.js';
import { webglFusedKernel } from '../src/kernels/webgl/kernel.js';
import { webgpuFusedKernel } from '../src/kernels/webgpu/kernel.js';
import { CASE_SHAPES } from '../test/support/gpu_assertions.js';
import { gpuChecks, type GpuChecks } from '../test/support/gpu_checks.js';
import type { CaseResult } from '../test/support/gpu_trajectory.js';
import { startNodeWebGPU } from '../test/support/webgpu_node.js';

const STEPS = Number(process.env.STEPS ?? 30);

function summarize(where: string, results: CaseResult[]): void {
  const worst = results.reduce((a, b) => (b.maxRatio > a.maxRatio ? b : a));
  const sum = (f: (r: CaseResult) => number) => results.reduce((s, r) => s + f(r), 0);
  console.log(`${where}: ${results.length} cases × ${STEPS} steps, ${sum((r) => r.compared)} values compared, ` +
    `${results.filter((r) => r.failure !== undefined).length} cases with a value outside its bound, ${sum((r) => r.unbounded)} without a bound; ` +
    `largest |gpu − reference| / bound ${worst.maxRatio.toFixed(3)} (${worst.name}); ` +
    `${results.filter((r) => !r.discriminated).length} cases not told apart from their alternative flavor`);
  for (const r of results) if (r.failure !== undefined) console.log(`  ${r.name}: ${r.failure}`);
}

async function main(): Promise<void> {
  const { page, close } = await openGpuPage('test/browser/gpu_page.ts');
  const call = <K extends keyof GpuChecks>(m: K, ...a: unknown[]) => page.evaluate(([mm, aa]: [string, unknown[]]) =>
    (window as unknown as { gpuPage: Record<string, (...x: unknown[]) => unknown> }).gpuPage[mm](...aa), [m, a] as [string, unknown[]]);
  const count = await call('caseCount', STEPS) as number;
  try {
    for (const backend of ['webgl', 'webgpu']) {
      const results: CaseResult[] = [];
      for (let i = 0; i < count; i++) results.push(await call('runCase', backend, i, CASE_SHAPES, STEPS) as CaseResult);
      summarize(`Chromium ${backend}`, results);
    }
  } finally {
    await close();
  }
  const missing = await startNodeWebGPU();
  if (missing !== null) { console.log(`Node webgpu: skipped (${missing})`); return; }
  const checks = gpuChecks({ webgl: webglFusedKernel, webgpu: webgpuFusedKernel }, async (n) => tf.setBackend(n));
  const results: CaseResult[] = [];
  for (let i = 0; i < count; i++) results.push(await checks.runCase('webgpu', i, CASE_SHAPES, STEPS));
  summarize('Node webgpu', results);
}

main().then(() => process.exit(0), (e: unknown) => { console.error(e); process.exit(1); });
