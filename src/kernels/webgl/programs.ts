/**
 * GLSL ES 3.00 programs for the fused WebGL step, built from the statements of
 * ../gpu/formulas.ts. tfjs's shader compiler supplies the samplers
 * (`getXAtOutCoords`, `getX(i)`), `getOutputCoords` and `setOutput`; texture
 * names are upper case (tfjs derives the getter names from them), locals lower.
 * The source of a program depends only on the form and the shapes, so tfjs
 * compiles each once and caches it; the step's numbers arrive as uniforms.
 */
import {
  AROUND_UNIFORMS, closure, freeNames, GLOBAL_SCALE, globalTerm, UNIFORMS, type Statement,
} from '../gpu/formulas.js';
import type { GlProgram } from './backend.js';

/**
 * Texture names of the element inputs (the gradient as `g`, or as `gIn` when
 * Keras 3's passes make `g` from it; the state; the accumulator and average)
 * and of the per-variable clip values.
 */
export const TEXTURE_OF: Readonly<Record<string, string>> = {
  g: 'G', gIn: 'GIN', w: 'W', ms: 'MS', mom: 'MOM', mg: 'MG', acc: 'ACC', ema: 'EMA', cS: 'CS', cScale: 'CSCALE',
};

const SCALAR_INPUTS = new Set(['cS', 'cScale']);

/** The helper functions of the shader statements that `used` names, over float or (packed) vec4. */
export function helpers(type: 'float' | 'vec4', used: Set<string>): string {
  const out: string[] = [];
  if (used.has('fmad')) {
    out.push(`${type} fmad(${type} a, ${type} b, ${type} c) { return a * b + c; }`);
    if (type === 'vec4') out.push('vec4 fmad(vec4 a, float b, vec4 c) { return a * b + c; }');
  }
  if (used.has('rsqrt')) out.push(`${type} rsqrt(${type} a) { return inversesqrt(a); }`);
  // A row's catch-up (rows only, unpacked): a row that missed no step keeps w exactly.
  if (used.has('moveBy')) out.push('float moveBy(float w, float m, float s) { return s != 0.0 ? w - m * s : w; }');
  if (used.has('clipDivisor')) {
    // clip_by_norm's max(‖g‖, c), with ‖g‖ taken as Σg² itself when that is not positive (TF's where).
    out.push('float clipDivisor(float s, float c) { float n = s > 0.0 ? sqrt(s) : s; return max(n, c); }');
  }
  return out.join('\n');
}

export function declare(type: string, statements: readonly Statement[]): string {
  return statements.map((st) => `  ${type} ${st.name} = ${st.expr};`).join('\n');
}

function usedUniforms(free: Set<string>): Array<{ name: string; type: 'float' }> {
  return [...UNIFORMS, ...AROUND_UNIFORMS].filter((u) => free.has(u)).map((name) => ({ name, type: 'float' as const }));
}

/** A program and the names of the inputs and uniforms it takes, in order. */
export interface BuiltProgram {
  readonly program: GlProgram;
  /** Element inputs and clip values (formula names), matching `program.variableNames`. */
  readonly inputs: readonly string[];
  /** Uniform names, matching `program.customUniforms`. */
  readonly uniforms: readonly string[];
}

/**
 * The program that writes one state tensor: it reads the old state and the
 * gradient and computes every statement the output depends on. Packed programs
 * work on RGBA texels of four elements (tfjs's packed layout), elementwise, so
 * the same statements apply with vec4 in place of float.
 */
export function updateProgram(
  statements: readonly Statement[], output: string, target: string, shape: readonly number[], packed: boolean,
): BuiltProgram {
  const needed = closure(statements, [output]);
  const free = freeNames(needed);
  const type = packed ? 'vec4' : 'float';
  const inputs = Object.keys(TEXTURE_OF).filter((name) => free.has(name));
  const reads = inputs.map((name) => SCALAR_INPUTS.has(name)
    ? `  float ${name} = get${TEXTURE_OF[name]}();`
    : `  ${type} ${name} = get${TEXTURE_OF[name]}AtOutCoords();`).join('\n');
  const uniforms = usedUniforms(free);
  const userCode = `
${helpers(type, free)}
void main() {
${reads}
${declare(type, needed)}
  setOutput(${/^[0-9.]+$/.test(output) ? `${type}(${output})` : output});
}`;
  return {
    program: {
      variableNames: inputs.map((name) => TEXTURE_OF[name]),
      outputShape: [...shape],
      userCode,
      packedInputs: packed,
      packedOutput: packed,
      customUniforms: uniforms,
    },
    inputs,
    uniforms: uniforms.map((u) => u.name),
  };
}

/** Gradients up to this many elements are summed by one fragment in one draw. */
const ONE_PASS_LIMIT = 4096;

/** The partial sums of the first pass: `[count, block]`, `count = ⌈n/block⌉`. */
export function sumBlocks(n: number): { count: number; block: number } {
  if (n <= ONE_PASS_LIMIT) return { count: 1, block: n };
  const block = Math.ceil(Math.sqrt(n));
  return { count: Math.ceil(n / block), block };
}

/**
 * First pass of Σx² over a gradient seen as 1-D `[n]`: each fragment sums a
 * block of `block` elements, clipped by value first when `value` is set.
 */
export function partialSumProgram(n: number, value: boolean): BuiltProgram {
  const { count, block } = sumBlocks(n);
  const clipped = value ? 'max(min(getG(i), uHi), uLo)' : 'getG(i)';
  const userCode = `
void main() {
  int p = getOutputCoords();
  float acc = 0.0;
  for (int j = 0; j < ${block}; j++) {
    int i = p * ${block} + j;
    if (i >= ${n}) break;
    float x = ${clipped};
    acc += x * x;
  }
  setOutput(acc);
}`;
  const uniforms = value ? [{ name: 'uLo', type: 'float' as const }, { name: 'uHi', type: 'float' as const }] : [];
  return {
    program: { variableNames: ['G'], outputShape: [count], userCode, customUniforms: uniforms },
    inputs: ['g'],
    uniforms: uniforms.map((u) => u.name),
  };
}

/** Second pass: the `count` partial sums into one. */
export function finalSumProgram(count: number): GlProgram {
  return {
    variableNames: ['P'],
    outputShape: [1],
    userCode: `
void main() {
  float acc = 0.0;
  for (int i = 0; i < ${count}; i++) acc += getP(i);
  setOutput(acc);
}`,
  };
}

/**
 * One link of the chain that folds the per-gradient sums into
 * clip_by_global_norm's factor: it adds the l2_loss terms of `sums` gradients to
 * the running half-sum `H` (absent for the first link) and, for the last link,
 * outputs the factor instead of the half-sum.
 */
export function globalChainProgram(sums: number, first: boolean, last: boolean, norm: boolean): BuiltProgram {
  const term = globalTerm(norm);
  const blocks: string[] = [];
  for (let k = 0; k < sums; k++) {
    blocks.push(`  {\n    float cS = getS${k}();\n${declare('float', term).replace(/^ {2}/gm, '    ')}\n    cHalf = cHalf + cTerm;\n  }`);
  }
  const free = freeNames([...term, ...GLOBAL_SCALE]);
  const uniforms = usedUniforms(free).filter((u) => last || u.name !== 'uGc');
  const userCode = `
${helpers('float', free)}
void main() {
  float cHalf = ${first ? '0.0' : 'getH()'};
${blocks.join('\n')}
${last ? `${declare('float', GLOBAL_SCALE)}\n  setOutput(cScaleOut);` : '  setOutput(cHalf);'}
}`;
  const names = [...(first ? [] : ['H']), ...Array.from({ length: sums }, (_, k) => `S${k}`)];
  return {
    program: { variableNames: names, outputShape: [1], userCode, customUniforms: uniforms },
    inputs: names,
    uniforms: uniforms.map((u) => u.name),
  };
}
