/**
 * `tf.keras.experimental.CosineDecay` (TF 2.4), plus the linear warm-up that
 * Keras 3 added (`warmupTarget`, `warmupSteps`), off by default.
 */
import { LearningRateSchedule, registerBuiltinSchedule, type ScheduleConfig } from './learning_rate_schedule.js';
import { add, div, f32, halfCosine, mul, sub } from './float32.js';
import { checkStep, OptionReader } from './options.js';

export interface CosineDecayOptions {
  /** The learning rate at step 0 (the start of the warm-up when there is one); >= 0. */
  initialLearningRate: number;
  /** Steps of the cosine decay (after the warm-up); > 0. */
  decaySteps: number;
  /** The final learning rate as a fraction of the rate the decay starts from. Default 0; >= 0. */
  alpha?: number;
  /** Kept in the config, as Keras does. Default null. */
  name?: string | null;
  /** Keras 3: the rate reached at the end of the warm-up, where the decay starts. Default null (no warm-up). */
  warmupTarget?: number | null;
  /** Keras 3: steps of the linear warm-up from `initialLearningRate` to `warmupTarget`. Default 0; needs `warmupTarget`. */
  warmupSteps?: number;
}

const KEYS = ['initialLearningRate', 'decaySteps', 'alpha', 'name', 'warmupTarget', 'warmupSteps'] as const;

/**
 * `lr0 · ((1 − α) · 0.5 · (1 + cos(π · min(step, D) / D)) + α)`.
 * With `warmupTarget`: a straight line from `lr0` to the target over
 * `warmupSteps`, then the same decay from the target (Keras 3).
 */
export class CosineDecay extends LearningRateSchedule {
  static get className(): string { return 'CosineDecay'; }

  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly alpha: number;
  readonly name: string | null;
  readonly warmupTarget: number | null;
  readonly warmupSteps: number;

  constructor(options: CosineDecayOptions) {
    super();
    const where = 'CosineDecay';
    const o = new OptionReader(where, options as unknown as Record<string, unknown>, KEYS);
    this.initialLearningRate = o.number('initialLearningRate', { min: 0 });
    this.decaySteps = o.number('decaySteps', { above: 0 });
    // A negative alpha would take the rate below 0 at the end of the decay.
    this.alpha = o.number('alpha', { min: 0 }, 0.0);
    this.name = o.name();
    this.warmupTarget = o.optionalNumber('warmupTarget', { min: 0 });
    this.warmupSteps = o.number('warmupSteps', { min: 0 }, 0);
    if (this.warmupTarget === null && this.warmupSteps > 0) {
      // Keras 3 silently skips the warm-up here; a user who asked for one wants to know.
      throw new RangeError(
        `${where}: \`warmupSteps\` = ${this.warmupSteps} needs a \`warmupTarget\` (the rate the warm-up climbs to), got null`,
      );
    }
  }

  valueAt(step: number): number {
    checkStep('CosineDecay', step);
    const lr0 = f32(this.initialLearningRate);
    const decaySteps = f32(this.decaySteps);
    const t = f32(step);
    if (this.warmupTarget === null) {
      return this.decay(Math.min(t, decaySteps), decaySteps, lr0);
    }
    const target = f32(this.warmupTarget);
    const warmupSteps = f32(this.warmupSteps);
    const tc = Math.min(t, add(decaySteps, warmupSteps));
    if (tc < warmupSteps) {
      return add(mul(sub(target, lr0), div(tc, warmupSteps)), lr0);
    }
    return this.decay(sub(tc, warmupSteps), decaySteps, target);
  }

  private decay(t: number, decaySteps: number, from: number): number {
    // Keras writes `(1 - self.alpha) * cosine + self.alpha` with a Python float
    // alpha: 1 − α is taken in double precision, then converted to float32.
    const decayed = add(mul(f32(1 - this.alpha), halfCosine(div(t, decaySteps))), f32(this.alpha));
    return mul(from, decayed);
  }

  /** Keras's `cls(**config)`: the constructor validates the config. */
  static override fromConfig(config: ScheduleConfig): CosineDecay {
    return new CosineDecay(config as unknown as CosineDecayOptions);
  }

  getConfig(): ScheduleConfig {
    const config: ScheduleConfig = {
      initialLearningRate: this.initialLearningRate,
      decaySteps: this.decaySteps,
      alpha: this.alpha,
      name: this.name,
    };
    // Only with a warm-up: TF 2.4's `CosineDecay(**config)` knows no such keys.
    if (this.warmupTarget !== null) {
      config.warmupTarget = this.warmupTarget;
      config.warmupSteps = this.warmupSteps;
    }
    return config;
  }
}

registerBuiltinSchedule(CosineDecay);
