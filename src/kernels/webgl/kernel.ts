/**
 * `webgl-fused`: the dense step on tfjs-backend-webgl as one GLSL program per
 * state tensor written (a WebGL program has one output and cannot read the
 * texture it writes): 2 draws for the plain path, 3 with momentum or centering,
 * 4 for centered momentum, whatever the flavor. Each program reads the old state
 * and the gradient and computes what its output needs (../gpu/formulas.ts);
 * the new textures are then installed with `Variable.assign` (no copy) and the
 * old ones released. Hyperparameters are uniforms: nothing is uploaded per step.
 *
 * Keras 3's passes (rules/training.ts) fold in the same way: an accumulating
 * call draws the accumulator (and the average, with the EMA); an update call
 * also draws the reset accumulator and the average, each program computing the
 * call's gradient (loss scale, window's mean) and the new weights it needs.
 *
 * Clipping folds in with one Σx² per gradient (one or two draws: blocks, then
 * their sum), shared by clipnorm and globalClipnorm; the global factor is one
 * more draw per 15 gradients. Clip values reach the update programs as 1×1 textures.
 *
 * Layout: the programs run packed (RGBA texels of four elements, as tfjs's own
 * elementwise ops) when the gradient is packed, else unpacked; clipping always
 * runs unpacked (the sums read elements by flat index), unpacking a packed
 * gradient once. A state texture in the other layout is converted once, by one
 * draw, and keeps the new layout from then on (the outputs are in it).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FoldedClip } from '../../clipping/scalar.js';
import type { StepScalars, UpdateForm } from '../../rules/types.js';
import { ruleKeyOf } from '../../rules/table.js';
import { aroundScalars, type Around } from '../../rules/training.js';
import {
  AROUND_UNIFORMS, aroundKey, aroundUniformValues, callStatements, clipForm, decayForm, freeNames, needsNorms, UNIFORMS, uniformValues,
  type ClipForm,
} from '../gpu/formulas.js';
import type { DenseKernel, DenseUpdate } from '../types.js';
import { runStep, tfjsVersionReason } from '../gpu/internals.js';
import {
  maxTexturesInShader, packingEnabled, webglBackend, webglContextReason, type WebGLBackendInternals,
} from './backend.js';
import {
  finalSumProgram, globalChainProgram, partialSumProgram, sumBlocks, updateProgram, type BuiltProgram,
} from './programs.js';

/**
 * The state tensors in the order their programs run (all read the old values;
 * assignment comes after): the rule's, then Keras 3's accumulator and average.
 */
const TARGETS = ['ms', 'mg', 'mom', 'w', 'acc', 'ema'] as const;

function info(t: tf.Tensor, shape: readonly number[] = t.shape): tf.TensorInfo {
  return { dataId: t.dataId, shape: [...shape], dtype: 'float32' };
}

/** Programs by form, target, shape and layout: tfjs keys its compiled binaries by source, built once here. */
const programCache = new Map<string, BuiltProgram>();

function cached(key: string, build: () => BuiltProgram): BuiltProgram {
  let p = programCache.get(key);
  if (p === undefined) {
    p = build();
    programCache.set(key, p);
  }
  return p;
}

/** Runs a built program on inputs named as its `inputs`, with the step's uniform values. */
function run(
  b: WebGLBackendInternals, built: BuiltProgram, inputs: Readonly<Record<string, tf.TensorInfo>>,
  uniforms: ReadonlyMap<string, number[]>, packedOutput = false,
): tf.TensorInfo {
  return b.runWebGLProgram(
    built.program, built.inputs.map((name) => inputs[name]), 'float32',
    built.uniforms.map((name) => uniforms.get(name) as number[]), packedOutput,
  );
}

/** Σx² of each gradient (clipped by value when set), each as a 1×1 texture. */
function gradientSums(
  b: WebGLBackendInternals, grads: readonly tf.TensorInfo[], clip: ClipForm, uniforms: ReadonlyMap<string, number[]>,
  temps: tf.TensorInfo[],
): tf.TensorInfo[] {
  return grads.map((g) => {
    const n = g.shape.reduce((a, d) => a * d, 1);
    const partial = cached(`sum|${n}|${clip.value}`, () => partialSumProgram(n, clip.value));
    const blocks = run(b, partial, { g: { ...g, shape: [n] } }, uniforms);
    const { count } = sumBlocks(n);
    if (count === 1) {
      temps.push(blocks);
      return blocks;
    }
    const total = b.runWebGLProgram(finalSumProgram(count), [blocks], 'float32');
    b.disposeIntermediateTensorInfo(blocks);
    temps.push(total);
    return total;
  });
}

/** clip_by_global_norm's factor from the sums, by a chain of programs of up to `maxTexturesInShader() − 1` sums each. */
function globalFactor(
  b: WebGLBackendInternals, sums: readonly tf.TensorInfo[], clip: ClipForm, uniforms: ReadonlyMap<string, number[]>,
  temps: tf.TensorInfo[],
): tf.TensorInfo {
  const per = Math.max(1, Math.min(15, maxTexturesInShader() - 1));
  let half: tf.TensorInfo | null = null;
  for (let start = 0; start < sums.length; start += per) {
    const chunk = sums.slice(start, start + per);
    const first = half === null;
    const last = start + per >= sums.length;
    const built = cached(`global|${chunk.length}|${first}|${last}|${clip.norm}`,
      () => globalChainProgram(chunk.length, first, last, clip.norm));
    const inputs: Record<string, tf.TensorInfo> = {};
    if (half !== null) inputs.H = { ...half, shape: [] };
    chunk.forEach((s, k) => { inputs[`S${k}`] = { ...s, shape: [] }; });
    const out = run(b, built, inputs, uniforms);
    if (half !== null) b.disposeIntermediateTensorInfo(half);
    half = out;
  }
  temps.push(half as tf.TensorInfo);
  return half as tf.TensorInfo;
}

/** `t` in the wanted layout: itself, or a converted copy (listed in `temps`) when its texture is in the other one. */
function inLayout(b: WebGLBackendInternals, t: tf.TensorInfo, packed: boolean, temps: tf.TensorInfo[]): tf.TensorInfo {
  const d = b.texData.get(t.dataId as object);
  if (d === undefined || d.texture == null || !!d.isPacked === packed) return t;
  const converted = packed ? b.packTensor(t) : b.unpackTensor(t);
  temps.push(converted);
  return converted;
}

/** Whether the update runs packed: the gradient's layout, or tfjs's preference for one not on the GPU yet. */
function packedFor(b: WebGLBackendInternals, g: tf.Tensor, clip: ClipForm): boolean {
  if (needsNorms(clip)) return false;
  const d = b.texData.get(g.dataId as object);
  return d !== undefined && d.texture != null ? !!d.isPacked : packingEnabled();
}

function formKey(form: UpdateForm, clip: ClipForm, decay: string): string {
  return `${form.flavor ?? 'keras2'}|${ruleKeyOf(form)}|${form.centered}|${clip.value}${clip.norm}${clip.global}|${decay}`;
}

function stepUpdates(
  b: WebGLBackendInternals, updates: readonly DenseUpdate[], form: UpdateForm, s: StepScalars, folded: FoldedClip | null,
  around: Around | null,
): void {
  const flavor = form.flavor ?? 'keras2';
  const clip = clipForm(folded);
  const decay = decayForm(flavor, s);
  const step = callStatements(form, clip, decay, around);
  const values = uniformValues(s, folded);
  const uniforms = new Map<string, number[]>(UNIFORMS.map((name, i) => [name, [values[i]]]));
  if (around !== null) {
    const passes = aroundUniformValues(aroundScalars(s, around));
    AROUND_UNIFORMS.forEach((name, i) => uniforms.set(name, [passes[i]]));
  }
  const temps: tf.TensorInfo[] = [];
  try {
    // Gradients by index, looked up when their update runs: a gradient that is a variable an
    // earlier update assigned is read as assigned, as by the op chain (gradientsToRead).
    let grads: Array<tf.TensorInfo | null> = updates.map(() => null);
    let sums: tf.TensorInfo[] | null = null;
    let scale: tf.TensorInfo | null = null;
    if (needsNorms(clip)) {
      grads = updates.map((u) => inLayout(b, info(u.grad, u.variable.shape), false, temps));
      sums = gradientSums(b, grads as tf.TensorInfo[], clip, uniforms, temps);
      if (clip.global) scale = globalFactor(b, sums, clip, uniforms, temps);
    }
    const key = formKey(form, clip, decay) + aroundKey(around);
    const reads = freeNames(step.statements);
    updates.forEach((u, k) => {
      const packed = packedFor(b, u.grad, clip);
      const shape = u.variable.shape;
      const state: Record<string, tf.Variable | undefined> = {
        w: u.variable, ms: u.slots.rms, mom: u.slots.momentum, mg: u.slots.mg,
        ...(around === null ? {} : { acc: u.slots.accumulator, ema: u.slots.ema }),
      };
      const g = inLayout(b, grads[k] ?? info(u.grad, shape), packed, temps);
      // The gradient under both names: a program reads `gIn` when Keras 3's passes make `g` from it.
      const inputs: Record<string, tf.TensorInfo> = { g, gIn: g };
      // Only the state the call reads. One it reads but does not write (the weights, for the EMA
      // of an accumulating call) keeps a converted texture, so it is converted once, not every call.
      const kept: Array<[tf.Variable, tf.TensorInfo]> = [];
      for (const name of TARGETS) {
        const v = state[name];
        if (v === undefined || !reads.has(name)) continue;
        const t = inLayout(b, info(v), packed, temps);
        inputs[name] = t;
        if (t.dataId !== v.dataId && step.outputs[name] === undefined) {
          temps.splice(temps.indexOf(t), 1);
          kept.push([v, t]);
        }
      }
      if (sums !== null) inputs.cS = { ...sums[k], shape: [] };
      if (scale !== null) inputs.cScale = { ...scale, shape: [] };
      const written: Array<[tf.Variable, tf.TensorInfo]> = [];
      for (const target of TARGETS) {
        const output = step.outputs[target];
        if (output === undefined) continue;
        const built = cached(`${key}|${target}|${shape.join(',')}|${packed}`,
          () => updateProgram(step.statements, output, target, shape, packed));
        const v = state[target];
        if (v === undefined) throw new Error(`RMSprop: the ${target} state of ${u.variable.name} is missing for this call`);
        written.push([v, run(b, built, inputs, uniforms, packed)]);
      }
      // Every program has read the old state; now install the new textures (no copy).
      for (const [v, out] of [...written, ...kept]) {
        const t = tf.engine().makeTensorFromTensorInfo(out);
        v.assign(t);
        t.dispose();
      }
    });
  } finally {
    for (const t of temps) b.disposeIntermediateTensorInfo(t);
  }
}

export const webglFusedKernel: DenseKernel = {
  name: 'webgl-fused',
  foldsClipping: true,
  unsupportedReason(u) {
    const version = tfjsVersionReason();
    if (version !== null) return version;
    if (webglBackend() === null) return 'the webgl backend internals are not reachable (tfjs-backend-webgl 4.22 expected)';
    const context = webglContextReason();
    if (context !== null) return context;
    if (u.variable.dtype !== 'float32') return `dtype ${u.variable.dtype}`;
    if (u.grad.dtype !== 'float32') return `the gradient has dtype ${u.grad.dtype}`;
    if (u.grad.size !== u.variable.size) return 'the gradient and the variable differ in size';
    return null;
  },
  foldsAround: true,
  run(updates, form, s, clip, around) {
    const b = webglBackend() as WebGLBackendInternals;
    runStep(updates, clip, (us, folded) => stepUpdates(b, us, form, s, folded, around ?? null));
  },
};
