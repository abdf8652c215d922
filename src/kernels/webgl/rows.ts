/**
 * `webgl-rows`: the rows of a sparse step on tfjs-backend-webgl, written into
 * the table's and its slots' own textures at the touched rows. A WebGL draw
 * cannot read the texture it renders into, and tfjs's programs render whole
 * textures, so the kernel draws with the context itself, two draws per step:
 *
 * 1. the update (rows_programs.ts): a fragment per element of the touched rows,
 *    into a scratch RGBA texture of the kernel's, reads the row's record and the
 *    element of each state texture, catches it up, applies the passes, and
 *    writes the new state, one state per channel;
 * 2. the scatter: the touched rows' texels of each state texture, as thin
 *    rectangles (one per run of texels a row spans in the texture; one
 *    framebuffer with every state texture attached, multiple render targets),
 *    so only the touched texels are written; every other texel keeps its value.
 *
 * The device work is in proportion to the touched rows; the job (row records
 * and gradient rows) is uploaded with `texSubImage2D` into a scratch texture of
 * the kernel's. Nothing of the table is read back. The scratch textures come
 * from tfjs's texture manager (they count in `tf.memory()`) and go back with
 * the last table that used them.
 *
 * Layout: the kernel writes unpacked textures (one element per texel, flat
 * row-major). A state texture in the packed layout (RGBA texels of 2×2
 * elements, in which two rows of a matrix share texels) is unpacked once, by one
 * draw, and keeps that layout afterwards, as tfjs's gather reads it (an
 * embedding lookup). A texture another tensor shares (refCount > 1, or a shallow
 * slice of it alive) is not written: the op chain's rows run, with the reason.
 */
import * as tf from '@tensorflow/tfjs-core';
import { jobStatements, uniformValues, UNIFORMS, type Statement } from '../gpu/formulas.js';
import { PerBackend, tfjsVersionReason } from '../gpu/internals.js';
import type { RowJob, RowKernel, SlotSet } from '../types.js';
import { webglContextReason, webglRowsBackend, type GlTexture, type WebGLRowsInternals } from './backend.js';
import {
  channelsOf, COVER_VERTEX, ROW_RECORD_FLOATS, rowsUpdateSource, SCATTER_VERTEX, scatterFragment, STATES, statesRead,
  updateUniforms, type RowState,
} from './rows_programs.js';

/** Width of the scratch textures, in texels. */
const SCRATCH_WIDTH = 2048;

interface Program {
  readonly program: WebGLProgram;
  readonly locations: Map<string, WebGLUniformLocation | null>;
}

/** A scratch texture of the kernel's, as a tfjs tensor record (so tfjs counts and recycles it). */
interface Scratch {
  info: tf.TensorInfo | null;
  /** Texels, in rows of `width`. */
  width: number;
  rows: number;
}

interface BackendState {
  readonly programs: Map<string, Program>;
  readonly vao: WebGLVertexArrayObject;
  readonly framebuffer: WebGLFramebuffer;
  /** Row records and gradient rows (R32F). */
  readonly job: Scratch;
  /** The new state of each element (RGBA32F). */
  readonly out: Scratch;
  /** Host copy of the job, padded to whole texture rows, reused. */
  staging: Float32Array;
  /** Kinds of render targets (format, size, count) the framebuffer was found complete with. */
  readonly complete: Set<string>;
}

const states = new PerBackend<WebGLRowsInternals, BackendState>((b) => {
  const gl = b.gpgpu.gl;
  return {
    programs: new Map(), vao: gl.createVertexArray() as WebGLVertexArrayObject,
    framebuffer: gl.createFramebuffer() as WebGLFramebuffer,
    job: { info: null, width: 0, rows: 0 }, out: { info: null, width: 0, rows: 0 },
    staging: new Float32Array(0), complete: new Set(),
  };
});

function compile(gl: WebGL2RenderingContext, vertex: string, fragment: string): WebGLProgram {
  const shader = (type: number, source: string): WebGLShader => {
    const s = gl.createShader(type) as WebGLShader;
    gl.shaderSource(s, source);
    gl.compileShader(s);
    if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) {
      throw new Error(`webgl-rows: shader compilation failed: ${gl.getShaderInfoLog(s)}\n${source}`);
    }
    return s;
  };
  const vs = shader(gl.VERTEX_SHADER, vertex);
  const fs = shader(gl.FRAGMENT_SHADER, fragment);
  const program = gl.createProgram() as WebGLProgram;
  gl.attachShader(program, vs);
  gl.attachShader(program, fs);
  gl.linkProgram(program);
  gl.deleteShader(vs);
  gl.deleteShader(fs);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS)) {
    throw new Error(`webgl-rows: program link failed: ${gl.getProgramInfoLog(program)}`);
  }
  return program;
}

function programOf(gl: WebGL2RenderingContext, st: BackendState, key: string, vertex: string, fragment: () => string): Program {
  let p = st.programs.get(key);
  if (p === undefined) {
    const program = compile(gl, vertex, fragment());
    p = { program, locations: new Map() };
    st.programs.set(key, p);
  }
  return p;
}

function location(gl: WebGL2RenderingContext, p: Program, name: string): WebGLUniformLocation | null {
  let l = p.locations.get(name);
  if (l === undefined) {
    l = gl.getUniformLocation(p.program, name);
    p.locations.set(name, l);
  }
  return l;
}

/**
 * `s` with room for `texels`: a new texture from tfjs's manager when it is too
 * small (R32F unpacked, or RGBA32F as a packed tensor of twice the rows and columns).
 */
function ensureScratch(b: WebGLRowsInternals, s: Scratch, texels: number, rgba: boolean): GlTexture {
  const rows = Math.ceil(texels / SCRATCH_WIDTH);
  if (s.info === null || s.rows < rows) {
    if (s.info !== null) b.disposeIntermediateTensorInfo(s.info);
    const want = Math.max(rows, 2 * s.rows, 1);
    const info = b.makeTensorInfo(rgba ? [2 * want, 2 * SCRATCH_WIDTH] : [want, SCRATCH_WIDTH], 'float32');
    const d = b.texData.get(info.dataId as object);
    if (d === undefined) throw new Error('webgl-rows: the scratch texture has no record');
    d.isPacked = rgba;
    b.uploadToGPU(info.dataId as object);
    const [h, w] = (b.texData.get(info.dataId as object)?.texShape ?? [0, 0]) as [number, number];
    s.info = info;
    s.width = rgba ? Math.ceil(w / 2) : w;
    s.rows = rgba ? Math.ceil(h / 2) : h;
    if (s.width * s.rows < texels) throw new Error(`webgl-rows: a scratch texture of ${s.width}×${s.rows} texels`);
  }
  return textureOf(b, s.info);
}

function freeScratch(b: WebGLRowsInternals, s: Scratch): void {
  if (s.info !== null) b.disposeIntermediateTensorInfo(s.info);
  s.info = null;
  s.width = 0;
  s.rows = 0;
}

function textureOf(b: WebGLRowsInternals, t: { dataId: unknown }): GlTexture {
  return b.texData.get(t.dataId as object)?.texture as GlTexture;
}

/** Why `t` cannot be written in place, or null. */
function writableReason(b: WebGLRowsInternals, t: tf.Variable, what: string): string | null {
  const d = b.texData.get(t.dataId as object);
  if (d === undefined) return `the ${what} is not held by the webgl backend`;
  if (d.dtype !== 'float32') return `the ${what} has dtype ${d.dtype}`;
  if (d.refCount !== 1) return `the ${what} shares its texture with another tensor (refCount ${d.refCount})`;
  const slices = b.dataRefCount.get(t.dataId as object) ?? 1;
  if (slices > 1) return `the ${what} shares its texture with ${slices - 1} slice(s) of it`;
  if (d.slice != null) return `the ${what} is a slice of another tensor's texture`;
  return null;
}

/** The state's texture, on the GPU and unpacked (uploaded, or unpacked once and installed). */
function unpackedTexture(b: WebGLRowsInternals, v: tf.Variable): GlTexture {
  let d = b.texData.get(v.dataId as object);
  if (d !== undefined && d.texture == null) {
    b.uploadToGPU(v.dataId as object);
    d = b.texData.get(v.dataId as object);
  }
  if (d?.isPacked === true) {
    const unpacked = b.unpackTensor({ dataId: v.dataId, shape: v.shape, dtype: 'float32' });
    const t = tf.engine().makeTensorFromTensorInfo(unpacked);
    v.assign(t);
    t.dispose();
  }
  return textureOf(b, v);
}

/** The GL state the kernel's draws change, restored afterwards for tfjs (which sets most of it per draw anyway). */
function saveGl(gl: WebGL2RenderingContext): () => void {
  const framebuffer = gl.getParameter(gl.FRAMEBUFFER_BINDING) as WebGLFramebuffer | null;
  const program = gl.getParameter(gl.CURRENT_PROGRAM) as WebGLProgram | null;
  const vao = gl.getParameter(gl.VERTEX_ARRAY_BINDING) as WebGLVertexArrayObject | null;
  const viewport = gl.getParameter(gl.VIEWPORT) as Int32Array;
  const scissor = gl.getParameter(gl.SCISSOR_BOX) as Int32Array;
  const active = gl.getParameter(gl.ACTIVE_TEXTURE) as number;
  const unpack = gl.getParameter(gl.PIXEL_UNPACK_BUFFER_BINDING) as WebGLBuffer | null;
  const cull = gl.isEnabled(gl.CULL_FACE);
  const scissorTest = gl.isEnabled(gl.SCISSOR_TEST);
  gl.disable(gl.CULL_FACE);
  gl.enable(gl.SCISSOR_TEST);
  return () => {
    if (cull) gl.enable(gl.CULL_FACE); else gl.disable(gl.CULL_FACE);
    if (scissorTest) gl.enable(gl.SCISSOR_TEST); else gl.disable(gl.SCISSOR_TEST);
    gl.bindFramebuffer(gl.FRAMEBUFFER, framebuffer);
    gl.useProgram(program);
    gl.bindVertexArray(vao);
    gl.viewport(viewport[0], viewport[1], viewport[2], viewport[3]);
    gl.scissor(scissor[0], scissor[1], scissor[2], scissor[3]);
    gl.activeTexture(active);
    gl.bindBuffer(gl.PIXEL_UNPACK_BUFFER, unpack);
  };
}

function bindTexture(gl: WebGL2RenderingContext, p: Program, unit: number, name: string, texture: WebGLTexture): void {
  gl.activeTexture(gl.TEXTURE0 + unit);
  gl.bindTexture(gl.TEXTURE_2D, texture);
  gl.uniform1i(location(gl, p, name), unit);
}

function setInt(gl: WebGL2RenderingContext, p: Program, name: string, v: number): void {
  gl.uniform1i(location(gl, p, name), v);
}

/**
 * Attaches `textures` to the kernel's framebuffer as render targets 0…n−1,
 * detaching the rest. Completeness depends only on the targets' formats and
 * sizes (`kind`): it is checked the first time a kind is seen, as the check is
 * a round trip to the GPU process.
 */
function attach(
  gl: WebGL2RenderingContext, st: BackendState, textures: readonly WebGLTexture[], kind = '',
): void {
  gl.bindFramebuffer(gl.FRAMEBUFFER, st.framebuffer);
  for (let k = 0; k < 4; k++) {
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0 + k, gl.TEXTURE_2D, textures[k] ?? null, 0);
  }
  gl.drawBuffers(textures.map((_, k) => gl.COLOR_ATTACHMENT0 + k));
  if (textures.length === 0 || st.complete.has(kind)) return;
  const status = gl.checkFramebufferStatus(gl.FRAMEBUFFER);
  if (status !== gl.FRAMEBUFFER_COMPLETE) throw new Error(`webgl-rows: framebuffer incomplete (0x${status.toString(16)})`);
  st.complete.add(kind);
}

/** The job as floats: per row its record (row, slice, decay, muPow, muSum), then the gradient rows. */
function fillJob(st: BackendState, job: RowJob, padded: number): Float32Array {
  if (st.staging.length < padded) st.staging = new Float32Array(Math.max(padded, 2 * st.staging.length));
  const a = st.staging;
  const k = job.rows.length;
  const c = job.catchUp;
  for (let p = 0; p < k; p++) {
    const at = p * ROW_RECORD_FLOATS;
    a[at] = job.rows[p];
    a[at + 1] = job.values === null ? 0 : job.slice[p];
    a[at + 2] = c === null ? 1 : c.decay[p];
    a[at + 3] = c?.muPow == null ? 1 : c.muPow[p];
    a[at + 4] = c?.muSum == null ? 0 : c.muSum[p];
  }
  if (job.values !== null) a.set(job.values, k * ROW_RECORD_FLOATS);
  return a.subarray(0, padded);
}

function stepRows(b: WebGLRowsInternals, target: { variable: tf.Variable; slots: SlotSet }, job: RowJob): void {
  const k = job.rows.length;
  const n = k * job.rowSize;
  const step = jobStatements(job) as { statements: Statement[]; outputs: Partial<Record<RowState, string>> };
  const st = states.of(b);
  const gl = b.gpgpu.gl;
  const tensors: Record<RowState, tf.Variable | undefined> = {
    w: target.variable, ms: target.slots.rms, mom: target.slots.momentum, mg: target.slots.mg,
  };
  const read = statesRead(step.statements);
  const written = STATES.filter((s) => step.outputs[s] !== undefined);
  // Textures first (uploads and layout changes are tfjs draws of their own).
  const textures = new Map<RowState, GlTexture>();
  for (const s of new Set([...read, ...written])) textures.set(s, unpackedTexture(b, tensors[s] as tf.Variable));
  const jobLength = k * ROW_RECORD_FLOATS + (job.values?.length ?? 0);
  const jobTexture = ensureScratch(b, st.job, jobLength, false);
  const outTexture = ensureScratch(b, st.out, n, true);

  const restore = saveGl(gl);
  try {
    gl.bindBuffer(gl.PIXEL_UNPACK_BUFFER, null);
    const jobRows = Math.ceil(jobLength / st.job.width);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, jobTexture.texture);
    gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, st.job.width, jobRows, gl.RED, gl.FLOAT, fillJob(st, job, jobRows * st.job.width));
    gl.bindVertexArray(st.vao);

    // 1. The new state of each element, into the scratch texture.
    const flavor = job.form.flavor ?? 'keras2';
    const key = `update|${flavor}|${job.form.path}|${job.form.centered}|${step.statements.map((s) => `${s.name}=${s.expr}`).join(';')}`;
    const update = programOf(gl, st, key, COVER_VERTEX, () => rowsUpdateSource(step.statements, step.outputs));
    gl.useProgram(update.program);
    bindTexture(gl, update, 0, 'uJob', jobTexture.texture);
    setInt(gl, update, 'uJobWidth', st.job.width);
    setInt(gl, update, 'uN', n);
    setInt(gl, update, 'uRowSize', job.rowSize);
    setInt(gl, update, 'uGBase', k * ROW_RECORD_FLOATS);
    setInt(gl, update, 'uOutWidth', st.out.width);
    read.forEach((s, i) => {
      const sampler = { w: 'uW', ms: 'uMS', mom: 'uMOM', mg: 'uMG' }[s];
      const t = textures.get(s) as GlTexture;
      bindTexture(gl, update, 1 + i, sampler, t.texture);
      setInt(gl, update, `${sampler}Width`, t.texShape[1]);
    });
    const values = uniformValues(job.s, null);
    for (const u of updateUniforms(step.statements)) gl.uniform1f(location(gl, update, u), values[UNIFORMS.indexOf(u as typeof UNIFORMS[number])]);
    attach(gl, st, [outTexture.texture], `rgba ${st.out.width}x${st.out.rows}`);
    const outRows = Math.ceil(n / st.out.width);
    gl.viewport(0, 0, st.out.width, outRows);
    gl.scissor(0, 0, st.out.width, outRows);
    gl.drawArrays(gl.TRIANGLES, 0, 3);

    // 2. Each element's point on its texel of every written state texture (grouped by texture shape:
    // the render targets of one draw must have the same size).
    const channels = channelsOf(step.outputs);
    const groups = new Map<string, RowState[]>();
    for (const s of written) {
      const shape = (textures.get(s) as GlTexture).texShape.join('x');
      groups.set(shape, [...(groups.get(shape) ?? []), s]);
    }
    for (const group of groups.values()) {
      const chans = group.map((s) => channels[s]).join('');
      const scatter = programOf(gl, st, `scatter|${chans}`, SCATTER_VERTEX, () => scatterFragment(chans));
      const [height, width] = (textures.get(group[0]) as GlTexture).texShape;
      // A row of rowSize elements spans at most this many texture rows.
      const segments = Math.ceil(job.rowSize / width) + 1;
      gl.useProgram(scatter.program);
      bindTexture(gl, scatter, 0, 'uJob', jobTexture.texture);
      setInt(gl, scatter, 'uJobWidth', st.job.width);
      bindTexture(gl, scatter, 1, 'uNew', outTexture.texture);
      setInt(gl, scatter, 'uNewWidth', st.out.width);
      setInt(gl, scatter, 'uRowSize', job.rowSize);
      setInt(gl, scatter, 'uSegments', segments);
      setInt(gl, scatter, 'uTargetWidth', width);
      gl.uniform2f(location(gl, scatter, 'uTargetSize'), width, height);
      attach(gl, st, group.map((s) => (textures.get(s) as GlTexture).texture), `r ${width}x${height}x${group.length}`);
      gl.viewport(0, 0, width, height);
      gl.scissor(0, 0, width, height);
      gl.drawArrays(gl.TRIANGLES, 0, k * segments * 6);
    }
    attach(gl, st, []);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, null);
    gl.activeTexture(gl.TEXTURE1);
    gl.bindTexture(gl.TEXTURE_2D, null);
  } finally {
    restore();
  }
  // The textures changed under tfjs: drop any CPU copy a read cached.
  for (const s of written) {
    const d = b.texData.get((tensors[s] as tf.Variable).dataId as object);
    if (d !== undefined) d.values = null;
  }
  states.use(b, target.variable);
}

export const webglRows: RowKernel = {
  name: 'webgl-rows',
  unsupportedReason({ variable, slots }, job) {
    const version = tfjsVersionReason();
    if (version !== null) return version;
    const b = webglRowsBackend();
    if (b === null) return 'the webgl backend internals are not reachable (tfjs-backend-webgl 4.22 expected)';
    const context = webglContextReason();
    if (context !== null) return context;
    if (variable.dtype !== 'float32') return `dtype ${variable.dtype}`;
    if (jobStatements(job) === null) return `no shader form for the ${job.form.flavor ?? 'keras2'} ${job.form.path} rows`;
    // Row indices travel as float32 (exact below 2^24) and element indices as 32-bit ints.
    if (variable.shape[0] > 2 ** 24) return `the table has ${variable.shape[0]} rows, over the 2^24 the kernel indexes`;
    if (variable.size >= 2 ** 31) return `the table has ${variable.size} elements, over the 2^31 the kernel indexes`;
    const max = b.gpgpu.gl.getParameter(b.gpgpu.gl.MAX_TEXTURE_SIZE) as number;
    const texels = Math.max(job.rows.length * ROW_RECORD_FLOATS + (job.values?.length ?? 0), job.rows.length * job.rowSize);
    if (texels > SCRATCH_WIDTH * max) return `the step's rows need ${texels} texels, over the ${SCRATCH_WIDTH}×${max} of a scratch texture`;
    const written: Array<[tf.Variable | undefined, string]> = [
      [variable, 'variable'], [slots.rms, 'rms slot'], [slots.momentum, 'momentum slot'], [slots.mg, 'mg slot'],
    ];
    for (const [t, what] of written) {
      if (t === undefined) continue;
      const why = writableReason(b, t, what);
      if (why !== null) return why;
    }
    return null;
  },
  run(target, job) {
    if (job.rows.length === 0) return;
    stepRows(webglRowsBackend() as WebGLRowsInternals, target, job);
  },
  release(variable: tf.Variable, _slots: SlotSet) {
    const b = webglRowsBackend();
    if (b === null) return;
    const st = states.release(b, variable);
    if (st === null) return;
    freeScratch(b, st.job);
    freeScratch(b, st.out);
    st.staging = new Float32Array(0);
  },
};
