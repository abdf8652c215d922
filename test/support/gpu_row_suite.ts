/**
 * The row-kernel tests of one GPU backend, declared once for Chromium
 * (test/browser/gpu_rows.test.ts: webgl and webgpu) and for Node's WebGPU
 * (test/kernels/webgpu_rows_node.test.ts), over a `call` that runs a check where
 * the backend lives and returns its plain result.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RMSpropOptions } from '../../src/index.js';
import {
  assertCase, assertFreshReads, assertRowLeaks, assertRowSharing, assertSparseTraining, ROW_SHAPES, ROW_STEPS,
} from './gpu_assertions.js';
import type { GpuRowChecks } from './gpu_row_checks.js';
import { rowCaseName, rowCases } from './gpu_rows.js';
import type { GpuBackend } from './gpu_work.js';

type Call = <K extends keyof GpuRowChecks>(method: K, ...args: Parameters<GpuRowChecks[K]>) => Promise<Awaited<ReturnType<GpuRowChecks[K]>>>;

const KERNEL = { webgl: 'webgl-rows', webgpu: 'webgpu-rows' } as const;
/** GPU work of one sparse step of one table: the update and the scatter draws; one dispatch. */
const WORK = { webgl: 2, webgpu: 1 } as const;

/** `skip()` returns a reason to skip (a missing backend), else null. */
export function rowSuite(backend: GpuBackend, call: Call, skip: () => string | null): void {
  const guard = (t: { skip(m: string): void }): boolean => {
    const why = skip();
    if (why !== null) t.skip(why);
    return why !== null;
  };
  rowCases(ROW_SHAPES, ROW_STEPS).forEach((c, index) => {
    test(`rows, ${rowCaseName(c)}: within the float32 bound of the reference row loops, job by job`, async (t) => {
      if (guard(t)) return;
      assertCase(await call('runRowCase', backend, index, ROW_SHAPES, ROW_STEPS), KERNEL[backend]);
    });
  });

  const training: Array<[string, RMSpropOptions, boolean]> = [
    ['keras2 plain: every row\'s accumulators decay', { sparseMode: 'keras2' }, true],
    ['keras2 momentum: TF\'s sparse kernel', { sparseMode: 'keras2', momentum: 0.9, centered: true }, false],
    ['dense-equivalent momentum: idle rows keep moving', { sparseMode: 'dense-equivalent', momentum: 0.9, centered: true }, true],
    ['dense-equivalent, pytorch momentum: the rates of the missed steps', { sparseMode: 'dense-equivalent', momentum: 0.5, flavor: 'pytorch' }, true],
    ['lazy, keras3 with weight decay', { sparseMode: 'lazy', weightDecay: 0.01, flavor: 'keras3', momentum: 0.9 }, false],
  ];
  for (const [what, options, catchUps] of training) {
    test(`rows through the optimizer, ${what}: ${KERNEL[backend]} for every step and catch-up, ${WORK[backend]} ${backend === 'webgl' ? 'draws' : 'dispatch'} a step`, async (t) => {
      if (guard(t)) return;
      const r = await call('sparseTraining', backend, options, [400, 3, 4]);
      assertSparseTraining(r, `sparse-${options.sparseMode}/${KERNEL[backend]}`, catchUps, WORK[backend], what);
    });
  }

  if (backend === 'webgl') {
    test('rows: a table in a packed texture is unpacked once, then its rows are written in place', async (t) => {
      if (guard(t)) return;
      const r = await call('sparseTraining', backend, { sparseMode: 'dense-equivalent', momentum: 0.9 }, [64, 10], true);
      assert.ok(r.packedBefore, 'the table did not start in a packed texture (is WEBGL_PACK on?)');
      assertSparseTraining(r, `sparse-dense-equivalent/${KERNEL[backend]}`, true, WORK[backend], 'a packed table');
    });
  }

  test('rows: a slice of the table kept alive keeps its values (on WebGL it shares the texture: the op chain\'s rows run)', async (t) => {
    if (guard(t)) return;
    const r = await call('rowSlice', backend);
    assert.ok(r.sliceUnchanged, 'the slice changed with the table');
    assert.equal(r.kernelAfter, `sparse-keras2/${KERNEL[backend]}`);
    if (backend === 'webgl') {
      assert.equal(r.kernelWithSlice, 'sparse-keras2/tfops-rows');
      assert.match(r.fallbackReason ?? '', /webgl-rows: the variable shares its texture with 1 slice\(s\) of it/);
    } else {
      assert.equal(r.kernelWithSlice, `sparse-keras2/${KERNEL[backend]}`);
    }
  });

  test('rows: a table sharing its buffer is not written in place; the op chain\'s rows run with the reason', async (t) => {
    if (guard(t)) return;
    assertRowSharing(await call('rowSharing', backend), backend);
  });

  test('rows: values read before a sparse step are not served stale after it', async (t) => {
    if (guard(t)) return;
    const r = await call('rowCpuCache', backend);
    assertFreshReads({ ...r, kernel: r.kernel.replace(/^sparse-keras2\//, '') }, KERNEL[backend]);
  });

  test('rows: 1,000 sparse steps grow no tensor or GPU byte; dispose frees what the row kernel holds', async (t) => {
    if (guard(t)) return;
    const r = await call('rowLeaks', backend, { learningRate: 0.01, momentum: 0.9, centered: true, sparseMode: 'dense-equivalent' });
    assertRowLeaks(r, `sparse-dense-equivalent/${KERNEL[backend]}`, backend);
  });

  if (backend === 'webgpu') {
    // Last: a bad bind group or pipeline is only reported, and the work it was for never runs.
    test('rows: no WebGPU validation error was reported by any of the steps above', async (t) => {
      if (guard(t)) return;
      assert.deepEqual(await call('uncapturedErrors'), []);
    });
  }
}
