/**
 * Keras 3's decoupled weight decay (`base_optimizer._apply_weight_decay`):
 * `w ← w − (w·wd)·lr`, with the step's learning rate, as a pass of its own before
 * the update, in every flavor whose framework decouples it (flavors.ts). PyTorch's
 * coupled L2 is part of its rule instead (pytorch.ts).
 */
// Module-local on purpose: an imported binding is a getter per call in transpiled code.
const f32 = Math.fround;
import type { Pass, StepScalars } from './types.js';

export function decoupledDecay(s: StepScalars, w: Float32Array, start: number, end: number): void {
  const wd = s.weightDecay ?? 0;
  const lr = s.lr;
  for (let i = start; i < end; i++) w[i] = f32(w[i] - f32(f32(w[i] * wd) * lr));
}

export const DECOUPLED_DECAY: Pass = {
  name: 'decoupled weight decay',
  loop: (s, _centered, _g, st, start, end) => decoupledDecay(s, st.w, start, end),
  ops: (o, k, _centered, _g, st) => ({ w: o.sub(st.w, o.mul(o.mul(st.w, k.weightDecay!), k.lr)) }),
  // In the Keras 3 module (wasm-src/keras3.ts), which every decoupling flavor loads anyway or is small enough to.
  simd: { module: 'keras3', fn: () => 'decay', args: (s) => [s.lr, s.weightDecay ?? 0], exports: ['decay'] },
};
