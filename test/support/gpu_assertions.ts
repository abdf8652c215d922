/**
 * The assertions of the GPU kernel tests, shared by the Chromium test (webgl,
 * webgpu) and the Node WebGPU test, on the plain results of gpu_checks.ts.
 */
import assert from 'node:assert/strict';
import type { RMSpropOptions } from '../../src/index.js';
import type { CacheReport, GpuSparseReport, LeakReport, NonFiniteReport, OptimizerStep, SharingReport, TrainingFeaturesReport } from './gpu_checks.js';
import type { RowLeakReport, RowSharingReport, SparseTraining } from './gpu_row_checks.js';
import type { CaseResult, GpuCase } from './gpu_trajectory.js';

/** Shapes of the trajectory cases: a tiny one, a matrix, one past WebGL's one-pass sum (4,096). */
export const CASE_SHAPES = [[5], [64, 33], [4900]];
export const CASE_STEPS = 8;

export function assertCase(r: CaseResult, kernelName: string): void {
  assert.equal(r.kernelRefusal, undefined, `${kernelName} refused an exclusive float32 update: ${r.kernelRefusal}`);
  assert.equal(r.failure, undefined, `${r.name}: ${r.failure}`);
  assert.ok(r.compared > 0, `${r.name}: nothing compared`);
  // Values without a finite bound are those the reference itself computes as NaN; a few at most.
  assert.ok(r.unbounded <= r.compared / 100, `${r.name}: ${r.unbounded} values without a bound of ${r.compared}`);
  assert.ok(r.discriminated, `${r.name}: the bound does not tell this flavor from ${r.alternative}: too loose to mean anything`);
}

/**
 * WebGL's layout after the steps: the programs run in the gradient's layout,
 * packed for one still on the CPU (TF.js's preference), unpacked with norm
 * clipping (its sums read elements by index); every state a call used ends in
 * that layout. (A case that ends inside its first accumulation window has read
 * only the accumulator: the rest keep the layout they came in.)
 */
export function assertWebglLayout(r: CaseResult, c: GpuCase): void {
  const accumulation = c.keras3?.accumulationSteps ?? null;
  if (accumulation !== null && c.steps < accumulation) return;
  const packedRun = c.textures?.gradients !== 'unpacked' && c.clip.clipnorm === null && c.clip.globalClipnorm === null;
  assert.ok(r.layout !== undefined, `${r.name}: no layout reported`);
  assert.ok(r.layout.inTextures > 0, `${r.name}: no state in a texture`);
  assert.equal(r.layout.packed, packedRun ? r.layout.inTextures : 0, `${r.name}: ${r.layout.packed} of the ${r.layout.inTextures} state tensors in textures are packed`);
}

/** The optimizer took the fused kernel for every variable, with the GPU work per step the kernel promises. */
export function assertFusedStep(r: OptimizerStep, kernelName: string, maxWork: number, what: string): void {
  for (const c of r.kernels) {
    assert.equal(c.kernel, kernelName, `${what}: ${c.variable} took ${c.kernel} (${c.fallbackReason ?? 'no reason given'})`);
    assert.equal(c.fallbackReason, undefined, `${what}: ${c.variable}`);
  }
  assert.ok(r.gpuWork <= maxWork, `${what}: ${r.gpuWork} draws/dispatches in one step, expected at most ${maxWork}`);
  assert.ok(r.gpuWork > 0, `${what}: no GPU work counted (is the counter hooked up?)`);
  assert.equal(r.profiledKernels, 0, `${what}: the step ran ${r.profiledKernels} engine kernels besides the fused ones`);
  // Three steps from the same start on cpu: the GPU's rounding moves w by a few float32 ulps at most.
  assert.ok(r.maxRelativeToCpu < 1e-5, `${what}: ${r.maxRelativeToCpu} from the cpu backend's result`);
}

/** Calls of a Keras 3 trajectory case: two accumulation windows of 3 and more. */
export const KERAS3_STEPS = 7;

/**
 * Shapes of the Keras 3 cases: sizes a multiple of 4 and not (both WebGPU shaders), one above a
 * workgroup's reach, none under 128 (WebGL runs ops on such small tensors on the CPU, so their upload would be a draw of the call).
 */
export const KERAS3_SHAPES: number[][] = [[64, 33], [133], [300], [4, 1000]];

/**
 * Keras 3's passes on a GPU kernel: options, calls, and the calls (by index)
 * whose work must be one draw or dispatch per state written per variable and no
 * engine kernel (with clipping, an update call's gradient is made by tensor ops first).
 */
export const KERAS3_CASES: Array<[string, RMSpropOptions, number, readonly number[]]> = [
  ['EMA, accumulation of 3, loss scale 4; centered momentum',
    { learningRate: 0.01, momentum: 0.9, centered: true, useEma: true, gradientAccumulationSteps: 3, lossScaleFactor: 4 }, 7, [0, 1, 2, 3, 4, 5, 6]],
  ['EMA overwriting every 2 steps; keras3 Nesterov momentum with weight decay',
    { learningRate: 0.01, momentum: 0.9, nesterov: true, flavor: 'keras3', weightDecay: 0.01, useEma: true, emaMomentum: 0.9, emaOverwriteFrequency: 2 }, 5, [0, 1, 2, 3, 4]],
  ['accumulation of 2 with loss scale 8 and the EMA, plain; pytorch (whose rule names a statement `avg`)',
    { learningRate: 0.01, flavor: 'pytorch', gradientAccumulationSteps: 2, lossScaleFactor: 8, useEma: true }, 5, [0, 1, 2, 3, 4]],
  ['accumulation of 2 with clipnorm 1 (the update call\'s gradient is made first)',
    { learningRate: 0.01, momentum: 0.5, gradientAccumulationSteps: 2, clipnorm: 1 }, 4, [0, 2]],
];

/**
 * `plainCalls` (by index) must take at most `workPerVariable` draws or dispatches
 * per variable (WebGPU: 1; WebGL: one per state written, up to 6) and no engine kernel.
 */
export function assertTrainingFeatures(
  r: TrainingFeaturesReport, kernelName: string, plainCalls: readonly number[], what: string, workPerVariable = 1,
): void {
  const variables = KERAS3_SHAPES.length;
  r.calls.forEach((c, i) => {
    for (const k of c.kernels) {
      assert.equal(k.kernel, kernelName, `${what}, call ${i + 1}: ${k.variable} took ${k.kernel} (${k.fallbackReason ?? 'no reason given'})`);
      assert.equal(k.fallbackReason, undefined, `${what}, call ${i + 1}: ${k.variable}`);
    }
    assert.ok(c.gpuWork > 0, `${what}, call ${i + 1}: no GPU work counted`);
    if (!plainCalls.includes(i)) return;
    assert.ok(c.gpuWork <= variables * workPerVariable, `${what}, call ${i + 1}: ${c.gpuWork} draws or dispatches for ${variables} variables`);
    assert.equal(c.profiledKernels, 0, `${what}, call ${i + 1}: ${c.profiledKernels} engine kernels besides the fused ones`);
  });
  assert.ok(r.weights.length >= 1 + 2 * variables, `${what}: only ${r.weights.length} weights`);
  for (const w of r.weights) {
    // A few calls from the same start on cpu: the GPU's rounding moves each weight by a few float32 ulps at most.
    assert.ok(w.maxRelativeToCpu < 1e-5, `${what}: ${w.name} is ${w.maxRelativeToCpu} from the cpu backend's (relative to its largest element)`);
  }
}

/**
 * nonFinite where the check's one value per step can be read back: NaN and ±Infinity
 * anywhere are skipped with the state left bit for bit, the largest finite float32 is
 * not; 'error' names the variable and changes nothing; nothing leaks.
 */
export function assertNonFinite(r: NonFiniteReport, what: string): void {
  assert.equal(r.skipThrew, null, `${what}: a 'skip' step threw`);
  for (const s of r.steps) {
    const finite = Number.isFinite(Number(s.value));
    assert.equal(s.skipped, !finite, `${what}: ${s.value} at ${s.index} ${finite ? 'was taken for non-finite' : 'was not seen'}`);
    assert.equal(s.unchanged, !finite, `${what}: ${s.value} at ${s.index}: the state ${finite ? 'did not move' : 'changed'}`);
  }
  const name = r.secondName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  assert.match(r.error ?? '', new RegExp(`the gradient for variable "${name}" holds NaN or ±Infinity \\(nonFinite: 'error'\\); nothing was changed`));
  assert.ok(r.errorUnchanged, `${what}: 'error' changed the state`);
  assert.equal(r.tensorsAfter, r.tensorsBefore, `${what}: tensors leaked`);
}

/**
 * nonFinite where the GPU cannot be read synchronously (TF.js's webgpu: in Node it
 * has no OffscreenCanvas to read through, on SwiftShader in Chromium the read returns
 * zeros): every checked step throws an error saying so, before any change, and leaks nothing.
 */
export function assertNonFiniteUnreadable(r: NonFiniteReport, what: string): void {
  const says = new RegExp("nonFinite '(skip|error)' could not check the gradients: the webgpu backend" +
    "( cannot read the check's result back synchronously here \\(.+\\)|'s synchronous read of the check's result returned wrong values here \\(a 1 came back as 0\\)), " +
    "which 'skip' and 'error' need before each step \\(nonFinite: 'propagate' reads nothing back\\); nothing was changed");
  assert.match(r.skipThrew ?? '', says);
  assert.match(r.error ?? '', says);
  for (const s of r.steps) assert.ok(!s.skipped && s.unchanged, `${what}: ${s.value} at ${s.index}: skipped ${s.skipped}, unchanged ${s.unchanged}`);
  assert.ok(r.errorUnchanged, `${what}: 'error' changed the state`);
  assert.equal(r.tensorsAfter, r.tensorsBefore, `${what}: tensors leaked`);
}

/**
 * A sparse step from values on the GPU: where the backend reads back synchronously
 * (webgl) it runs and matches cpu; where it cannot (webgpu in Node, or SwiftShader's
 * zeros in Chromium) the step throws saying so, before any change.
 */
export function assertSparseFromGpu(r: GpuSparseReport, readable: boolean, what: string): void {
  assert.equal(r.tensorsAfter, r.tensorsBefore, `${what}: tensors leaked`);
  if (readable) {
    assert.equal(r.threw, null, `${what}: the step threw`);
    assert.ok(r.changed && r.iterations === 1, `${what}: the step did not run`);
    assert.ok(r.maxRelativeToCpu < 1e-6, `${what}: ${r.maxRelativeToCpu} from the same step on cpu`);
    return;
  }
  assert.match(r.threw ?? '', /the webgpu backend( cannot read the values of an IndexedSlices back synchronously here \(.+\)|'s synchronous read of the values of an IndexedSlices returned wrong values here \(a 1 came back as 0\))/);
  assert.ok(!r.changed && r.iterations === 0, `${what}: the refused step changed the table (${r.changed}) or iterations (${r.iterations})`);
}

export function assertNoLeaks(r: LeakReport, kernelName: string, what: string): void {
  assert.equal(r.kernel, kernelName, `${what}: the step took ${r.kernel}`);
  assert.equal(r.tensorsAfter1000, r.tensorsAfter10, `${what}: tensors after 1,000 steps`);
  assert.equal(r.bytesAfter1000, r.bytesAfter10, `${what}: GPU bytes after 1,000 steps`);
  assert.equal(r.tensorsAfterDispose, r.tensorsBefore, `${what}: tensors after dispose`);
  assert.equal(r.bytesAfterDispose, r.bytesBefore, `${what}: GPU bytes after dispose (the kernel's own buffers included)`);
}

/**
 * A variable sharing its buffer: WebGL writes new textures, so the fused kernel
 * runs and the other tensor keeps its values; WebGPU writes in place, so it falls
 * back to the op chain and says why.
 */
export function assertSharing(r: SharingReport, backend: 'webgl' | 'webgpu'): void {
  if (backend === 'webgl') {
    assert.equal(r.kernel, 'webgl-fused');
  } else {
    assert.equal(r.kernel, 'tfops');
    assert.match(r.fallbackReason ?? '', /webgpu-fused: the variable shares its buffer with another tensor \(refCount 2\)/);
  }
  assert.ok(r.otherUnchanged, 'the tensor sharing the variable\'s initial buffer was changed by the step');
  assert.ok(r.variableChanged, 'the variable did not change');
}

export function assertFreshReads(r: CacheReport, kernelName: string): void {
  assert.equal(r.kernel, kernelName);
  assert.ok(r.changed, 'the second step did not change the values read');
  assert.ok(r.readMatchesGpu, 'data() after the step returned a stale copy, not the buffer\'s contents');
}

/**
 * Gradients that are tensors the step writes (b's gradient is variable a, c's is
 * c) are read as the op chain reads them: the two agree within float32 rounding.
 */
export function assertAliasedGradients(r: { kernels: string[]; maxRelativeToOpChain: number }, kernelName: string): void {
  assert.deepEqual(r.kernels, [kernelName, kernelName, kernelName]);
  // Three steps move w by about 0.01 per step: reading a before instead of after its update moved
  // b by 4e-2 relative (measured); on SwiftShader the two agree to the bit here.
  assert.ok(r.maxRelativeToOpChain < 1e-5, `${r.maxRelativeToOpChain} from the op chain`);
}

/** Tables of the row trajectories: a small one (rows of 7), rank 3 (a row spans texture rows), over 8,192 rows (a squarified WebGL texture). */
export const ROW_SHAPES = [[40, 7], [30, 3, 5], [8200, 3]];
export const ROW_STEPS = 6;

/**
 * Sparse training through the optimizer took the row kernel for every step,
 * its catch-ups included, with the GPU work per step it promises, and ended
 * within a few float32 ulps of the reference row loops.
 */
export function assertSparseTraining(r: SparseTraining, expected: string, catchUps: boolean, maxWork: number, what: string): void {
  assert.deepEqual(r.kernels, [expected], `${what}: ${r.kernels.join(', ')}`);
  assert.ok(r.sparseJobs >= 10, `${what}: ${r.sparseJobs} sparse jobs on the row kernel`);
  if (catchUps) assert.ok(r.catchUpJobs >= 2, `${what}: ${r.catchUpJobs} catch-up jobs on the row kernel`);
  else assert.equal(r.catchUpJobs, 0, `${what}: catch-ups in a mode that defers nothing`);
  assert.ok(r.gpuWork > 0 && r.gpuWork <= maxWork, `${what}: ${r.gpuWork} draws/dispatches in one sparse step, expected 1 to ${maxWork}`);
  assert.equal(r.profiledKernels, 0, `${what}: the sparse step ran ${r.profiledKernels} engine kernels`);
  // Eleven steps and the catch-ups: the GPU's rounding moves values by a few float32 ulps of the tensor's scale.
  assert.ok(r.maxRelativeToReference < 1e-5, `${what}: ${r.maxRelativeToReference} from the reference row loops`);
}

/** A table sharing its buffer or texture: not written in place; the op chain's rows run with the reason. */
export function assertRowSharing(r: RowSharingReport, backend: 'webgl' | 'webgpu'): void {
  assert.equal(r.kernel, 'sparse-keras2/tfops-rows');
  const why = backend === 'webgl' ? /webgl-rows: the variable shares its texture with another tensor \(refCount 2\)/
    : /webgpu-rows: the variable shares its buffer with another tensor \(refCount 2\)/;
  assert.match(r.fallbackReason ?? '', why);
  assert.ok(r.otherUnchanged, 'the tensor sharing the table\'s initial buffer was changed by the step');
  assert.ok(r.tableChanged, 'the table did not change');
}

export function assertRowLeaks(r: RowLeakReport, expected: string, what: string): void {
  assert.equal(r.kernel, expected, `${what}: the step took ${r.kernel}`);
  assert.equal(r.tensorsAfter1000, r.tensorsAfter10, `${what}: tensors after 1,000 sparse steps`);
  assert.equal(r.bytesAfter1000, r.bytesAfter10, `${what}: GPU bytes after 1,000 sparse steps`);
  assert.equal(r.tensorsAfterDispose, r.tensorsBefore, `${what}: tensors after dispose`);
  assert.equal(r.bytesAfterDispose, r.bytesBefore, `${what}: GPU bytes after dispose (the row kernel's own buffers included)`);
}
