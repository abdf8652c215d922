/**
 * Gradients the non-finite check has already copied into the cpu kernel's
 * memory. With `nonFinite` 'skip' or 'error' every gradient is read before the
 * step writes anything; on `cpu` that read is a copy into wasm memory (the SIMD
 * module cannot read a JavaScript array), and the update would copy the
 * gradient in a second time, tile by tile. So a variable placed for such an
 * optimizer gets one more region in its chunk, the size of its gradient (its
 * stage): the check copies the gradient there, checking each tile while it is
 * in the core's cache, and marks the stage with the gradient; the update reads
 * it there and copies nothing (docs/performance.md: with one variable of 1e6 on
 * a 2-core AMD EPYC, the check's share of a step fell from 15-20% to 11-13%;
 * with many small variables it gains little).
 *
 * A mark is good until that step's update takes it or the next check begins,
 * so an update never reads a copy made for another call, and each copy is taken
 * once (an update may clip or unscale it in place).
 */
import type * as tf from '@tensorflow/tfjs-core';

export interface Stage {
  /** Byte offset of the region in its chunk's memory. */
  readonly offset: number;
  readonly view: Float32Array;
  /** The gradient whose values the region holds for the coming update, or null. */
  grad: tf.Tensor | null;
  /** The check that copied it: a mark from an earlier check is void. */
  check: number;
  /** The last walk over a step's updates that met this stage (`nextWalk`): a variable listed twice meets it twice. */
  walk: number;
}

// Counters rather than a list of marked stages, which would keep the memory of
// a disposed optimizer's chunk alive until the next check.
let checks = 0;
let taken = 0;
let walks = 0;

/** A number no stage has as its `walk` yet. */
export function nextWalk(): number {
  walks = (walks + 1) | 0;
  return walks;
}

/** Voids every mark: a check is starting, or found a gradient the step will not take. */
export function clearStages(): void {
  checks = (checks + 1) | 0;
}

/** Records that `stage` holds `grad`'s values, checked by the current check. */
export function markStaged(stage: Stage, grad: tf.Tensor): void {
  stage.grad = grad;
  stage.check = checks;
}

/** Byte offset of `grad`'s checked copy in `stage`, or −1; the copy stays marked. */
export function stagedAt(stage: Stage | null, grad: tf.Tensor): number {
  return stage !== null && stage.grad === grad && stage.check === checks ? stage.offset : -1;
}

/** As `stagedAt`, and the copy is the caller's: nobody else reads it. */
export function takeStaged(stage: Stage | null, grad: tf.Tensor): number {
  const at = stagedAt(stage, grad);
  if (at !== -1) {
    (stage as Stage).grad = null;
    taken++;
  }
  return at;
}

/** How many staged copies updates have taken in this process (for tests: the path runs). */
export function stagedTaken(): number {
  return taken;
}
