/**
 * The GPU kernels reach into tfjs-backend-webgl's and tfjs-backend-webgpu's
 * internals as they are in 4.22 (see ../webgl/backend.ts, ../webgpu/backend.ts):
 * checked once per backend object here. The backends are released in lockstep
 * with tfjs-core, so another tfjs-core version means other internals: the
 * kernels then step aside, saying why.
 */
import * as tf from '@tensorflow/tfjs-core';
import { foldClip, hasClipping, type ClipOptions, type FoldedClip } from '../../clipping/scalar.js';

export const CHECKED_TFJS = '4.22.';

/** Why the GPU kernels do not run with this tfjs-core (`v`, the loaded one when omitted), or null. */
export function tfjsVersionReason(v: string = tf.version_core): string | null {
  return v.startsWith(CHECKED_TFJS) ? null : `tfjs-core ${v}: the GPU kernels use backend internals checked against 4.22.x`;
}

/**
 * A getter of the active backend's internals when it is `name` and `check`
 * accepts it (the result is remembered per backend object), else null.
 */
export function backendInternals<T>(name: string, check: (b: Record<string, unknown>) => boolean): () => T | null {
  const seen = new WeakMap<object, T | null>();
  return () => {
    if (tf.getBackend() !== name) return null;
    const b = tf.backend();
    let internals = seen.get(b);
    if (internals === undefined) {
      internals = check(b as unknown as Record<string, unknown>) ? b as unknown as T : null;
      seen.set(b, internals);
    }
    return internals;
  };
}

/** A step's updates as a kernel runs them, and the copies it made (dispose after the step). */
export interface GradientsToRead<U> {
  readonly updates: readonly U[];
  readonly copies: tf.Tensor[];
}

/**
 * Gradients that are tensors the step writes (a variable passed as the gradient
 * of itself or of another, or a slot), copied where the op chain would read
 * them as they were before the step: a gradient of its own update always (its
 * slots and variable are computed from it before they are assigned); with
 * clipping, any written one (the op chain clips every gradient before the first
 * update). Otherwise, like the op chain, a later update reads what an earlier
 * one wrote.
 */
export function gradientsToRead<U extends {
  readonly grad: tf.Tensor; readonly variable: tf.Variable;
  readonly slots: { readonly rms: tf.Variable; readonly momentum?: tf.Variable; readonly mg?: tf.Variable };
}>(updates: readonly U[], clipping: boolean): GradientsToRead<U> {
  const writes = (u: U): object[] => [u.variable, u.slots.rms, u.slots.momentum, u.slots.mg]
    .filter((t): t is tf.Variable => t !== undefined).map((t) => t.dataId as object);
  const all = clipping ? new Set(updates.flatMap(writes)) : null;
  const aliased = (u: U): boolean => (all === null ? writes(u).includes(u.grad.dataId as object) : all.has(u.grad.dataId as object));
  if (!updates.some(aliased)) return { updates, copies: [] };
  const copies: tf.Tensor[] = [];
  const out = updates.map((u) => {
    if (!aliased(u)) return u;
    const copy = tf.add(u.grad, tf.scalar(0));
    copies.push(copy);
    return { ...u, grad: copy };
  });
  return { updates: out, copies };
}

/**
 * A GPU kernel's `run`: the step's clipping folded (null when there is none) and
 * the gradients as `gradientsToRead` gives them, copies disposed afterwards.
 */
export function runStep<U extends Parameters<typeof gradientsToRead>[0][number]>(
  updates: readonly U[], clip: ClipOptions | undefined, step: (updates: readonly U[], folded: FoldedClip | null) => void,
): void {
  const folded = clip !== undefined && hasClipping(clip) ? foldClip(clip) : null;
  const read = gradientsToRead(updates, folded !== null);
  try {
    step(read.updates, folded);
  } finally {
    tf.dispose(read.copies);
  }
}

/**
 * What a GPU kernel keeps per backend object (made on first use), and the
 * variables it has served: its buffers are freed with the last of them
 * (`release`), so a disposed optimizer leaves nothing of the kernel's behind.
 */
export class PerBackend<B extends object, T> {
  private readonly states = new WeakMap<B, { readonly state: T; readonly users: Set<tf.Variable>; pruneAt: number }>();

  constructor(private readonly make: (b: B) => T) {}

  private entry(b: B): { readonly state: T; readonly users: Set<tf.Variable>; pruneAt: number } {
    let e = this.states.get(b);
    if (e === undefined) {
      e = { state: this.make(b), users: new Set(), pruneAt: 64 };
      this.states.set(b, e);
    }
    return e;
  }

  of(b: B): T {
    return this.entry(b).state;
  }

  /** Records that `v` was stepped; variables disposed without a release are dropped now and then. */
  use(b: B, v: tf.Variable): void {
    const e = this.entry(b);
    if (e.users.size >= e.pruneAt) {
      for (const u of e.users) if (u.isDisposed) e.users.delete(u);
      e.pruneAt = 2 * e.users.size + 64;
    }
    e.users.add(v);
  }

  /** Lets go of `v`; returns the state when `v` was its last variable (the caller frees its buffers), else null. */
  release(b: B, v: tf.Variable): T | null {
    const e = this.states.get(b);
    if (e === undefined || !e.users.delete(v) || e.users.size > 0) return null;
    return e.state;
  }
}
