/**
 * The non-finite check on `webgpu`: one dispatch per gradient of a WGSL
 * program that tests each element's exponent bits (all set: NaN or ±Infinity)
 * as integers, because WGSL lets an implementation assume that no NaN or
 * infinity occurs in float arithmetic. An invocation that finds one stores 1
 * in the gradient's flag (every such store writes the same value: no atomic
 * needed). The flags are read back once (../read_back.ts: on webgpu a
 * broken synchronous read is an error, not zeros). Run through tfjs's own
 * program runner, so inputs still on the CPU are uploaded and the pipeline
 * cached as for any op.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readBackSync } from '../read_back.js';
import type { FiniteCheck } from '../types.js';
import { isBuffer, webgpuBackend } from './backend.js';
import { WORKGROUP } from './shaders.js';

/** Elements each invocation tests at least (strided), so a large gradient needs few workgroups. */
const PER_INVOCATION = 16;
const MAX_WORKGROUPS = 1024;

type TensorInfo = tf.TensorInfo;

/** The program object `runWebGPUProgram` of tfjs-backend-webgpu 4.22 expects (webgpu_program.ts `WebGPUProgram`). */
interface Program {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  uniforms: string;
  workgroupSize: [number, number, number];
  atomic: boolean;
  size: boolean;
  getUserCode(): string;
}

interface ProgramRunner {
  runWebGPUProgram(program: Program, inputs: TensorInfo[], dtype: string, uniforms?: Array<{ type: string; data: number[] }>, output?: TensorInfo): TensorInfo;
  tensorMap: { get(dataId: object): { resource?: unknown; dtype: string } | undefined };
}

const USER_CODE = `
fn main(index : i32) {
  var bad = 0u;
  for (var i = index; i < uniforms.xSize; i = i + uniforms.stride) {
    bad = bad | select(0u, 1u, (bitcast<u32>(x[i]) & 0x7f800000u) == 0x7f800000u);
  }
  if (bad != 0u) { result[uniforms.k] = 1; }
}
`;

function program(count: number, workgroups: number): Program {
  return {
    outputShape: [count], shaderKey: 'rmspropNonFinite', dispatchLayout: { x: [0] }, dispatch: [workgroups, 1, 1],
    variableNames: ['x'], uniforms: 'xSize : i32, stride : i32, k : i32,', workgroupSize: [WORKGROUP, 1, 1],
    atomic: false, size: false, getUserCode: () => USER_CODE,
  };
}

function runner(): ProgramRunner | null {
  const b = webgpuBackend() as unknown as Partial<ProgramRunner> | null;
  return b !== null && typeof b.runWebGPUProgram === 'function' ? b as ProgramRunner : null;
}

export const webgpuFiniteCheck: FiniteCheck = {
  name: 'webgpu',
  accepts(grad) {
    const b = runner();
    if (b === null || grad.dtype !== 'float32') return false;
    const resource = b.tensorMap.get(grad.dataId as object)?.resource;
    // A texture (an imported image) is not a buffer the program can bind.
    return resource == null || isBuffer(resource);
  },
  firstNonFinite(grads) {
    const b = runner() as ProgramRunner;
    return tf.tidy(() => {
      const flags = tf.zeros([grads.length], 'int32');
      const out: TensorInfo = { dataId: flags.dataId, shape: flags.shape, dtype: 'int32' };
      grads.forEach((g, k) => {
        const n = g.size;
        if (n === 0) return;
        const workgroups = Math.min(MAX_WORKGROUPS, Math.ceil(n / (WORKGROUP * PER_INVOCATION)));
        // Read as one flat array: the program indexes the buffer, whatever the gradient's shape.
        const x: TensorInfo = { dataId: g.dataId, shape: [n], dtype: 'float32' };
        b.runWebGPUProgram(program(grads.length, workgroups), [x], 'int32', [
          { type: 'int32', data: [n] }, { type: 'int32', data: [workgroups * WORKGROUP] }, { type: 'int32', data: [k] },
        ], out);
      });
      return readBackSync(flags, "the check's result").findIndex((x) => x !== 0);
    });
  },
};
