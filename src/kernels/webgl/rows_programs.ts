/**
 * GLSL ES 3.00 sources of the WebGL row kernel (rows.ts), drawn with the
 * context directly rather than through tfjs's programs: tfjs draws one
 * full-texture quad per program, and the rows need points at the touched
 * texels of the table's own texture.
 *
 * - The update (`rowsUpdateSource`): one fragment per element of the touched
 *   rows, in a scratch RGBA texture, reads its row's record (table row,
 *   gradient slice, catch-up factors) and the element of each state texture,
 *   runs the statements (../gpu/formulas.ts `rowStatements`) and writes the new
 *   state as one texel, a state per channel.
 * - The scatter (`rowsScatterSource`): one point per element, placed on the
 *   element's texel of the table's (unpacked) textures, writes each state
 *   texture its channel, all of them in one draw (multiple render targets).
 *
 * Unpacked textures hold one element per texel, in flat row-major order
 * (tfjs's `uvFromFlat`): element f is at (f mod width, f div width).
 */
import { freeNames, UNIFORMS, type Statement } from '../gpu/formulas.js';
import { declare, helpers } from './programs.js';

/** Floats per row of the job texture: row, gradient slice, decay, muPow, muSum. */
export const ROW_RECORD_FLOATS = 5;

export const STATES = ['w', 'ms', 'mom', 'mg'] as const;
export type RowState = (typeof STATES)[number];

const SAMPLER_OF: Record<RowState, string> = { w: 'uW', ms: 'uMS', mom: 'uMOM', mg: 'uMG' };

const HEADER = `#version 300 es
precision highp float;
precision highp int;
precision highp sampler2D;`;

/** The state textures the update reads: as themselves, or as the stored values a catch-up starts from. */
export function statesRead(statements: readonly Statement[]): RowState[] {
  const free = freeNames(statements);
  return STATES.filter((s) => free.has(s) || free.has(`${s}In`));
}

/** Uniforms the update sets, beside the samplers: the step's scalars it reads. */
export function updateUniforms(statements: readonly Statement[]): string[] {
  const free = freeNames(statements);
  return UNIFORMS.filter((u) => free.has(u));
}

/** The channel of each written state in the update's output texel, in STATES order. */
export function channelsOf(outputs: Partial<Record<RowState, string>>): Partial<Record<RowState, 'x' | 'y' | 'z' | 'w'>> {
  const out: Partial<Record<RowState, 'x' | 'y' | 'z' | 'w'>> = {};
  STATES.filter((s) => outputs[s] !== undefined).forEach((s, i) => { out[s] = (['x', 'y', 'z', 'w'] as const)[i]; });
  return out;
}

export function rowsUpdateSource(statements: readonly Statement[], outputs: Partial<Record<RowState, string>>): string {
  const free = freeNames(statements);
  const read = statesRead(statements);
  const written = STATES.filter((s) => outputs[s] !== undefined);
  const value = [0, 1, 2, 3].map((k) => (k < written.length ? outputs[written[k]] as string : '0.0'));
  const reads = [
    ...(free.has('g') ? ['float g = job(uGBase + int(job(rec + 1)) * uRowSize + c);'] : []),
    ...(free.has('rDecay') ? ['float rDecay = job(rec + 2);'] : []),
    ...(free.has('rMuPow') ? ['float rMuPow = job(rec + 3);'] : []),
    ...(free.has('rMuSum') ? ['float rMuSum = job(rec + 4);'] : []),
    ...read.map((s) => `float ${free.has(s) ? s : `${s}In`} = at(${SAMPLER_OF[s]}, ${SAMPLER_OF[s]}Width, i);`),
  ];
  return `${HEADER}
uniform sampler2D uJob;
uniform int uJobWidth;
uniform int uN;
uniform int uRowSize;
uniform int uGBase;
uniform int uOutWidth;
${read.map((s) => `uniform sampler2D ${SAMPLER_OF[s]};\nuniform int ${SAMPLER_OF[s]}Width;`).join('\n')}
${updateUniforms(statements).map((u) => `uniform float ${u};`).join('\n')}
out vec4 outColor;
float at(sampler2D t, int width, int i) { return texelFetch(t, ivec2(i % width, i / width), 0).r; }
float job(int i) { return at(uJob, uJobWidth, i); }
${helpers('float', free)}
void main() {
  ivec2 xy = ivec2(gl_FragCoord.xy);
  int e = xy.y * uOutWidth + xy.x;
  if (e >= uN) { outColor = vec4(0.0); return; }
  int p = e / uRowSize;
  int c = e - p * uRowSize;
  int rec = p * ${ROW_RECORD_FLOATS};
  int i = int(job(rec)) * uRowSize + c;
${reads.map((l) => `  ${l}`).join('\n')}
${declare('float', statements)}
  outColor = vec4(${value.join(', ')});
}
`;
}

/** One triangle that covers the viewport (vertices from gl_VertexID: no buffers). */
export const COVER_VERTEX = `${HEADER}
void main() {
  vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
  gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}
`;

/** The scatter's points: element e of the job lands on the texel of its table element. */
export const SCATTER_VERTEX = `${HEADER}
uniform sampler2D uJob;
uniform int uJobWidth;
uniform sampler2D uNew;
uniform int uNewWidth;
uniform int uRowSize;
uniform int uTargetWidth;
uniform vec2 uTargetSize;
flat out vec4 vNew;
void main() {
  int e = gl_VertexID;
  int p = e / uRowSize;
  int c = e - p * uRowSize;
  int rec = p * ${ROW_RECORD_FLOATS};
  int row = int(texelFetch(uJob, ivec2(rec % uJobWidth, rec / uJobWidth), 0).r);
  int f = row * uRowSize + c;
  vec2 texel = vec2(float(f % uTargetWidth), float(f / uTargetWidth)) + 0.5;
  gl_Position = vec4(texel / uTargetSize * 2.0 - 1.0, 0.0, 1.0);
  gl_PointSize = 1.0;
  vNew = texelFetch(uNew, ivec2(e % uNewWidth, e / uNewWidth), 0);
}
`;

/** The scatter's fragments: render target k gets channel `channels[k]` of the element's new state. */
export function scatterFragment(channels: string): string {
  const outs = [...channels].map((_, k) => `layout(location = ${k}) out vec4 o${k};`).join('\n');
  const sets = [...channels].map((ch, k) => `  o${k} = vec4(vNew.${ch});`).join('\n');
  return `${HEADER}
flat in vec4 vNew;
${outs}
void main() {
${sets}
}
`;
}
