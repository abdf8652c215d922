/**
 * The tolerance of the GPU kernels, derived from float32 per operation and
 * carried over the trajectory (a running first-order error bound).
 *
 * A GPU evaluates each statement of src/kernels/gpu/formulas.ts with the
 * accuracy WGSL and GLSL ES 3.00 promise for f32 / highp float: + − × correctly
 * rounded (but a compiler may contract a·b + c into one rounding), division
 * within 2.5 ULP, sqrt within 1/inversesqrt's (2 ULP) plus a division's: taken
 * as 5 ULP; subnormal results may be flushed to zero. The reference loops
 * (src/rules) round each operation correctly. So the two results of one
 * operation on the same inputs differ by at most
 *   (δ_gpu + δ_ref)·|v| + 2^-126,  δ_ref = u = 2^-24, ULP ≤ 2u·|v|:
 *   + − ×: 2u,  /: 5u + u = 6u,  sqrt: 10u + u = 11u,
 *   rsqrt (WGSL inverseSqrt, GLSL inversesqrt: 2 ULP; the reference's
 *   1/√x in float64 rounded once, TF's sparse kernel): 4u + u = 5u,
 * and 2^-126 covers a flushed subnormal. Inputs that already differ (the
 * state after earlier steps, a clip factor from a float32 sum) carry their
 * bound through each operation to first order (|Δ(a·b)| ≤ |a|Δb + |b|Δa + ΔaΔb,
 * and so on). A state element whose bound passes through a square root of an
 * argument the reference computes as negative (NaN there) has no finite
 * bound: it is counted, not compared; near 0 the square root's bound is
 * Hölder's √|Δ|.
 *
 * The bound is evaluated by interpreting the kernel's own statements (their
 * structure sizes the error) on the reference state and its bound; the values
 * compared against are the reference loops', never the interpreter's. (The
 * interpreter's values, each operation rounded to float32 and fmad fused, equal
 * the reference loops to the bit: test/kernels/gpu_formulas.test.ts.)
 */
import type { Statement } from '../../src/kernels/gpu/formulas.js';
import { fma32 } from '../../src/rules/pytorch.js';

const f = Math.fround;
export const U = 2 ** -24;
const FLUSH = 2 ** -126;
export const DELTA = { add: 2 * U, mul: 2 * U, div: 6 * U, sqrt: 11 * U, rsqrt: 5 * U } as const;

/** A value and the bound on |gpu − reference| for it. */
export interface Bounded {
  readonly v: number;
  readonly e: number;
}

type Node =
  | { k: 'num'; v: number }
  | { k: 'id'; name: string }
  | { k: 'neg'; a: Node }
  | { k: 'bin'; op: '+' | '-' | '*' | '/'; a: Node; b: Node }
  | { k: 'call'; fn: string; args: Node[] };

function parse(src: string): Node {
  const tokens = src.match(/\d+\.\d*|[A-Za-z_][A-Za-z0-9_]*|[-+*/(),]/g) ?? [];
  let i = 0;
  const peek = (): string | undefined => tokens[i];
  const take = (t?: string): string => {
    const x = tokens[i++];
    if (t !== undefined && x !== t) throw new Error(`expected ${t} in '${src}', got ${x}`);
    return x;
  };
  const primary = (): Node => {
    const t = take();
    if (t === '(') { const n = expr(); take(')'); return n; }
    if (t === '-') return { k: 'neg', a: primary() };
    if (/^\d/.test(t)) return { k: 'num', v: Number(t) };
    if (peek() === '(') {
      take('(');
      const args: Node[] = [];
      while (peek() !== ')') { args.push(expr()); if (peek() === ',') take(','); }
      take(')');
      return { k: 'call', fn: t, args };
    }
    return { k: 'id', name: t };
  };
  const term = (): Node => {
    let n = primary();
    while (peek() === '*' || peek() === '/') n = { k: 'bin', op: take() as '*' | '/', a: n, b: primary() };
    return n;
  };
  function expr(): Node {
    let n = term();
    while (peek() === '+' || peek() === '-') n = { k: 'bin', op: take() as '+' | '-', a: n, b: term() };
    return n;
  }
  const n = expr();
  if (i !== tokens.length) throw new Error(`trailing tokens in '${src}'`);
  return n;
}

const parsed = new Map<string, Node>();

function node(expr: string): Node {
  let n = parsed.get(expr);
  if (n === undefined) parsed.set(expr, (n = parse(expr)));
  return n;
}

function rounding(kind: keyof typeof DELTA, v: number): number {
  return DELTA[kind] * Math.abs(v) + FLUSH;
}

function sqrtB(a: Bounded): Bounded {
  const v = f(Math.sqrt(a.v));
  if (!(a.e < Infinity) || !(a.v >= 0)) return { v, e: Infinity };
  // √ is concave: |√(a ± e) − √a| ≤ e / (2√(a − e)); near 0, Hölder: |√x − √y| ≤ √|x − y|.
  const spread = a.v - a.e > 0 ? Math.min(a.e / (2 * Math.sqrt(a.v - a.e)), Math.sqrt(a.e)) : Math.sqrt(a.e);
  return { v, e: spread + rounding('sqrt', v) };
}

function rsqrtB(a: Bounded): Bounded {
  // As the reference (keras2.ts sparseMomentum): 1/√x in float64, rounded once.
  const v = f(1 / Math.sqrt(a.v));
  const lo = a.v - a.e;
  if (!(a.e < Infinity) || !(lo > 0)) return { v, e: Infinity };
  // 1/√x is decreasing and convex: the farthest point of [a − e, a + e] from 1/√a is a − e.
  return { v, e: (1 / Math.sqrt(lo) - 1 / Math.sqrt(a.v)) + rounding('rsqrt', v) };
}

function mulB(a: Bounded, b: Bounded, rounded = true): Bounded {
  const v = f(a.v * b.v);
  const e = Math.abs(a.v) * b.e + Math.abs(b.v) * a.e + a.e * b.e;
  return { v, e: rounded ? e + rounding('mul', v) : e };
}

function addB(a: Bounded, b: Bounded, sign: 1 | -1): Bounded {
  const v = f(a.v + sign * b.v);
  return { v, e: a.e + b.e + rounding('add', v) };
}

function divB(a: Bounded, b: Bounded): Bounded {
  const v = f(a.v / b.v);
  const lo = Math.abs(b.v) - b.e;
  if (!(lo > 0)) return { v, e: Infinity };
  return { v, e: (a.e + Math.abs(v) * b.e) / lo + rounding('div', v) };
}

function evaluate(n: Node, env: ReadonlyMap<string, Bounded>): Bounded {
  switch (n.k) {
    case 'num': return { v: n.v, e: 0 };
    case 'id': {
      const b = env.get(n.name);
      if (b === undefined) throw new Error(`unbound name ${n.name}`);
      return b;
    }
    case 'neg': { const a = evaluate(n.a, env); return { v: -a.v, e: a.e }; }
    case 'bin': {
      // x − x is exactly 0 for finite x (NaN otherwise) whatever x's error: clip_by_global_norm's (N − N).
      if (n.op === '-' && n.a.k === 'id' && n.b.k === 'id' && n.a.name === n.b.name) {
        const a = evaluate(n.a, env);
        return { v: a.v - a.v, e: 0 };
      }
      const a = evaluate(n.a, env);
      const b = evaluate(n.b, env);
      switch (n.op) {
        case '+': return addB(a, b, 1);
        case '-': return addB(a, b, -1);
        case '*': return mulB(a, b);
        case '/': return divB(a, b);
      }
    }
    // falls through: unreachable (every operator returns)
    case 'call': {
      const args = n.args.map((a) => evaluate(a, env));
      switch (n.fn) {
        case 'sqrt': return sqrtB(args[0]);
        case 'rsqrt': return rsqrtB(args[0]);
        case 'moveBy': {
          // A row's catch-up (rules/catch_up.ts): w − m·s in float64 rounded once when s ≠ 0, else w.
          // The GPU rounds the product and the difference (or fuses them): each allowed for.
          const [w, m, sum] = args;
          if (sum.v === 0 && sum.e === 0) return w;
          const moved = addB(w, mulB(m, sum), -1);
          return { v: sum.v === 0 ? w.v : f(w.v - m.v * sum.v), e: moved.e };
        }
        case 'min':
        case 'max': {
          const [a, b] = args;
          const v = (n.fn === 'min' ? Math.min : Math.max)(a.v, b.v);
          // Intervals apart: both results pick the same operand; else either may be picked (1-Lipschitz).
          const apart = a.v + a.e < b.v - b.e || b.v + b.e < a.v - a.e;
          return { v, e: apart ? (v === a.v ? a.e : b.e) : Math.max(a.e, b.e) };
        }
        case 'fmad': {
          // One rounding or two (a compiler may or may not fuse): the product's rounding is allowed
          // for in the bound; the value is the fused one, as the reference (pytorch.ts) rounds it.
          const p = mulB(args[0], args[1]);
          const sum = addB(p, args[2], 1);
          return { v: fma32(args[0].v, args[1].v, args[2].v), e: sum.e };
        }
        case 'clipDivisor': {
          const [s, c] = args;
          const norm = s.v > 0 ? sqrtB(s) : s;
          return { v: Math.max(norm.v, c.v), e: norm.e };
        }
        default: throw new Error(`unknown function ${n.fn}`);
      }
    }
  }
}

/** Runs statements over `env` (names → bounded values), adding each result to it. */
export function runBounded(statements: readonly Statement[], env: Map<string, Bounded>): Map<string, Bounded> {
  for (const st of statements) env.set(st.name, evaluate(node(st.expr), env));
  return env;
}

/**
 * The bound of a float32 Σx² of `n` squares summed by the GPU in blocks of
 * `block` then `count` partial sums against the reference's float64 sum of
 * float32 squares, rounded once: relative to the sum. Each addition of
 * positive terms errs by at most an ULP of a partial sum (≤ 2u of the total),
 * and a value takes at most `block + count` additions; the square and the
 * final rounding add one ULP each.
 */
export function sumRelativeBound(block: number, count: number): number {
  return (2 * (block + count) + 4) * U;
}

/**
 * A catch-up factor (src/rules/catch_up.ts) as a GPU reads it: the reference
 * keeps it in float64, the kernels upload it as float32, so the input differs
 * by its rounding, and by itself where a GPU flushes a subnormal to zero.
 */
export function factorInput(x: number): Bounded {
  const r = f(x);
  const flushed = Math.abs(r) < 2 ** -126 ? Math.abs(r) : 0;
  return { v: x, e: Math.abs(r - x) + flushed };
}
