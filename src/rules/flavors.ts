/**
 * The flavors: which framework's RMSprop arithmetic a step reproduces. The
 * differences are listed here as data (the porting guide and the tests read
 * this table); the arithmetic of each flavor is its own module (keras2.ts,
 * keras3.ts, pytorch.ts, tfjs.ts), dispatched by dense.ts.
 */

export const FLAVORS = ['keras2', 'keras3', 'pytorch', 'tfjs'] as const;
export type Flavor = (typeof FLAVORS)[number];

export interface FlavorSpec {
  /** The framework and versions whose numbers the flavor reproduces. */
  readonly reproduces: string;
  /**
   * Where epsilon sits: `'by-path'` is TF 2.4 (outside the square root when
   * momentum is 0, inside with momentum); `'inside'`: `√(ms + ε)`; `'outside'`: `√ms + ε`.
   */
  readonly epsilon: 'by-path' | 'inside' | 'outside';
  /** Whether epsilon 0 is replaced by 1e-7 (TF 2.4's `epsilon or backend.epsilon()`). */
  readonly zeroEpsilonIsDefault: boolean;
  /** The centered denominator, as written by the framework (before the square root / epsilon rule above). */
  readonly centered: string;
  /**
   * How the float32 `1 − ρ` is made: `'float32-rho'` rounds ρ to float32 first
   * (TF 2.4: 0.100000024 for 0.9); `'double-rho'` subtracts in double and rounds
   * once (Keras 3, PyTorch, TF.js: 0.1 for 0.9).
   */
  readonly oneMinusRho: 'float32-rho' | 'double-rho';
  /** `true`: the momentum buffer accumulates `lr·g/denominator`; `false` (PyTorch): it accumulates `g/denominator` and lr multiplies it. */
  readonly lrInMomentumBuffer: boolean;
  /** When the momentum slot exists: `'when-momentum'` (momentum > 0 or a function); `'always'` (TF.js allocates it even for momentum 0). */
  readonly momentumSlot: 'when-momentum' | 'always';
  /** `weightDecay`: decoupled `w −= w·wd·lr` before the update (Keras 3), or coupled L2 `g += wd·w` (PyTorch). */
  readonly weightDecay: 'decoupled' | 'coupled';
  /** Whether multiply-adds are fused (one rounding), as PyTorch's AVX2 CPU kernels compile them. */
  readonly fusedMultiplyAdd: boolean;
  /** What the framework itself does with a sparse gradient. */
  readonly ownSparse: string;
}

export const FLAVOR_SPECS: Readonly<Record<Flavor, FlavorSpec>> = {
  keras2: {
    reproduces: 'tf.keras.optimizers.RMSprop, TensorFlow 2.4',
    epsilon: 'by-path',
    zeroEpsilonIsDefault: true,
    centered: 'ms − mg² (ε as above)',
    oneMinusRho: 'float32-rho',
    lrInMomentumBuffer: true,
    momentumSlot: 'when-momentum',
    weightDecay: 'decoupled',
    fusedMultiplyAdd: false,
    ownSparse: 'lazy rows with momentum; without momentum every row\'s accumulators decay (sparseMode \'keras2\')',
  },
  keras3: {
    reproduces: 'keras.optimizers.RMSprop, Keras 3 (3.0 to 3.15)',
    epsilon: 'inside',
    zeroEpsilonIsDefault: false,
    centered: 'ms − mg² + ε',
    oneMinusRho: 'double-rho',
    lrInMomentumBuffer: true,
    momentumSlot: 'when-momentum',
    weightDecay: 'decoupled',
    fusedMultiplyAdd: false,
    ownSparse: 'the same values as the densified gradient (sparseMode \'dense-equivalent\')',
  },
  pytorch: {
    reproduces: 'torch.optim.RMSprop, PyTorch 1.13 to 2.x (float32, CPU)',
    epsilon: 'outside',
    zeroEpsilonIsDefault: false,
    centered: '√(ms − mg²) + ε',
    oneMinusRho: 'double-rho',
    lrInMomentumBuffer: false,
    momentumSlot: 'when-momentum',
    weightDecay: 'coupled',
    fusedMultiplyAdd: true,
    ownSparse: 'none: PyTorch raises on sparse gradients',
  },
  tfjs: {
    reproduces: 'tf.train.rmsprop, TensorFlow.js 4.x',
    epsilon: 'inside',
    zeroEpsilonIsDefault: false,
    centered: 'ms − (mg² − ε) (TF.js subtracts ε: ms − (mg² + ε); corrected here)',
    oneMinusRho: 'double-rho',
    lrInMomentumBuffer: true,
    momentumSlot: 'always',
    weightDecay: 'decoupled',
    fusedMultiplyAdd: false,
    ownSparse: 'none: TF.js optimizers take dense gradients only',
  },
};
