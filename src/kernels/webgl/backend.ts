/**
 * The parts of tfjs-backend-webgl 4.22's `MathBackendWebGL` the fused kernel
 * uses, typed here so this package needs no dependency on the backend (it is
 * whatever the user registered). All are public in 4.22's typings:
 * `runWebGLProgram`, `unpackTensor`, `packTensor`, `disposeIntermediateTensorInfo`,
 * `texData` (the per-tensor texture records). Checked once per backend object;
 * a backend without them falls back to the op chain with the reason.
 */
import * as tf from '@tensorflow/tfjs-core';
import { backendInternals } from '../gpu/internals.js';

/** A tfjs-backend-webgl `GPGPUProgram` (dist/gpgpu_math.d.ts). */
export interface GlProgram {
  variableNames: string[];
  outputShape: number[];
  userCode: string;
  packedInputs?: boolean;
  packedOutput?: boolean;
  customUniforms?: Array<{ name: string; type: 'float' }>;
}

/** A tensor's record in `texData` (tex_util.d.ts `TextureData`): the fields read here. */
export interface GlTexData {
  texture?: unknown;
  isPacked?: boolean;
  refCount: number;
  dtype: string;
  /** The texture's [rows, columns] (in elements; a packed texture holds 2×2 of them per texel). */
  texShape?: [number, number];
  /** Set when the tensor is a view into another tensor's texture (a shallow slice). */
  slice?: unknown;
  /** A CPU copy (values not uploaded yet, or cached by a read). */
  values?: unknown;
}

/** tex_util.d.ts `Texture`: a texture of tfjs's texture manager. */
export interface GlTexture {
  texture: WebGLTexture;
  texShape: [number, number];
}

/**
 * What the row kernel (rows.ts) uses besides: the WebGL 2 context (`gpgpu.gl`,
 * public in 4.22), `uploadToGPU`, `makeTensorInfo` (public), and
 * `dataRefCount`, the count of shallow slices sharing a tensor's texture
 * (public field).
 */
export interface WebGLRowsInternals extends WebGLBackendInternals {
  gpgpu: { gl: WebGL2RenderingContext };
  uploadToGPU(dataId: object): void;
  makeTensorInfo(shape: number[], dtype: 'float32'): tf.TensorInfo;
  dataRefCount: { get(dataId: object): number | undefined };
}

export interface WebGLBackendInternals {
  texData: { get(dataId: object): GlTexData | undefined };
  runWebGLProgram(
    program: GlProgram, inputs: tf.TensorInfo[], outputDtype: 'float32', customUniformValues?: number[][],
    preventEagerUnpackingOfOutput?: boolean,
  ): tf.TensorInfo;
  unpackTensor(input: tf.TensorInfo): tf.TensorInfo;
  packTensor(input: tf.TensorInfo): tf.TensorInfo;
  disposeIntermediateTensorInfo(info: tf.TensorInfo): void;
}

/** The active backend if it is tfjs-backend-webgl with the internals this kernel relies on. */
export const webglBackend = backendInternals<WebGLBackendInternals>('webgl', (b) => {
  const texData = b.texData as { get?: unknown } | undefined;
  return ['runWebGLProgram', 'unpackTensor', 'packTensor', 'disposeIntermediateTensorInfo'].every((k) => typeof b[k] === 'function') &&
    typeof texData?.get === 'function';
});

function flag(name: string): boolean | number | null {
  try {
    return tf.env().get(name) as boolean | number;
  } catch {
    return null; // not registered: not tfjs-backend-webgl's environment
  }
}

/**
 * Why this WebGL context cannot run the fused programs, or null. They need
 * float32 render targets (float16 ones would round every state value to 11
 * bits) and are built and tested for WebGL 2.
 */
export function webglContextReason(): string | null {
  if (flag('WEBGL_VERSION') !== 2) return `WebGL ${String(flag('WEBGL_VERSION'))}: the fused programs need WebGL 2`;
  if (flag('WEBGL_RENDER_FLOAT32_ENABLED') !== true) {
    return 'this WebGL context cannot render to float32 textures (WEBGL_RENDER_FLOAT32_ENABLED is false): state would be rounded to float16';
  }
  return null;
}

/** The active backend if it is tfjs-backend-webgl with what the row kernel relies on too. */
export const webglRowsBackend = backendInternals<WebGLRowsInternals>('webgl', (b) => {
  const texData = b.texData as { get?: unknown } | undefined;
  const gpgpu = b.gpgpu as { gl?: { texSubImage2D?: unknown; drawBuffers?: unknown } } | undefined;
  const refs = b.dataRefCount as { get?: unknown } | undefined;
  return ['runWebGLProgram', 'unpackTensor', 'disposeIntermediateTensorInfo', 'uploadToGPU', 'makeTensorInfo']
    .every((k) => typeof b[k] === 'function') && typeof texData?.get === 'function' &&
    typeof gpgpu?.gl?.texSubImage2D === 'function' && typeof gpgpu.gl.drawBuffers === 'function' && typeof refs?.get === 'function';
});

/** The most textures one program may sample (tfjs's WEBGL_MAX_TEXTURES_IN_SHADER). */
export function maxTexturesInShader(): number {
  const n = flag('WEBGL_MAX_TEXTURES_IN_SHADER');
  return typeof n === 'number' && n > 0 ? n : 16;
}

/** Whether tfjs packs elementwise ops here (a new texture of ours is packed when the gradient's is). */
export function packingEnabled(): boolean {
  return flag('WEBGL_PACK') === true;
}
