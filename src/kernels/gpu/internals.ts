/**
 * The GPU kernels reach into tfjs-backend-webgl's and tfjs-backend-webgpu's
 * internals as they are in 4.22 (see ../webgl/backend.ts, ../webgpu/backend.ts):
 * checked once per backend object here. The backends are released in lockstep
 * with tfjs-core, so another tfjs-core version means other internals: the
 * kernels then step aside, saying why.
 */
import * as tf from '@tensorflow/tfjs-core';

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
