/**
 * The fused SIMD kernels (wasm-src/*.ts), compiled once and instantiated once
 * per `WebAssembly.Memory` they work in: the wasm backend's heap, or a private
 * memory of the cpu kernel. One module per flavor (rules/simd.ts names their
 * exports), one for the folded clipping and one for TF's sparse kernel; every
 * module is a leaf (checked at build time), so instantiating it on a live heap
 * writes nothing. A step is a list of calls, one per pass of the rule table.
 */
import { ALL_PASSES, densePasses } from '../../rules/table.js';
import { aroundPasses, aroundScalars, gradientPasses, unscaleArgs, type Around } from '../../rules/training.js';
import type { Pass, SimdModule, StepScalars, UpdateForm } from '../../rules/types.js';
import { SIMD_MODULES } from './simd_bytes.generated.js';

/** Bytes per table entry: eight u32, `[w, g, ms, mom, mg, n, avg, acc]` (byte offsets, element count). */
export const ENTRY_BYTES = 32;
export const ENTRY_WORDS = 8;

/**
 * Writes entry `entry` of the step table at byte `table`: the arrays at byte
 * offsets `w`, `ms`, `mom`, `mg`, `avg`, `acc` (0 for an array the step lacks,
 * which stays 0), each from `at` bytes in, the gradient at byte `g`, and `n`
 * elements. The one writer of the layout the modules read.
 */
export function writeEntry(
  words: Uint32Array, table: number, entry: number, w: number, ms: number, mom: number, mg: number, at: number, g: number, n: number,
  avg = 0, acc = 0,
): void {
  const e = (table >>> 2) + entry * ENTRY_WORDS;
  words[e] = w + at;
  words[e + 1] = g;
  words[e + 2] = ms + at;
  words[e + 3] = mom === 0 ? 0 : mom + at;
  words[e + 4] = mg === 0 ? 0 : mg + at;
  words[e + 5] = n;
  words[e + 6] = avg === 0 ? 0 : avg + at;
  words[e + 7] = acc === 0 ? 0 : acc + at;
}

interface ClipExports {
  sumSquares(table: number, count: number, lo: number, hi: number, out: number): void;
  nonFinite(table: number, count: number): void;
}

/** Bytes per clipping table entry: `[src, dst, n, cn (f32), dn (f32), flag]` (flag: 1 where `nonFinite` found NaN or ±Infinity). */
export const CLIP_ENTRY_BYTES = 24;
export const CLIP_ENTRY_WORDS = 6;

/**
 * The exports a step may call, by number: a helper thread (cpu/helper_thread.ts)
 * is told what to call through shared memory, where a function cannot go. Each
 * takes `(table, count, ...args)`.
 */
export const KERNEL_EXPORTS: ReadonlyArray<readonly [ModuleName, string]> = [
  ...new Map(ALL_PASSES.flatMap((p) => [p.simd, ...(p.simd.withEma ? [p.simd.withEma] : [])])
    .flatMap((c) => c.exports.map((fn) => [`${c.module}.${fn}`, [c.module, fn] as const]))).values(),
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

/** The calls that run `passes` (rules/table.ts) over a step table, in order. */
export function passCalls(passes: readonly Pick<Pass, 'simd'>[], centered: boolean, s: StepScalars): KernelCall[] {
  return passes.map((p) => ({ code: exportCode(p.simd.module, p.simd.fn(centered)), onClipTable: false, args: p.simd.args(s) }));
}

/** The calls of one dense step of `form`. */
export function stepCalls(form: UpdateForm, s: StepScalars): KernelCall[] {
  return passCalls(densePasses(form, s), form.centered, s);
}

/**
 * The calls of one optimizer call with Keras 3's passes (rules/training.ts):
 * `before`, the gradient divided by the loss scale and the combined gradient of
 * an accumulation update (on the scratch the entries' `g` points at), and
 * `after`, the rule's passes or the accumulation, then the EMA. A folded
 * clipping call goes between them.
 */
export function aroundCalls(form: UpdateForm, s: StepScalars, around: Around): { before: KernelCall[]; after: KernelCall[] } {
  const sx = aroundScalars(s, around);
  const before = passCalls(gradientPasses(around), form.centered, sx);
  const rule = around.phase === 'update' ? densePasses(form, s) : [];
  const update = rule[rule.length - 1];
  const { ema } = around;
  // The EMA folded into the update's loop where the flavor has it: the average is
  // taken from the new weights in registers (a pass of its own re-reads them).
  if (ema !== null && update?.simd.withEma !== undefined) {
    const fused = update.simd.withEma;
    const call: KernelCall = {
      code: exportCode(fused.module, fused.fn(form.centered)),
      onClipTable: false,
      args: [...update.simd.args(sx), ema.momentum, ema.oneMinus, ema.overwrite ? 1 : 0],
    };
    return { before, after: [...passCalls(rule.slice(0, -1), form.centered, sx), call] };
  }
  return { before, after: passCalls(aroundPasses(rule, around), form.centered, sx) };
}

/** The call that divides each clipping-table entry's `src` by the loss scale into its `dst` (the copy into a scratch and `unscale` in one pass). */
export function unscaleIntoCall(factor: number): KernelCall {
  return { code: exportCode('training', 'unscaleInto'), onClipTable: true, args: unscaleArgs(factor) };
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
  /** Per clipping entry, its flag word: 0 when every `src` element is finite, 1 otherwise. */
  nonFinite(table: number, count: number): void;
}

function decode(base64: string): Uint8Array<ArrayBuffer> {
  if (!base64) throw new Error('RMSprop: the SIMD kernel bytes are empty; run `npm run build`');
  const bin = atob(base64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

// Typed by the rule table's module names: a pass naming a module wasm-src/ lacks does not compile.
const SOURCES: Readonly<Record<SimdModule | 'clipping', readonly [string, string]>> = SIMD_MODULES;
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
    nonFinite(table, count) {
      if (count > 0) (exportsOf('clipping') as unknown as ClipExports).nonFinite(table, count);
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
