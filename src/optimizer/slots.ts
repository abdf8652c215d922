/**
 * Optimizer state per variable, keyed by the variable object itself (never by
 * its position in a gradient list, which is what breaks TF.js's own optimizers
 * when the list changes order). The slot names are the optimizer's (RMSprop's
 * `rms`, `momentum`, `mg`). Slots are created on a variable's first gradient,
 * as zeros; the Keras weight order is kept as batches: each step that creates
 * slots appends [all of the first slot, all of the second, ...] for its new variables.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * A variable's slots by name, with `handedOut`: false until a slot of the set
 * leaves the optimizer (`getSlot`, `getWeights`), which in-place kernels may
 * use to skip telling a backend's caches about slots nobody else has seen.
 */
export type SlotRecord = object;

/** State given to `setWeights` before the variables it belongs to have been seen. */
export interface PendingSlots {
  /** The variable name the state was saved under (`<name>/rms` → `<name>`). */
  readonly variableName: string;
  readonly shape: readonly number[];
  readonly values: ReadonlyMap<string, tf.Tensor>;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function newSlot(shape: readonly number[], init?: tf.Tensor): tf.Variable {
  // tf.variable shares its initial value's buffer; dispose the initial tensor so
  // the slot's buffer is exclusively its own (the in-place kernels rely on it).
  const initial = init ? tf.clone(init) : tf.zeros(shape as number[], 'float32');
  const slot = tf.variable(initial, false);
  initial.dispose();
  return slot;
}

/**
 * Where each variable's slots are in a weight list of `names.length` slots per
 * variable: `layout[i][s]` is the index of variable i's slot `names[s]`.
 * getWeights keeps Keras's order per batch of variables that got slots in the
 * same step ([all of the first slot, all of the second, ...] for each batch),
 * so when every weight is named `<variable>/<slot>` the weights are paired by
 * those names, variables in order of appearance; otherwise (a list from
 * elsewhere) by Keras's order for one batch.
 */
export function slotLayout(weights: ReadonlyArray<{ readonly name: string }>, names: readonly string[]): number[][] {
  const k = names.length;
  const n = weights.length / k;
  const byVariable = new Map<string, number[]>();
  const named = weights.every((w, i) => {
    const s = names.findIndex((slot) => w.name.endsWith(`/${slot}`));
    if (s === -1) return false;
    const variable = w.name.slice(0, w.name.length - names[s].length - 1);
    let at = byVariable.get(variable);
    if (at === undefined) byVariable.set(variable, at = new Array<number>(k).fill(-1));
    if (at[s] !== -1) return false;
    at[s] = i;
    return true;
  });
  if (named && byVariable.size === n && [...byVariable.values()].every((at) => !at.includes(-1))) return [...byVariable.values()];
  return Array.from({ length: n }, (_, i) => names.map((_, s) => s * n + i));
}

export class SlotRegistry<Slots extends SlotRecord> {
  private readonly byVariable = new Map<tf.Variable, Slots>();
  private readonly batches: tf.Variable[][] = [];
  private pending: PendingSlots[] = [];

  /**
   * `owner` names the optimizer in messages; `checksGradients` is set on every
   * slot set (`SlotSet.checksGradients`).
   */
  constructor(readonly names: readonly string[], private readonly owner: string, private readonly checksGradients = false) {}

  get(variable: tf.Variable): Slots | undefined {
    return this.byVariable.get(variable);
  }

  has(variable: tf.Variable): boolean {
    return this.byVariable.has(variable);
  }

  /** Variables with slots, in creation order. */
  variables(): tf.Variable[] {
    return this.batches.flat();
  }

  /** Each variable with its slots. */
  entries(): IterableIterator<[tf.Variable, Slots]> {
    return this.byVariable.entries();
  }

  get size(): number {
    return this.byVariable.size;
  }

  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  /** Variables whose state setWeights holds until their first gradient. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /**
   * Pairs variables without slots with pending state from `setWeights`: first by
   * the saved variable name, then in order. Throws, before anything is created,
   * when a paired state has another shape.
   */
  private matchPending(vars: readonly tf.Variable[]): Map<tf.Variable, PendingSlots> {
    const matched = new Map<tf.Variable, PendingSlots>();
    if (this.pending.length === 0) return matched;
    const free = new Set(this.pending);
    for (const v of vars) {
      const byName = [...free].find((p) => p.variableName === v.name);
      if (byName) { matched.set(v, byName); free.delete(byName); }
    }
    for (const v of vars) {
      if (matched.has(v)) continue;
      const next = [...free][0];
      if (!next) break;
      matched.set(v, next);
      free.delete(next);
    }
    for (const [v, p] of matched) {
      if (!sameShape(v.shape, p.shape)) {
        throw new Error(
          `${this.owner}: the optimizer state given to setWeights for '${p.variableName}' has shape ` +
          `[${p.shape}], but it pairs with variable '${v.name}' of shape [${v.shape}]`,
        );
      }
    }
    return matched;
  }

  /** Creates the slots of the variables that have none, as one Keras batch. */
  create(vars: readonly tf.Variable[]): void {
    const fresh = vars.filter((v, i) => !this.byVariable.has(v) && vars.indexOf(v) === i);
    if (fresh.length === 0) return;
    const matched = this.matchPending(fresh);
    for (const v of fresh) {
      const p = matched.get(v);
      const set: Record<string, tf.Variable | boolean> = {};
      for (const name of this.names) set[name] = newSlot(v.shape, p?.values.get(name));
      set.handedOut = false;
      if (this.checksGradients) set.checksGradients = true;
      this.byVariable.set(v, set as unknown as Slots);
    }
    this.batches.push(fresh);
    if (matched.size > 0) {
      const used = new Set(matched.values());
      for (const p of used) for (const t of p.values.values()) t.dispose();
      this.pending = this.pending.filter((p) => !used.has(p));
    }
  }

  /**
   * Drops the slots of variables the user disposed (disposing the slots), so
   * they are neither kept nor saved; `release` first sees each of them. A new
   * variable may then reuse the name.
   */
  prune(release: (variable: tf.Variable, slots: Slots) => void): void {
    let gone: tf.Variable[] | null = null;
    for (const v of this.byVariable.keys()) if (v.isDisposed) (gone ??= []).push(v);
    if (gone === null) return;
    for (const v of gone) {
      release(v, this.byVariable.get(v) as Slots);
      for (const name of this.names) {
        const slot = this.slot(v, name);
        if (slot !== undefined && !slot.isDisposed) slot.dispose();
      }
      this.byVariable.delete(v);
    }
    const dropped = new Set(gone);
    for (let i = this.batches.length - 1; i >= 0; i--) {
      this.batches[i] = this.batches[i].filter((v) => !dropped.has(v));
      if (this.batches[i].length === 0) this.batches.splice(i, 1);
    }
  }

  /**
   * Throws, naming it, when a slot of one of `vars` was disposed (a slot
   * `getSlot` handed out is live: disposing it destroys the optimizer's state).
   */
  checkLive(where: string, vars: readonly tf.Variable[]): void {
    for (const v of vars) {
      // One lookup per variable: this runs on every step, over every variable of it.
      const set = this.byVariable.get(v) as Record<string, tf.Variable | undefined> | undefined;
      if (set === undefined) continue;
      for (const name of this.names) {
        const slot = set[name];
        if (slot !== undefined && slot.isDisposed) {
          throw new Error(
            `${where}: the ${name} slot of variable '${v.name}' has been disposed (getSlot returns the live slot: ` +
            'do not dispose it); this optimizer has lost that state',
          );
        }
      }
    }
  }

  /** Records that the slots of `variable` (all variables when omitted) are in user code's hands. */
  handOut(variable?: tf.Variable): void {
    const sets = variable === undefined ? this.byVariable.values() : [this.byVariable.get(variable)];
    for (const set of sets) if (set !== undefined) (set as { handedOut?: boolean }).handedOut = true;
  }

  /** The slot `name` of `variable`, if it has slots. */
  slot(variable: tf.Variable, name: string): tf.Variable | undefined {
    const set = this.byVariable.get(variable) as Record<string, tf.Variable> | undefined;
    return set?.[name];
  }

  /** `[name, slot variable]` in Keras weight order. */
  ordered(): Array<{ name: string; tensor: tf.Variable }> {
    const out: Array<{ name: string; tensor: tf.Variable }> = [];
    for (const batch of this.batches) {
      for (const slot of this.names) {
        for (const v of batch) out.push({ name: `${v.name}/${slot}`, tensor: this.slot(v, slot) as tf.Variable });
      }
    }
    return out;
  }

  /** Pending state in the same order, for `getWeights` before the first step. */
  orderedPending(): Array<{ name: string; tensor: tf.Tensor }> {
    const out: Array<{ name: string; tensor: tf.Tensor }> = [];
    for (const slot of this.names) {
      for (const p of this.pending) out.push({ name: `${p.variableName}/${slot}`, tensor: p.values.get(slot)! });
    }
    return out;
  }

  /**
   * Sets the pending state `name` to zeros: an update call resets every
   * accumulator (Keras 3), including those restored for variables not seen yet.
   */
  zeroPending(name: string): void {
    this.pending = this.pending.map((p) => {
      const t = p.values.get(name);
      if (t === undefined) return p;
      // Kept: this may run inside a step's tidy, and pending state outlives it.
      const values = new Map(p.values).set(name, tf.keep(tf.zerosLike(t)));
      t.dispose();
      return { ...p, values };
    });
  }

  /** Replaces any pending state (takes ownership of the tensors). */
  setPending(pending: PendingSlots[]): void {
    this.clearPending();
    this.pending = pending;
  }

  private clearPending(): void {
    for (const p of this.pending) for (const t of p.values.values()) t.dispose();
    this.pending = [];
  }

  dispose(): void {
    for (const v of this.byVariable.keys()) {
      for (const name of this.names) this.slot(v, name)?.dispose();
    }
    this.byVariable.clear();
    this.batches.length = 0;
    this.clearPending();
  }
}
