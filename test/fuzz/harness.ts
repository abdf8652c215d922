/**
 * Runs a drawn case (a configuration and a gradient stream) through a real
 * RMSprop and records what each step did: its error, if any, the counts, and
 * every variable and slot as float32 bits, read without bringing deferred rows
 * up to date (so the deferral itself is compared). Around each step it keeps
 * watch on memory the step must not write:
 * - the gradients (no kernel writes its input);
 * - on `cpu`, every byte of the kernel memory that holds the optimizer's
 *   variables (padding, variables that did not step, regions of a step that was
 *   refused or skipped) outside the work area at its start;
 * - on `wasm`, canary blocks taken from the heap's allocator between the
 *   variables, filled with a pattern; and after the case, the allocator and a
 *   matMul still work.
 */
import * as fc from 'fast-check';
import { IndexedSlices, RMSprop, type RMSpropOptions } from '../../src/index.js';
import { createdCpuBackend } from '../../src/kernels/cpu/storage.js';
import { setFastKernelsEnabled } from '../../src/kernels/registry.js';
import type { SlotSet } from '../../src/kernels/types.js';
import { wasmBackend, wasmMemory } from '../../src/kernels/wasm/heap.js';
import { tf } from '../support/tf.js';
import { buildStep, fill, options, type ConfigSpec, type StreamSpec } from './arbitraries.js';

let caseCounter = 0;

export interface StepRecord {
  /** The error message, with the case's variable prefix replaced by `<v>`. */
  error: string | null;
  iterations: number;
  skippedSteps: number;
  /** Kernels that ran, as lastStepKernels() names them (empty for a refused step). */
  kernels: string[];
  /** The state once deferred rows were brought up to date before the step (finalizeFirst), else null. */
  finalized: Float32Array[] | null;
  /** Each variable, then its slots in order: float32 bits. */
  state: Float32Array[];
}

export interface CaseRun {
  /** The variables before the first step. */
  initial: Float32Array[];
  steps: StepRecord[];
  /** The state once deferred rows are brought up to date. */
  final: Float32Array[];
  /** Whether the input held NaN or ±Infinity, per step. */
  poisoned: boolean[];
}

export interface RunSettings {
  /** false: dense updates take the op chain, sparse rows the reference loops. */
  fast: boolean;
  /** Option overrides (e.g. `nonFinite`). */
  extra?: RMSpropOptions;
  /** Steps of the stream to leave out (by index). */
  leaveOut?: (step: number, poisoned: boolean) => boolean;
  /**
   * A variable of its own with a sparse gradient of every row in the first
   * step, never stepped again: its memory is a canary for later steps.
   */
  canaryVariable?: boolean;
}

/** The optimizer's slots of `v`, without bringing deferred rows up to date (getSlot would). */
export function rawSlots(opt: RMSprop, v: tf.Variable): SlotSet | undefined {
  return (opt as unknown as { slots: { get(v: tf.Variable): SlotSet | undefined } }).slots.get(v);
}

/** The optimizer state of a variable: its slots, then Keras 3's average and accumulator where they are on. */
const STATE_SLOTS = ['rms', 'momentum', 'mg', 'ema', 'accumulator'] as const;

export function stateOf(opt: RMSprop, vars: readonly tf.Variable[]): Float32Array[] {
  const out: Float32Array[] = [];
  for (const v of vars) {
    out.push(Float32Array.from(v.dataSync()));
    const slots = rawSlots(opt, v);
    for (const name of STATE_SLOTS) {
      const s = slots?.[name];
      if (s !== undefined) out.push(Float32Array.from(s.dataSync()));
    }
  }
  return out;
}

/** Bitwise equality of float32 arrays, any NaN matching any NaN; the first difference, or null. */
export function firstDifference(a: Float32Array, b: Float32Array): string | null {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  const ab = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const bb = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) {
    if (ab[i] !== bb[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) {
      return `[${i}]: ${a[i]} (0x${ab[i].toString(16)}) vs ${b[i]} (0x${bb[i].toString(16)})`;
    }
  }
  return null;
}

export function assertSameStates(a: readonly Float32Array[], b: readonly Float32Array[], what: string): void {
  if (a.length !== b.length) throw new Error(`${what}: ${a.length} arrays vs ${b.length}`);
  a.forEach((x, i) => {
    const d = firstDifference(x, b[i]);
    if (d !== null) throw new Error(`${what}, array ${i}${d}`);
  });
}

// ---- memory watch ------------------------------------------------------------------------------

interface Region { start: number; end: number }

/** The cpu kernel memory of tensors that live there, by buffer. */
function cpuRegions(tensors: readonly tf.Tensor[]): Map<ArrayBufferLike, Array<Region & { tensor: tf.Tensor }>> {
  const out = new Map<ArrayBufferLike, Array<Region & { tensor: tf.Tensor }>>();
  const b = createdCpuBackend();
  if (b === null || tf.getBackend() !== 'cpu') return out;
  for (const t of tensors) {
    const id = t.dataId as object;
    if (!b.data.has(id)) continue;
    const values = b.data.get(id).values;
    if (!(values instanceof Float32Array) || values.buffer.byteLength === values.byteLength) continue;
    let list = out.get(values.buffer);
    if (list === undefined) out.set(values.buffer, list = []);
    list.push({ start: values.byteOffset, end: values.byteOffset + values.byteLength, tensor: t });
  }
  return out;
}

/** A copy of every chunk of kernel memory holding `tensors`, checked after the step by `verify`. */
export class CpuWatch {
  private readonly copies: Array<{ buffer: ArrayBufferLike; bytes: Uint8Array; regions: Array<Region & { tensor: tf.Tensor }> }> = [];

  constructor(tensors: readonly tf.Tensor[]) {
    for (const [buffer, regions] of cpuRegions(tensors)) {
      this.copies.push({ buffer, bytes: new Uint8Array(buffer).slice(), regions });
    }
  }

  /** Throws if a byte changed outside the work area and the regions of `written`. */
  verify(written: ReadonlySet<tf.Tensor>, what: string): void {
    for (const { buffer, bytes, regions } of this.copies) {
      const now = new Uint8Array(buffer);
      const workArea = Math.min(...regions.map((r) => r.start));
      const allowed = regions.filter((r) => written.has(r.tensor)).sort((x, y) => x.start - y.start);
      for (let i = workArea; i < bytes.length; i++) {
        if (now[i] === bytes[i]) continue;
        if (allowed.some((r) => i >= r.start && i < r.end)) continue;
        const owner = regions.find((r) => i >= r.start && i < r.end);
        throw new Error(`${what}: the cpu kernel memory changed at byte ${i} (${owner ? `in the region of a tensor the step must not write` : 'outside every region: padding'})`);
      }
    }
  }
}

/** Blocks from the wasm heap's allocator, filled with a pattern and checked. */
export class HeapCanaries {
  private readonly blocks: Array<{ ptr: number; bytes: number }> = [];
  private readonly b = wasmBackend();

  get active(): boolean {
    return this.b !== null;
  }

  add(bytes: number): void {
    if (this.b === null) return;
    const ptr = this.b.wasm._malloc(bytes) >>> 0;
    const view = new Uint8Array((wasmMemory(this.b) as WebAssembly.Memory).buffer, ptr, bytes);
    for (let i = 0; i < bytes; i++) view[i] = pattern(ptr, i);
    this.blocks.push({ ptr, bytes });
  }

  check(what: string): void {
    if (this.b === null) return;
    const heap = new Uint8Array((wasmMemory(this.b) as WebAssembly.Memory).buffer);
    for (const { ptr, bytes } of this.blocks) {
      for (let i = 0; i < bytes; i++) {
        if (heap[ptr + i] !== pattern(ptr, i)) throw new Error(`${what}: a canary on the wasm heap changed at ${ptr}+${i}`);
      }
    }
  }

  free(): void {
    if (this.b === null) return;
    for (const { ptr } of this.blocks) this.b.wasm._free(ptr);
    this.blocks.length = 0;
  }
}

const pattern = (ptr: number, i: number): number => (ptr * 7 + i * 31 + 0xa5) & 0xff;

/** The backend still computes: a matMul of known values, and (on wasm) the allocator hands out and takes back blocks. */
export function assertBackendHealthy(what: string): void {
  const got = tf.tidy(() => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2])).dataSync());
  if (Array.from(got).join() !== '19,22,43,50') throw new Error(`${what}: matMul gives ${Array.from(got)}`);
  const b = wasmBackend();
  if (b !== null) {
    const ptrs = [64, 4096, 100000].map((n) => b.wasm._malloc(n) >>> 0);
    if (ptrs.some((p) => p === 0)) throw new Error(`${what}: the wasm allocator failed`);
    for (const p of ptrs) b.wasm._free(p);
  }
}

// ---- running a case ----------------------------------------------------------------------------

const quiet = (): void => {};

/**
 * The stream's variables, named `<prefix>/v<i>`; a shared one keeps the tensor
 * it was made from alive in `shared` (tf.variable shares its buffer). `between`
 * runs after each, for canaries.
 */
export function makeVariables(stream: StreamSpec, prefix: string, shared: tf.Tensor[], between: () => void = () => {}): tf.Variable[] {
  return stream.variables.map((v, i) => {
    const init = tf.tensor(fill(stream.pool, v.shape.reduce((a, b) => a * b, 1), v.offset), v.shape, 'float32');
    const variable = tf.variable(init, true, `${prefix}/v${i}`);
    if (v.shared) shared.push(init);
    else init.dispose();
    between();
    return variable;
  });
}

/** Runs the stream through a new RMSprop built from `spec`; everything it made is disposed. */
export function runCase(spec: ConfigSpec, stream: StreamSpec, settings: RunSettings): CaseRun {
  const previous = setFastKernelsEnabled(settings.fast);
  const prefix = `fuzz${++caseCounter}`;
  const canaries = new HeapCanaries();
  const vars: tf.Variable[] = [];
  const shared: tf.Tensor[] = [];
  let opt: RMSprop | null = null;
  const start = tf.memory().numTensors;
  try {
    canaries.add(24);
    vars.push(...makeVariables(stream, prefix, shared, () => canaries.add(4 + 4 * (shared.length % 5))));
    const canary = settings.canaryVariable ? tf.tidy(() => tf.variable(tf.linspace(-1, 1, 7), true, `${prefix}/canary`)) : null;
    opt = new RMSprop(options(spec, settings.extra));
    opt.warn = quiet;
    if (stream.excludeFirst) opt.excludeFromWeightDecay({ varList: [vars[0]] });
    const all = canary === null ? vars : [...vars, canary];
    const initial = stateOf(opt, all);
    const steps: StepRecord[] = [];
    const poisoned: boolean[] = [];
    let first = true;
    stream.steps.forEach((step, s) => {
      const built = buildStep(stream, vars, step);
      try {
        poisoned.push(built.poisoned);
        // Before leaving a step out: a run that leaves it out brings rows up to date at the same point.
        if (step.finalizeFirst) (opt as RMSprop).finalizeVariableValues();
        if (settings.leaveOut?.(s, built.poisoned)) return;
        const finalized = step.finalizeFirst ? stateOf(opt as RMSprop, all) : null;
        if (first && canary !== null) {
          // Sparse, so the canary adds no dense update (see bitComparable in parity.test.ts).
          const values = tf.tensor1d([1, -1, 0.5, 0, 2, -3, 1e-3]);
          built.tensors.push(values);
          const g = new IndexedSlices(values, [0, 1, 2, 3, 4, 5, 6]);
          if (Array.isArray(built.arg)) (built.arg as unknown[]).push([g, canary]);
          else (built.arg as unknown as Record<string, IndexedSlices>)[canary.name] = g;
        }
        const tensorsOf = (v: tf.Variable): tf.Tensor[] => {
          const slots = rawSlots(opt as RMSprop, v);
          return [v, ...(slots === undefined ? [] : STATE_SLOTS.map((n) => slots[n]).filter((t): t is tf.Variable => t !== undefined))];
        };
        const watch = new CpuWatch(all.flatMap(tensorsOf));
        const before = { iterations: opt!.iterations, skipped: opt!.skippedSteps };
        let error: string | null = null;
        try {
          (opt as RMSprop).applyGradients(built.arg);
        } catch (e) {
          error = (e as Error).message.split(prefix).join('<v>');
        }
        const o = opt as RMSprop;
        const where = `step ${s}`;
        for (const { tensor, values } of built.grads) {
          const d = firstDifference(Float32Array.from(tensor.dataSync()), values);
          if (d !== null) throw new Error(`${where}: a gradient was written${d}`);
        }
        const ran = error === null && o.skippedSteps === before.skipped;
        const stepped = new Set(ran ? step.entries.filter(([, g]) => g.kind !== 'null').flatMap(([k]) => tensorsOf(vars[k])) : []);
        if (ran && first && canary !== null) for (const t of tensorsOf(canary)) stepped.add(t);
        // Keras 3's passes reach every variable the optimizer knows, stepped this call or not: the
        // average moves on every call (and may overwrite the variable), an update call zeroes every accumulator.
        if (ran) {
          for (const v of all) {
            const slots = rawSlots(o, v);
            if (slots === undefined) continue;
            if (slots.ema !== undefined) stepped.add(slots.ema);
            if (slots.accumulator !== undefined) stepped.add(slots.accumulator);
            if (spec.useEma === true && spec.emaOverwriteFrequency != null) stepped.add(v);
          }
        }
        watch.verify(stepped, where);
        canaries.check(where);
        if (error === null) first = false;
        steps.push({
          error,
          iterations: o.iterations,
          skippedSteps: o.skippedSteps,
          kernels: error === null ? o.lastStepKernels().map((k) => k.kernel) : [],
          finalized,
          state: stateOf(o, all),
        });
      } finally {
        tf.dispose(built.tensors);
      }
    });
    opt.finalizeVariableValues();
    const final = stateOf(opt, all);
    opt.dispose();
    opt = null;
    tf.dispose([...all, ...shared]);
    vars.length = 0;
    shared.length = 0;
    canaries.check('after the case');
    assertBackendHealthy('after the case');
    const left = tf.memory().numTensors - start;
    if (left !== 0) throw new Error(`the case left ${left} tensor(s) behind`);
    return { initial, steps, final, poisoned };
  } finally {
    opt?.dispose();
    tf.dispose([...vars, ...shared]);
    canaries.free();
    setFastKernelsEnabled(previous);
  }
}

// ---- settings ---------------------------------------------------------------------------------

/**
 * fast-check's parameters for a property: the seed (FUZZ_SEED, else a fixed
 * one, so `npm test` is reproducible), the number of runs (FUZZ_RUNS overrides
 * `runs`), and FUZZ_PATH to replay one counterexample. A failure reports the
 * seed and path to replay it with.
 */
export function fuzzParameters<T>(runs: number): fc.Parameters<T> {
  const env = process.env;
  const seed = env.FUZZ_SEED === undefined ? 20240615 : Number(env.FUZZ_SEED);
  const numRuns = env.FUZZ_RUNS === undefined ? runs : Number(env.FUZZ_RUNS);
  if (!Number.isInteger(seed) || !Number.isInteger(numRuns) || numRuns < 1) {
    throw new Error(`FUZZ_SEED and FUZZ_RUNS must be integers, got ${env.FUZZ_SEED} and ${env.FUZZ_RUNS}`);
  }
  // includeErrorInReport: the runner prints the message, not its cause.
  return { seed, numRuns, includeErrorInReport: true, ...(env.FUZZ_PATH ? { path: env.FUZZ_PATH } : {}) };
}
