/**
 * A second thread for the cpu kernel's large steps (Node, two cores or more).
 * On the cpu backend the gradient is an ordinary array that WebAssembly cannot
 * read, so each tile of it is first copied into the kernel's memory; on one
 * thread the copies and the updates take turns and neither runs at memory speed.
 * Here the main thread copies tiles into a ring of scratch areas of a shared
 * memory and publishes each; the helper updates published tiles while the next
 * are copied, and the main thread updates tiles too whenever it would otherwise
 * wait (a full ring, or nothing left to copy). Both claim tiles from one counter,
 * so each tile runs once and a step never depends on the helper having started.
 *
 * Tiles touch disjoint memory (the caller keeps a variable listed twice off this
 * path) and run the same calls as on one thread, so results are bit-equal.
 * The helper sleeps in `Atomics.wait` between steps and never keeps the process
 * alive; in browsers, and on Node without `process.getBuiltinModule`, there is
 * none and every step runs on the main thread.
 */
import { KERNEL_EXPORTS, sharedModules, type KernelCall, type SimdKernels } from '../simd/module.js';

/** Ring slots: tiles published ahead of the updates. A power of two. */
export const RING = 8;
// Combined accumulation, clipping, weight decay, the update and the EMA.
const MAX_CALLS = 5;
/** Arguments after `(table, count)` of any kernel export (the flavors' six, then the folded EMA's three). */
const MAX_ARGS = 9;

/**
 * The control block's int32 layout, handed to the helper with it. Tile
 * counters only grow (wrapping): tile `c` goes to slot `c & (RING − 1)`, whose
 * words are `[table, clipTable, count, stamp]`, stamp = c + 1 once it ran.
 * The step's calls follow as `[code, onClipTable]` pairs, their arguments as
 * float64 from ARGS_BYTE. NAP is never written: a timed wait on it is a nap.
 */
const LAYOUT = {
  EPOCH: 0, QUIT: 1, READY: 2, MEMORY: 3, PRODUCED: 4, CLAIMED: 5, DONE: 6, ACTIVE: 7, FAILED: 8, CALLS: 9, NAP: 10,
  SLOTS: 16, CALL_WORDS: 16 + 4 * RING, ARGS_BYTE: 128 + 16 * RING + 16 * MAX_CALLS, RING, MAX_CALLS, MAX_ARGS,
  /** Fruitless spins (tens of microseconds) before a nap, and the nap. */
  SPINS: 4096, NAP_MS: 0.05,
};
type Layout = typeof LAYOUT;
const CONTROL_BYTES = LAYOUT.ARGS_BYTE + 8 * MAX_CALLS * MAX_ARGS;

/**
 * Claims the next published tile and runs it; false when none is waiting.
 * Self-contained, because its source is also the helper's (Function#toString).
 */
export function runOneTile(ctl: Int32Array, L: Layout, run: (table: number, clipTable: number, count: number) => void): boolean {
  const c = Atomics.load(ctl, L.CLAIMED);
  if (((Atomics.load(ctl, L.PRODUCED) - c) | 0) <= 0) return false;
  if (Atomics.compareExchange(ctl, L.CLAIMED, c, (c + 1) | 0) !== c) return true;
  const at = L.SLOTS + (c & (L.RING - 1)) * 4;
  try {
    run(ctl[at], ctl[at + 1], ctl[at + 2]);
  } catch {
    Atomics.store(ctl, L.FAILED, 1);
  }
  Atomics.store(ctl, at + 3, (c + 1) | 0);
  Atomics.add(ctl, L.DONE, 1);
  return true;
}

const HELPER_SOURCE = `
const { workerData, parentPort, receiveMessageOnPort } = require('node:worker_threads');
const { control, layout: L, names, modules } = workerData;
const ctl = new Int32Array(control);
const args = new Float64Array(control, L.ARGS_BYTE, L.MAX_CALLS * L.MAX_ARGS);
const memories = new Map();
const runOneTile = ${runOneTile.toString()};
function drain() {
  for (let m; (m = receiveMessageOnPort(parentPort)) !== undefined;) {
    if (m.message.memory) memories.set(m.message.id, { memory: m.message.memory, instances: {} });
    else memories.delete(m.message.id);
  }
}
function exportsOf(mem, name) {
  let x = mem.instances[name];
  if (x === undefined) x = mem.instances[name] = new WebAssembly.Instance(modules[name], { env: { memory: mem.memory } }).exports;
  return x;
}
function run(table, clipTable, count) {
  const id = ctl[L.MEMORY];
  if (!memories.has(id)) drain();
  const mem = memories.get(id);
  for (let k = 0, n = ctl[L.CALLS]; k < n; k++) {
    const w = L.CALL_WORDS + 2 * k;
    const [name, fn] = names[ctl[w]];
    const a = k * L.MAX_ARGS;
    exportsOf(mem, name)[fn](ctl[w + 1] ? clipTable : table, count, args[a], args[a + 1], args[a + 2], args[a + 3], args[a + 4], args[a + 5], args[a + 6], args[a + 7], args[a + 8]);
  }
}
Atomics.store(ctl, L.READY, 1);
parentPort.postMessage('ready');
for (let seen = 0; ;) {
  Atomics.wait(ctl, L.EPOCH, seen);
  seen = Atomics.load(ctl, L.EPOCH);
  if (Atomics.load(ctl, L.QUIT) !== 0) break;
  drain();
  // Spins while a step runs, napping now and then so that on a busy machine the main thread gets the core.
  for (let idle = 0; Atomics.load(ctl, L.ACTIVE) !== 0;) {
    if (runOneTile(ctl, L, run)) idle = 0;
    else if (++idle === L.SPINS) { idle = 0; Atomics.wait(ctl, L.NAP, 0, L.NAP_MS); }
  }
}
`;

/** What this file needs of Node's worker_threads. */
interface WorkerLike {
  postMessage(message: unknown): void;
  on(event: 'message' | 'error' | 'exit', listener: (value: unknown) => void): void;
  unref(): void;
}
interface WorkerThreads {
  Worker: new (source: string, options: { eval: true; workerData: unknown }) => WorkerLike;
}

/** A Node built-in module, reached without an import so that browser bundles need no stub; null elsewhere. */
function builtin<T>(id: string): T | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    return (proc?.getBuiltinModule?.(id) as T | undefined) ?? null;
  } catch {
    return null;
  }
}

const nodeWorkerThreads = (): WorkerThreads | null => builtin<WorkerThreads>('node:worker_threads');

function cores(): number {
  const os = builtin<{ availableParallelism?: () => number; cpus(): unknown[] }>('node:os');
  return os === null ? 1 : (os.availableParallelism?.() ?? os.cpus().length);
}

let enabled = true;
let possible: boolean | null = null;

/**
 * Whether this environment can run a helper (Node with worker_threads, shared
 * memory, SIMD kernels, two cores or more), whether or not it is enabled: the
 * cpu kernel makes its large memories shared when it can, so the helper can be
 * turned on later.
 */
export function helperThreadPossible(): boolean {
  possible ??= typeof SharedArrayBuffer === 'function' && nodeWorkerThreads() !== null && sharedModules() !== null && cores() >= 2;
  return possible;
}

interface Helper {
  readonly worker: WorkerLike;
  readonly ctl: Int32Array;
  readonly args: Float64Array;
  readonly ready: Promise<boolean>;
  /** Ids of the memories the helper was sent, and the next id. */
  readonly ids: WeakMap<WebAssembly.Memory, number>;
  nextId: number;
  /** Memories sent and not yet let go of. */
  live: number;
  /** Set when the helper failed or stopped answering: no step uses it again. */
  broken: boolean;
  /** Set when it is being stopped on purpose. */
  stopping: boolean;
}

let helper: Helper | null = null;

type Registry<T> = { register(target: object, held: T): void };
const Finalization = (globalThis as { FinalizationRegistry?: new <T>(cleanup: (held: T) => void) => Registry<T> }).FinalizationRegistry;

/**
 * The helper's memory ids are dropped once the kernels of that memory are
 * collected. When the last one goes, the helper stops: an idle worker never
 * runs its garbage collector, so the memories it was sent (each as large as
 * the variables and slots it holds) would stay allocated however many
 * optimizers came and went. The next large step starts a new one.
 */
const forget = Finalization === undefined ? null : new Finalization<{ h: Helper; id: number }>(({ h, id }) => {
  if (h !== helper) return;
  if (--h.live === 0) {
    stop(h);
    helper = null;
    return;
  }
  h.worker.postMessage({ id });
  // Wakes the helper so it lets go of the memory now, not at the next step.
  Atomics.add(h.ctl, LAYOUT.EPOCH, 1);
  Atomics.notify(h.ctl, LAYOUT.EPOCH);
});

function start(): Helper | null {
  const wt = nodeWorkerThreads();
  const modules = sharedModules();
  if (wt === null || modules === null) return null;
  const control = new SharedArrayBuffer(CONTROL_BYTES);
  let worker: WorkerLike;
  try {
    worker = new wt.Worker(HELPER_SOURCE, { eval: true, workerData: { control, layout: LAYOUT, names: KERNEL_EXPORTS, modules } });
  } catch {
    possible = false;
    return null;
  }
  let settle: (ok: boolean) => void = () => {};
  const ready = new Promise<boolean>((resolve) => { settle = resolve; });
  const h: Helper = {
    worker, ctl: new Int32Array(control), args: new Float64Array(control, LAYOUT.ARGS_BYTE, MAX_CALLS * MAX_ARGS),
    ready, ids: new WeakMap(), nextId: 1, live: 0, broken: false, stopping: false,
  };
  // Referenced until it has started (so awaiting `ready` keeps the process up), never after.
  worker.on('message', () => { worker.unref(); settle(true); });
  const gone = (): void => {
    // A helper that failed to start or died is not started again: every step runs on one thread.
    if (!h.stopping) possible = false;
    h.broken = true;
    worker.unref();
    settle(false);
    if (helper === h) helper = null;
  };
  worker.on('error', gone);
  worker.on('exit', gone);
  return h;
}

function stop(h: Helper): void {
  h.stopping = true;
  Atomics.store(h.ctl, LAYOUT.QUIT, 1);
  Atomics.add(h.ctl, LAYOUT.EPOCH, 1);
  Atomics.notify(h.ctl, LAYOUT.EPOCH);
  h.worker.unref();
}

/**
 * Turns the cpu kernel's helper thread on (the default where it is possible)
 * or off; returns the previous setting. Off stops a running helper; every step
 * then runs on the calling thread. Results are the same either way, to the bit.
 */
export function setHelperThreadEnabled(on: boolean): boolean {
  if (typeof on !== 'boolean') {
    throw new TypeError(`setHelperThreadEnabled: \`on\` must be true or false, got ${typeof on === 'string' ? `'${on}'` : String(on)} (${typeof on})`);
  }
  const previous = enabled;
  enabled = on;
  if (!on && helper !== null) {
    stop(helper);
    helper = null;
  }
  return previous;
}

/**
 * Resolves true once the helper has started (starting it if needed), false
 * when there is none: disabled, not possible here, or failed to start. Steps
 * before then run on one thread; awaiting this makes a benchmark's or a test's
 * steps all run with it.
 */
export function helperThreadReady(): Promise<boolean> {
  if (!enabled || !helperThreadPossible()) return Promise.resolve(false);
  helper ??= start();
  return helper === null ? Promise.resolve(false) : helper.ready;
}

/** The started helper when a step can use it now; starts it (for later steps) when none is. */
function readyHelper(): Helper | null {
  if (!enabled || !helperThreadPossible()) return null;
  helper ??= start();
  return helper !== null && !helper.broken && Atomics.load(helper.ctl, LAYOUT.READY) === 1 ? helper : null;
}

/** Where a published tile's entries are: byte offsets of its step table and clipping table, and their count. */
export interface TileStep {
  /** Waits, running tiles meanwhile, until the next tile's ring slot is free; returns the slot. */
  nextSlot(): number;
  /** Publishes the next tile, whose tables and scratch are in the slot `nextSlot` returned. */
  publish(table: number, clipTable: number, count: number): void;
  /** Runs tiles until every published one has run; throws if one failed. */
  finish(): void;
}

let canNap = true;

/** A short sleep of the calling thread; where it may not block (a browser's main thread), nothing. */
function nap(ctl: Int32Array): void {
  if (!canNap) return;
  try {
    Atomics.wait(ctl, LAYOUT.NAP, 0, LAYOUT.NAP_MS);
  } catch {
    canNap = false;
  }
}

/** Seconds without a finished tile after which the helper is taken to be lost. */
const STALL_SECONDS = 10;

/**
 * A step on `memory` (shared, with the ring's slots in it) whose tiles each get
 * `calls`, with the helper; null when there is no ready helper.
 */
export function helperStep(memory: WebAssembly.Memory, kernels: SimdKernels, calls: readonly KernelCall[]): TileStep | null {
  const h = readyHelper();
  if (h === null || calls.length > MAX_CALLS || calls.some((c) => c.args.length > MAX_ARGS)) return null;
  const { ctl, args } = h;
  const L = LAYOUT;
  let id = h.ids.get(memory);
  if (id === undefined) {
    id = h.nextId++;
    h.ids.set(memory, id);
    h.live++;
    h.worker.postMessage({ id, memory });
    forget?.register(kernels, { h, id });
  }
  ctl[L.MEMORY] = id;
  ctl[L.CALLS] = calls.length;
  calls.forEach((c, k) => {
    ctl[L.CALL_WORDS + 2 * k] = c.code;
    ctl[L.CALL_WORDS + 2 * k + 1] = c.onClipTable ? 1 : 0;
    args.fill(0, k * MAX_ARGS, (k + 1) * MAX_ARGS);
    args.set(c.args, k * MAX_ARGS);
  });
  const run = (table: number, clipTable: number, count: number): void => kernels.call(calls, table, clipTable, count);
  const first = Atomics.load(ctl, L.PRODUCED);
  let next = first;
  Atomics.store(ctl, L.ACTIVE, 1);
  Atomics.add(ctl, L.EPOCH, 1);
  Atomics.notify(ctl, L.EPOCH);

  /**
   * Runs tiles until `done()`; between tiles the helper is running, spins, and
   * now and then naps so that on a busy machine the helper gets a core. A
   * helper that finishes nothing for STALL_SECONDS ends the step with an error.
   */
  const helpUntil = (done: () => boolean): void => {
    let idle = 0;
    let finished = Atomics.load(ctl, L.DONE);
    let since = performance.now();
    // Checks without progress: a clock that jumped (a machine resumed from sleep) is no stall by itself.
    let checks = 0;
    while (!done()) {
      if (runOneTile(ctl, L, run)) { idle = 0; continue; }
      if (++idle < L.SPINS) continue;
      idle = 0;
      const now = Atomics.load(ctl, L.DONE);
      if (now !== finished) {
        finished = now;
        since = performance.now();
        checks = 0;
      } else if (++checks > 1000 && performance.now() - since > STALL_SECONDS * 1000) {
        h.broken = true;
        Atomics.store(ctl, L.ACTIVE, 0);
        throw new Error(`RMSprop: the cpu kernel's helper thread stopped in the middle of a step (no tile finished for ${STALL_SECONDS} s); this step is partly applied, and later steps run on one thread`);
      }
      nap(ctl);
    }
  };

  return {
    nextSlot() {
      const slot = next & (RING - 1);
      // A slot is free once the tile published RING tiles ago has run.
      if (((next - first) | 0) >= RING) {
        const stamp = L.SLOTS + slot * 4 + 3;
        const want = (next - RING + 1) | 0;
        helpUntil(() => Atomics.load(ctl, stamp) === want);
      }
      return slot;
    },
    publish(table, clipTable, count) {
      const at = L.SLOTS + (next & (RING - 1)) * 4;
      ctl[at] = table;
      ctl[at + 1] = clipTable;
      ctl[at + 2] = count;
      next = (next + 1) | 0;
      Atomics.store(ctl, L.PRODUCED, next);
    },
    finish() {
      // After a stall (thrown from nextSlot) there is nothing left to wait for.
      if (h.broken) return;
      helpUntil(() => Atomics.load(ctl, L.DONE) === next);
      Atomics.store(ctl, L.ACTIVE, 0);
      if (Atomics.exchange(ctl, L.FAILED, 0) !== 0) {
        h.broken = true;
        throw new Error('RMSprop: a tile of this step failed in the cpu kernel (a bug: please report it); the step is partly applied');
      }
    },
  };
}
