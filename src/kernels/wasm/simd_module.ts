/**
 * The fused SIMD kernels (wasm-src/*.ts), compiled once and instantiated once
 * per `WebAssembly.Memory` they work in: the wasm backend's heap, or a private
 * memory of the cpu kernel. One module per flavor (rmsprop.ts is TF 2.4's,
 * keras3.ts also holds the decoupled weight-decay pass); every module is a leaf
 * (checked at build time), so instantiating it on a live heap writes nothing.
 */
import { hasDecoupledDecay } from '../../rules/dense.js';
import type { StepScalars, UpdateForm } from '../../rules/types.js';
import type { RowRule } from '../types.js';
import {
  RMSPROP_CLIP_SIMD_SHARED_WASM, RMSPROP_CLIP_SIMD_WASM, RMSPROP_KERAS3_SIMD_SHARED_WASM, RMSPROP_KERAS3_SIMD_WASM, RMSPROP_PYTORCH_SIMD_SHARED_WASM, RMSPROP_PYTORCH_SIMD_WASM,
  RMSPROP_SIMD_SHARED_WASM, RMSPROP_SIMD_WASM, RMSPROP_SPARSE_SIMD_SHARED_WASM, RMSPROP_SPARSE_SIMD_WASM,
  RMSPROP_TFJS_SIMD_SHARED_WASM, RMSPROP_TFJS_SIMD_WASM,
} from './simd_bytes.generated.js';

/** Bytes per table entry: six u32, `[w, g, ms, mom, mg, n]` (byte offsets, element count). */
export const ENTRY_BYTES = 24;
export const ENTRY_WORDS = 6;

/**
 * Writes entry `entry` of the step table at byte `table`: the arrays at byte
 * offsets `w`, `ms`, `mom`, `mg` (0 for a slot the form lacks, which stays 0),
 * each from `at` bytes in, the gradient at byte `g`, and `n` elements. The one
 * writer of the layout the modules read.
 */
export function writeEntry(
  words: Uint32Array, table: number, entry: number, w: number, ms: number, mom: number, mg: number, at: number, g: number, n: number,
): void {
  const e = (table >>> 2) + entry * ENTRY_WORDS;
  words[e] = w + at;
  words[e + 1] = g;
  words[e + 2] = ms + at;
  words[e + 3] = mom === 0 ? 0 : mom + at;
  words[e + 4] = mg === 0 ? 0 : mg + at;
  words[e + 5] = n;
}

/** TF 2.4's sparse momentum kernel (wasm-src/sparse.ts): `(table, count, lr, rho, 1 − rho, momentum, epsilon)`. */
interface SparseExports {
  momentum: (table: number, count: number, lr: number, rho: number, omr: number, mu: number, eps: number) => void;
  momentumCentered: SparseExports['momentum'];
}

interface ClipExports {
  sumSquares(table: number, count: number, lo: number, hi: number, out: number): void;
}

/** Bytes per clipping table entry: `[src, dst, n, cn (f32), dn (f32), unused]`. */
export const CLIP_ENTRY_BYTES = 24;
export const CLIP_ENTRY_WORDS = 6;

/**
 * The exports a step may call, by number: a helper thread (helper_thread.ts) is
 * told what to call through shared memory, where a function cannot go. Each
 * takes `(table, count, ...args)`.
 */
export const KERNEL_EXPORTS: ReadonlyArray<readonly [ModuleName, string]> = [
  ...(['keras2', 'keras3', 'tfjs', 'pytorch'] as const).flatMap((m) =>
    ['plain', 'plainCentered', 'momentum', 'momentumCentered'].map((fn) => [m, fn] as const)),
  ['keras3', 'decay'],
  ['clipping', 'apply'],
];
const exportCode = (module: ModuleName, fn: string): number => KERNEL_EXPORTS.findIndex(([m, f]) => m === module && f === fn);

/** One call of a kernel export on a table: `KERNEL_EXPORTS[code](table, count, ...args)`. */
export interface KernelCall {
  readonly code: number;
  /** Whether it takes the clipping table (`[src, dst, n, cn, dn]` entries) instead of the step table. */
  readonly onClipTable: boolean;
  readonly args: readonly number[];
}

/** The calls of one dense step of `form` (the decoupled weight-decay pass first, where there is one). */
export function stepCalls(form: UpdateForm, s: StepScalars): KernelCall[] {
  const flavor = form.flavor ?? 'keras2';
  const wd = s.weightDecay ?? 0;
  const calls: KernelCall[] = [];
  const call = (module: ModuleName, fn: string, args: number[]): void => { calls.push({ code: exportCode(module, fn), onClipTable: false, args }); };
  if (hasDecoupledDecay(form, s)) call('keras3', 'decay', [s.lr, wd]);
  const fn = form.path === 'momentum'
    ? (form.centered ? 'momentumCentered' : 'momentum')
    : (form.centered ? 'plainCentered' : 'plain');
  if (flavor === 'keras2') {
    call('keras2', fn, form.path === 'momentum'
      ? [s.lr, s.oneMinusRho, s.momentum, s.epsilon]
      : [s.lr, s.rho, s.oneMinusRho, s.epsilon]);
  } else {
    call(flavor, fn, [s.lr, s.rho, s.oneMinusRho, s.momentum, s.epsilon, wd]);
  }
  return calls;
}

/** The call that clips the gradients of a clipping table in place: x ↦ clip(x, lo, hi) · cn/dn · scale. */
export function clipCall(lo: number, hi: number, scale: number): KernelCall {
  return { code: exportCode('clipping', 'apply'), onClipTable: true, args: [lo, hi, scale] };
}

/** The kernels bound to one memory. */
export interface SimdKernels {
  readonly memory: WebAssembly.Memory;
  /** Runs `count` table entries starting at byte offset `table` of the memory. */
  step(form: UpdateForm, s: StepScalars, table: number, count: number): void;
  /** Makes each call on `count` entries of the step table at `table` or the clipping table at `clipTable`. */
  call(calls: readonly KernelCall[], table: number, clipTable: number, count: number): void;
  /** Σ x² per clipping entry (x clipped by lo/hi, cn/dn) as float64 at `out + 8k`. */
  sumSquares(table: number, count: number, lo: number, hi: number, out: number): void;
  /** TF 2.4's sparse momentum kernel on `count` entries, each one row (wasm-src/sparse.ts). */
  sparseMomentum(centered: boolean, s: StepScalars, table: number, count: number): void;
  /** `count` entries that are each one row of a sparse step, with the row's `rule`. */
  rows(rule: RowRule, form: UpdateForm, s: StepScalars, table: number, count: number): void;
}

function decode(base64: string): Uint8Array<ArrayBuffer> {
  if (!base64) throw new Error('RMSprop: the SIMD kernel bytes are empty; run `npm run build`');
  const bin = atob(base64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

const SOURCES = {
  keras2: [RMSPROP_SIMD_WASM, RMSPROP_SIMD_SHARED_WASM],
  keras3: [RMSPROP_KERAS3_SIMD_WASM, RMSPROP_KERAS3_SIMD_SHARED_WASM],
  tfjs: [RMSPROP_TFJS_SIMD_WASM, RMSPROP_TFJS_SIMD_SHARED_WASM],
  pytorch: [RMSPROP_PYTORCH_SIMD_WASM, RMSPROP_PYTORCH_SIMD_SHARED_WASM],
  clipping: [RMSPROP_CLIP_SIMD_WASM, RMSPROP_CLIP_SIMD_SHARED_WASM],
  sparse: [RMSPROP_SPARSE_SIMD_WASM, RMSPROP_SPARSE_SIMD_SHARED_WASM],
} as const;
export type ModuleName = keyof typeof SOURCES;

let modules: Record<ModuleName, { plain: WebAssembly.Module; shared: WebAssembly.Module }> | null = null;
let unavailable: string | null = null;

// Synchronous compile is allowed here: each module is under 2 KB (the build
// checks 4 KB, the limit browsers put on synchronous compilation on the main thread).
function compiled(): typeof modules {
  if (modules === null && unavailable === null) {
    try {
      if (typeof WebAssembly !== 'object') throw new Error('no WebAssembly in this environment');
      const out: Partial<Record<ModuleName, { plain: WebAssembly.Module; shared: WebAssembly.Module }>> = {};
      for (const [name, [plain, shared]] of Object.entries(SOURCES) as Array<[ModuleName, readonly [string, string]]>) {
        out[name] = { plain: new WebAssembly.Module(decode(plain)), shared: new WebAssembly.Module(decode(shared)) };
      }
      modules = out as NonNullable<typeof modules>;
    } catch (e) {
      unavailable = `WebAssembly SIMD is not available: ${(e as Error).message}`;
    }
  }
  return modules;
}

/** The modules built for a shared memory, by name, for a helper thread to instantiate; null without SIMD. */
export function sharedModules(): Record<ModuleName, WebAssembly.Module> | null {
  const m = compiled();
  if (m === null) return null;
  return Object.fromEntries(Object.entries(m).map(([name, v]) => [name, v.shared])) as Record<ModuleName, WebAssembly.Module>;
}

/** Why the SIMD kernels cannot run here, or null when they can. */
export function simdUnavailableReason(): string | null {
  compiled();
  return unavailable;
}

const byMemory = new WeakMap<WebAssembly.Memory, SimdKernels>();

function isShared(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

/** The kernels working in `memory` (instantiated on first use), or null if SIMD is unavailable. */
export function simdKernels(memory: WebAssembly.Memory): SimdKernels | null {
  const cached = byMemory.get(memory);
  if (cached) return cached;
  const m = compiled();
  if (m === null) return null;
  const shared = isShared(memory);
  const instances: Partial<Record<ModuleName, WebAssembly.Exports>> = {};
  // Instantiated on first use: a run of one flavor never instantiates the others.
  const exportsOf = (name: ModuleName): WebAssembly.Exports => {
    let x = instances[name];
    if (x === undefined) {
      x = new WebAssembly.Instance(shared ? m[name].shared : m[name].plain, { env: { memory } }).exports;
      instances[name] = x;
    }
    return x;
  };
  const kernels: SimdKernels = {
    memory,
    sumSquares(table, count, lo, hi, out) {
      if (count > 0) (exportsOf('clipping') as unknown as ClipExports).sumSquares(table, count, lo, hi, out);
    },
    rows(rule, form, s, table, count) {
      if (rule === 'dense') this.step(form, s, table, count);
      else this.sparseMomentum(form.centered, s, table, count);
    },
    sparseMomentum(centered, s, table, count) {
      if (count === 0) return;
      const x = exportsOf('sparse') as unknown as SparseExports;
      (centered ? x.momentumCentered : x.momentum)(table, count, s.lr, s.rho, s.oneMinusRho, s.momentum, s.epsilon);
    },
    step(form, s, table, count) {
      this.call(stepCalls(form, s), table, 0, count);
    },
    call(calls, table, clipTable, count) {
      if (count === 0) return;
      for (const c of calls) {
        const [module, name] = KERNEL_EXPORTS[c.code];
        const fn = exportsOf(module)[name] as ((table: number, count: number, ...args: number[]) => void) | undefined;
        if (fn === undefined) throw new Error(`RMSprop: no ${name} kernel in the '${module}' module`);
        fn(c.onClipTable ? clipTable : table, count, ...c.args);
      }
    },
  };
  byMemory.set(memory, kernels);
  return kernels;
}
