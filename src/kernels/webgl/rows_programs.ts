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
 * - The scatter (`SCATTER_VERTEX`, `scatterFragment`): the texels of the
 *   touched rows in the table's (unpacked) textures, as rectangles, each
 *   fragment writing each state texture its channel of its element's new
 *   state, all of them in one draw (multiple render targets).
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

/**
 * The scatter's geometry: each row of the job as the runs of texels it spans
 * in the table's texture (a row of `rowSize` elements from flat index
 * row·rowSize covers at most `uSegments` texture rows), each run a rectangle
 * of two triangles with its corners on texel edges, so the rasterizer covers
 * exactly its texels (pixel centers never lie on an edge). Runs a row does not
 * need collapse to a point and draw nothing. A rectangle per run rather than a
 * point per element: 16 times fewer primitives for rows of 64 in a wide
 * texture (on SwiftShader, 1,024 such rows finished in 9 ms instead of 30).
 */
export const SCATTER_VERTEX = `${HEADER}
uniform sampler2D uJob;
uniform int uJobWidth;
uniform int uRowSize;
uniform int uSegments;
uniform int uTargetWidth;
uniform vec2 uTargetSize;
flat out int vFirst;
flat out int vStart;
void main() {
  int v = gl_VertexID;
  int run = v / 6;
  int corner = v - run * 6;
  int p = run / uSegments;
  int s = run - p * uSegments;
  int rec = p * ${ROW_RECORD_FLOATS};
  int row = int(texelFetch(uJob, ivec2(rec % uJobWidth, rec / uJobWidth), 0).r);
  int start = row * uRowSize;
  int last = start + uRowSize - 1;
  int y = start / uTargetWidth + s;
  int x0 = s == 0 ? start - (start / uTargetWidth) * uTargetWidth : 0;
  int x1 = y == last / uTargetWidth ? last - (last / uTargetWidth) * uTargetWidth + 1 : uTargetWidth;
  if (y > last / uTargetWidth) { x1 = x0; }
  // Corners of the two triangles (0, 1, 2) and (2, 1, 3) of the rectangle, counter-clockwise.
  int c = corner < 3 ? corner : corner == 3 ? 2 : corner == 4 ? 1 : 3;
  float x = float((c & 1) == 1 ? x1 : x0);
  float yy = float(y + (c >> 1));
  gl_Position = vec4(vec2(x, yy) / uTargetSize * 2.0 - 1.0, 0.0, 1.0);
  vFirst = p * uRowSize;
  vStart = start;
}
`;

/**
 * The scatter's fragments: the texel of table element f is job element
 * `first + f − start`, whose new state is texel e of the update's output;
 * render target k gets channel `channels[k]` of it.
 */
export function scatterFragment(channels: string): string {
  const outs = [...channels].map((_, k) => `layout(location = ${k}) out vec4 o${k};`).join('\n');
  const sets = [...channels].map((ch, k) => `  o${k} = vec4(v.${ch});`).join('\n');
  return `${HEADER}
uniform sampler2D uNew;
uniform int uNewWidth;
uniform int uTargetWidth;
flat in int vFirst;
flat in int vStart;
${outs}
void main() {
  ivec2 xy = ivec2(gl_FragCoord.xy);
  int e = vFirst + (xy.y * uTargetWidth + xy.x - vStart);
  vec4 v = texelFetch(uNew, ivec2(e % uNewWidth, e / uNewWidth), 0);
${sets}
}
`;
}
