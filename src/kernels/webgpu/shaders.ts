/**
 * WGSL for the fused WebGPU step, built from the statements of
 * ../gpu/formulas.ts: the update (every state tensor of one variable read and
 * written in place by one invocation per element), and for clipping the Σx²
 * of each gradient (workgroup partial sums, then one workgroup that finishes
 * every gradient's sum and clip_by_global_norm's factor). Workgroups of 64
 * invocations run on every adapter (compatibility adapters allow 128).
 */
import {
  AROUND_UNIFORMS, freeNames, GLOBAL_SCALE, globalTerm, UNIFORMS, type AroundOutputs, type ClipForm, type Statement,
} from '../gpu/formulas.js';

export const WORKGROUP = 64;
/**
 * Elements per invocation of the update, strided by the grid's size (so a
 * workgroup's loads stay contiguous on a GPU). On SwiftShader sixteen measured
 * faster than four at both 1 × 1e6 and 200 × 5,000 (fewer invocations and
 * workgroups to schedule; 64 was slower at 1e6): docs/gpu-kernels.md.
 */
export const ELEMENTS_PER_INVOCATION = 16;

/** Byte stride of the per-variable `Info` records in their uniform buffer (the usual minUniformBufferOffsetAlignment). */
export const INFO_STRIDE = 256;
/** `Scalars`: the UNIFORMS as f32, the count of variables, then the AROUND_UNIFORMS; 64 bytes. */
export const SCALARS_BYTES = 64;
/** Word index of `count` in `Scalars`; Keras 3's passes follow it. */
export const COUNT_WORD = UNIFORMS.length;

const HEADER = `
struct Scalars {
${UNIFORMS.map((u) => `  ${u}: f32,`).join('\n')}
  count: u32,
${AROUND_UNIFORMS.map((u) => `  ${u}: f32,`).join('\n')}
}
struct Info {
  n: u32,
  k: u32,
  partOffset: u32,
  perThread: u32,
}
@group(0) @binding(0) var<uniform> sc: Scalars;
`;

const HELPERS: Record<string, string> = {
  fmad: 'fn fmad(a: f32, b: f32, c: f32) -> f32 { return fma(a, b, c); }',
  // clip_by_norm's max(‖g‖, c), ‖g‖ being Σg² itself when that is not positive (TF's where).
  clipDivisor: 'fn clipDivisor(s: f32, c: f32) -> f32 { var n = s; if (s > 0.0) { n = sqrt(s); } return max(n, c); }',
  rsqrt: 'fn rsqrt(a: f32) -> f32 { return inverseSqrt(a); }',
  // A row's catch-up: a row that missed no step keeps w exactly (w − m·0 would turn an infinite m into NaN).
  moveBy: 'fn moveBy(w: f32, m: f32, s: f32) -> f32 { if (s != 0.0) { return w - m * s; } return w; }',
};

/** The same helpers on four lanes, for the update over vec4 elements (each lane as the scalar one computes it). */
const HELPERS4: Record<string, string> = {
  fmad: 'fn fmad(a: vec4<f32>, b: vec4<f32>, c: vec4<f32>) -> vec4<f32> { return fma(a, b, c); }',
  clipDivisor: 'fn clipDivisor(s: vec4<f32>, c: vec4<f32>) -> vec4<f32> { return max(select(s, sqrt(s), s > vec4<f32>(0.0)), c); }',
  rsqrt: 'fn rsqrt(a: vec4<f32>) -> vec4<f32> { return inverseSqrt(a); }',
  moveBy: 'fn moveBy(w: vec4<f32>, m: vec4<f32>, s: vec4<f32>) -> vec4<f32> { return select(w, w - m * s, s != vec4<f32>(0.0)); }',
};

function helpers(free: Set<string>, vec4 = false): string {
  const from = vec4 ? HELPERS4 : HELPERS;
  return Object.keys(from).filter((h) => free.has(h)).map((h) => from[h]).join('\n');
}

function uniformLets(free: Set<string>, vec4 = false): string {
  return [...UNIFORMS, ...AROUND_UNIFORMS].filter((u) => free.has(u))
    .map((u) => `  let ${u} = ${vec4 ? `vec4<f32>(sc.${u})` : `sc.${u}`};`).join('\n');
}

function lets(statements: readonly Statement[], indent = '  '): string {
  return statements.map((st) => `${indent}let ${st.name} = ${st.expr};`).join('\n');
}

/** Storage bindings of the update shader, by state name. */
export const UPDATE_BINDINGS = { w: 2, ms: 3, mom: 4, mg: 5, g: 6, clip: 7, acc: 8, ema: 9 } as const;

/** The state tensors an update may bind: the rule's, Keras 3's accumulator and average. */
export type BoundState = 'w' | 'ms' | 'mom' | 'mg' | 'acc' | 'ema';
const BOUND_STATES: readonly BoundState[] = ['w', 'ms', 'mom', 'mg', 'acc', 'ema'];

const ARRAY_OF: Record<BoundState, string> = { w: 'W', ms: 'MS', mom: 'MOM', mg: 'MG', acc: 'ACC', ema: 'EMA' };

/** The state tensors the statements read or write, in binding order. */
export function boundStates(statements: readonly Statement[], outputs: AroundOutputs): BoundState[] {
  const free = freeNames(statements);
  return BOUND_STATES.filter((s) => outputs[s] !== undefined || free.has(s));
}

/**
 * Whether the update shader of these statements reads the step's scalars: a
 * layout made with 'auto' has no binding 0 when it does not (an accumulating call).
 */
export function readsScalars(statements: readonly Statement[]): boolean {
  const free = freeNames(statements);
  return free.has('cScale') || [...UNIFORMS, ...AROUND_UNIFORMS].some((u) => free.has(u));
}

/**
 * The update of one variable: an invocation reads element i of the gradient and
 * of every state tensor the statements read, runs the statements, and writes the
 * new state where it read it, for ELEMENTS_PER_INVOCATION elements i strided by
 * the grid's size. Workgroups span a 2-D grid (over 65,535 in x). With `vec4` an
 * element is four floats (for a variable whose size is a multiple of 4): the
 * same statements on four lanes, with the step's scalars splat, a quarter of the
 * loads and stores (SwiftShader checks the bounds of each). The gradient is
 * read as `gIn` when a statement makes `g` (Keras 3's loss scale and mean).
 */
export function updateShader(statements: readonly Statement[], outputs: AroundOutputs, clip: ClipForm, vec4 = false): string {
  const free = freeNames(statements);
  const states = boundStates(statements, outputs);
  const clipped = clip.norm || clip.global;
  const type = vec4 ? 'vec4<f32>' : 'f32';
  const splat = (e: string): string => (vec4 ? `vec4<f32>(${e})` : e);
  const access = (st: BoundState): string => (outputs[st] !== undefined ? 'read_write' : 'read');
  const bindings = [
    '@group(0) @binding(1) var<uniform> info: Info;',
    ...states.map((st) => `@group(0) @binding(${UPDATE_BINDINGS[st]}) var<storage, ${access(st)}> ${ARRAY_OF[st]}: array<${type}>;`),
    `@group(0) @binding(${UPDATE_BINDINGS.g}) var<storage, read> G: array<${type}>;`,
    ...(clipped ? [`@group(0) @binding(${UPDATE_BINDINGS.clip}) var<storage, read> CLIP: array<f32>;`] : []),
  ];
  const reads = [
    `  let ${statements.some((st) => st.name === 'g') ? 'gIn' : 'g'} = G[i];`,
    ...states.filter((st) => free.has(st)).map((st) => `  let ${st} = ${ARRAY_OF[st]}[i];`),
    ...(free.has('cS') ? [`  let cS = ${splat('CLIP[info.k]')};`] : []),
    ...(free.has('cScale') ? [`  let cScale = ${splat('CLIP[sc.count]')};`] : []),
  ];
  // A literal output (the accumulator's reset) is splat like the scalars.
  const value = (e: string): string => (/^[0-9.]+$/.test(e) ? splat(e) : e);
  const writes = states.filter((st) => outputs[st] !== undefined).map((st) => `  ${ARRAY_OF[st]}[i] = ${value(outputs[st] as string)};`);
  return `${HEADER}
${bindings.join('\n')}
${helpers(free, vec4)}
${gridMain(uniformLets(free, vec4), 'i', vec4 ? '(info.n >> 2u)' : 'info.n', [...reads, ...lets(statements).split('\n'), ...writes].join('\n').replace(/^ {2}/gm, '    '))}`;
}

/**
 * The entry point over a 2-D grid of workgroups (over 65,535 in x): each
 * invocation takes ELEMENTS_PER_INVOCATION indices `index` below `limit`,
 * strided by the grid's size, and runs `body` (indented four spaces) for each.
 * An invocation whose every index is in range runs a loop without the bound
 * test, which a GPU compiler can unroll and whose loads it can issue together.
 */
function gridMain(prelude: string, index: string, limit: string, body: string): string {
  return `@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let first = gid.x + gid.y * groups.x * ${WORKGROUP}u;
  let stride = groups.x * groups.y * ${WORKGROUP}u;
${prelude}
  if (first + ${ELEMENTS_PER_INVOCATION - 1}u * stride < ${limit}) {
    for (var j = 0u; j < ${ELEMENTS_PER_INVOCATION}u; j = j + 1u) {
      let ${index} = first + j * stride;
${body}
    }
    return;
  }
  for (var j = 0u; j < ${ELEMENTS_PER_INVOCATION}u; j = j + 1u) {
    let ${index} = first + j * stride;
    if (${index} >= ${limit}) { return; }
${body}
  }
}
`;
}

/**
 * First stage of Σx² (x clipped by value; ±∞ bounds leave it as is): each
 * workgroup sums `perThread · 64` elements, each invocation a strided run, then
 * a tree over the workgroup, into PART[partOffset + workgroup].
 */
export const PARTIAL_SUM_SHADER = `${HEADER}
@group(0) @binding(1) var<uniform> info: Info;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read_write> PART: array<f32>;
var<workgroup> acc: array<f32, ${WORKGROUP}>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let base = wid.x * info.perThread * ${WORKGROUP}u + lid.x;
  var s: f32 = 0.0;
  for (var j = 0u; j < info.perThread; j = j + 1u) {
    let i = base + j * ${WORKGROUP}u;
    if (i < info.n) {
      let x = max(min(G[i], sc.uHi), sc.uLo);
      s = s + x * x;
    }
  }
  acc[lid.x] = s;
  workgroupBarrier();
  for (var h = ${WORKGROUP / 2}u; h > 0u; h = h >> 1u) {
    if (lid.x < h) { acc[lid.x] = acc[lid.x] + acc[lid.x + h]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { PART[info.partOffset + wid.x] = acc[0]; }
}
`;

/** Levels of the workgroup tree in PARTIAL_SUM_SHADER (for the error bound of the sums). */
export const TREE_LEVELS = Math.log2(WORKGROUP);

/**
 * Second stage, one workgroup: CLIP[k] = Σ of gradient k's partial sums
 * (TABLE[k] = offset, count), then with globalClipnorm CLIP[count] = its factor.
 */
export function finishShader(clip: ClipForm): string {
  const term = globalTerm(clip.norm);
  const free = freeNames([...term, ...GLOBAL_SCALE]);
  const global = clip.global ? `
  storageBarrier();
  workgroupBarrier();
  if (lid.x == 0u) {
${uniformLets(free).replace(/^ {2}/gm, '    ')}
    var cHalf: f32 = 0.0;
    for (var k = 0u; k < sc.count; k = k + 1u) {
      let cS = CLIP[k];
${lets(term, '      ')}
      cHalf = cHalf + cTerm;
    }
${lets(GLOBAL_SCALE, '    ')}
    CLIP[sc.count] = cScaleOut;
  }` : '';
  return `${HEADER}
@group(0) @binding(2) var<storage, read> PART: array<f32>;
@group(0) @binding(3) var<storage, read> TABLE: array<vec2<u32>>;
@group(0) @binding(4) var<storage, read_write> CLIP: array<f32>;
${clip.global ? helpers(free) : ''}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  for (var k = lid.x; k < sc.count; k = k + ${WORKGROUP}u) {
    let t = TABLE[k];
    var s: f32 = 0.0;
    for (var p = 0u; p < t.y; p = p + 1u) { s = s + PART[t.x + p]; }
    CLIP[k] = s;
  }${global}
}
`;
}

/** Partial sums per gradient of n elements: at most 1024 workgroups of `perThread` elements per invocation. */
export function sumShape(n: number): { perThread: number; workgroups: number } {
  const perThread = Math.max(16, Math.ceil(n / (WORKGROUP * 1024)));
  return { perThread, workgroups: Math.max(1, Math.ceil(n / (WORKGROUP * perThread))) };
}

/** Words per row of a sparse step's job record: row, gradient slice, decay, muPow, muSum (rows.ts). */
export const ROW_RECORD_WORDS = 5;
/** `RowScalars`: the UNIFORMS as f32, then n (elements), rowSize, gBase (word offset of the gradient rows); 64 bytes. */
export const ROW_SCALARS_BYTES = 64;

/** Storage bindings of the rows shader, by state name (JOB: the records and the gradient rows). */
export const ROW_BINDINGS = { job: 1, w: 2, ms: 3, mom: 4, mg: 5 } as const;

const STATE_NAMES = ['w', 'ms', 'mom', 'mg'] as const;

/**
 * The state tensors the rows shader binds: those it reads (as themselves, or as
 * the stored value a catch-up starts from) or writes. A pipeline's layout has
 * only the bindings its code uses, so the bind group names exactly these.
 */
export function rowsBound(statements: readonly Statement[], outputs: Partial<Record<string, string>>): Array<(typeof STATE_NAMES)[number]> {
  const free = freeNames(statements);
  return STATE_NAMES.filter((s) => free.has(s) || free.has(`${s}In`) || outputs[s] !== undefined);
}

/**
 * The rows of one sparse step of one variable, in place: invocation e takes
 * element `e mod rowSize` of row `p = e / rowSize` of the job, reads its record
 * (table row, gradient slice, catch-up factors) and that element of every
 * state tensor read, runs the statements (../gpu/formulas.ts `rowStatements`)
 * and writes the new state where it read it. The rows are distinct, so no two
 * invocations write one element.
 */
export function rowsShader(statements: readonly Statement[], outputs: Partial<Record<string, string>>): string {
  const free = freeNames(statements);
  const bound = rowsBound(statements, outputs);
  const written = new Set(STATE_NAMES.filter((s) => outputs[s] !== undefined));
  const bindings = bound.map((s) =>
    `@group(0) @binding(${ROW_BINDINGS[s]}) var<storage, ${written.has(s) ? 'read_write' : 'read'}> ${ARRAY_OF[s]}: array<f32>;`);
  const reads = [
    ...(free.has('g') ? ['let g = bitcast<f32>(JOB[sc.gBase + JOB[rec + 1u] * sc.rowSize + c]);'] : []),
    ...(free.has('rDecay') ? ['let rDecay = bitcast<f32>(JOB[rec + 2u]);'] : []),
    ...(free.has('rMuPow') ? ['let rMuPow = bitcast<f32>(JOB[rec + 3u]);'] : []),
    ...(free.has('rMuSum') ? ['let rMuSum = bitcast<f32>(JOB[rec + 4u]);'] : []),
    ...STATE_NAMES.flatMap((s) => [
      ...(free.has(s) ? [`let ${s} = ${ARRAY_OF[s]}[i];`] : []),
      ...(free.has(`${s}In`) ? [`let ${s}In = ${ARRAY_OF[s]}[i];`] : []),
    ]),
  ];
  const writes = STATE_NAMES.filter((s) => written.has(s)).map((s) => `${ARRAY_OF[s]}[i] = ${outputs[s]};`);
  const uniforms = UNIFORMS.filter((u) => free.has(u)).map((u) => `let ${u} = sc.${u};`);
  return `struct RowScalars {
${UNIFORMS.map((u) => `  ${u}: f32,`).join('\n')}
  n: u32,
  rowSize: u32,
  gBase: u32,
}
@group(0) @binding(0) var<uniform> sc: RowScalars;
@group(0) @binding(${ROW_BINDINGS.job}) var<storage, read> JOB: array<u32>;
${bindings.join('\n')}
${helpers(free)}
${gridMain('', 'e', 'sc.n', [
    'let p = e / sc.rowSize;', 'let c = e - p * sc.rowSize;', `let rec = p * ${ROW_RECORD_WORDS}u;`, 'let i = JOB[rec] * sc.rowSize + c;',
    ...uniforms, ...reads, ...lets(statements, '').split('\n'), ...writes,
  ].map((l) => `    ${l}`).join('\n'))}`;
}
