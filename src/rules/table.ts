/**
 * The rule table: one entry per flavor × path, each a `Rule` whose update pass
 * carries its three forms (float32 loops, tensor ops, SIMD export). The
 * reference loops, the op chain and the SIMD kernels all read it; a new flavor
 * is its rule file, its wasm-src module and one entry here (and a row in
 * flavors.ts, which documents the differences).
 */
import type { Flavor } from './flavors.js';
import { FLAVOR_SPECS } from './flavors.js';
import { KERAS2_MOMENTUM, KERAS2_NESTEROV, KERAS2_PLAIN } from './keras2.js';
import { KERAS3_MOMENTUM, KERAS3_NESTEROV, KERAS3_PLAIN } from './keras3.js';
import { PYTORCH_MOMENTUM, PYTORCH_NESTEROV, PYTORCH_PLAIN } from './pytorch.js';
import { TFJS, TFJS_NESTEROV } from './tfjs.js';
import { ACCUMULATE, COMBINE, EMA, EMA_OVERWRITE, UNSCALE } from './training.js';
import type { Pass, Rule, RuleKey, StepScalars, UpdateForm } from './types.js';
import { DECOUPLED_DECAY } from './weight_decay.js';

export const RULES: Readonly<Record<Flavor, Readonly<Record<RuleKey, Rule>>>> = {
  keras2: { plain: KERAS2_PLAIN, momentum: KERAS2_MOMENTUM, nesterov: KERAS2_NESTEROV },
  keras3: { plain: KERAS3_PLAIN, momentum: KERAS3_MOMENTUM, nesterov: KERAS3_NESTEROV },
  pytorch: { plain: PYTORCH_PLAIN, momentum: PYTORCH_MOMENTUM, nesterov: PYTORCH_NESTEROV },
  // TF.js always takes its momentum form (the optimizer gives 'tfjs' the momentum path).
  tfjs: { plain: TFJS, momentum: TFJS, nesterov: TFJS_NESTEROV },
};

/** The table's key of a form: Nesterov momentum only on the momentum path. */
export function ruleKeyOf(form: UpdateForm): RuleKey {
  return form.nesterov === true && form.path === 'momentum' ? 'nesterov' : form.path;
}

export function ruleOf(form: UpdateForm): Rule {
  return RULES[form.flavor ?? 'keras2'][ruleKeyOf(form)];
}

/** Whether a step of this form and these scalars starts with a decoupled weight-decay pass. */
export function hasDecoupledDecay(form: UpdateForm, s: StepScalars): boolean {
  return (s.weightDecay ?? 0) !== 0 && FLAVOR_SPECS[form.flavor ?? 'keras2'].weightDecay === 'decoupled';
}

/**
 * How a sparse row is updated: `'dense'` is the form's dense rule on the row
 * (what applying the densified gradient does to it); `'sparse'` is the
 * framework's own sparse kernel where the rule has one (TF 2.4's momentum path),
 * else the dense rule too.
 */
export type RowRule = 'dense' | 'sparse';

/** The passes of one dense step, in order: the decoupled weight decay where there is one, then the update. */
export function densePasses(form: UpdateForm, s: StepScalars): Pass[] {
  const update = ruleOf(form).update;
  return hasDecoupledDecay(form, s) ? [DECOUPLED_DECAY, update] : [update];
}

/** The update pass of a sparse row: the rule's own sparse kernel for `'sparse'` rows where it has one, else its dense update. */
export function rowUpdate(form: UpdateForm, row: RowRule): Pass {
  const rule = ruleOf(form);
  return row === 'sparse' ? rule.sparse ?? rule.update : rule.update;
}

/** The passes of one sparse row step: as `densePasses`, with the rule's own sparse kernel for `'sparse'` rows. */
export function rowPasses(form: UpdateForm, s: StepScalars, row: RowRule): Pass[] {
  const update = rowUpdate(form, row);
  return hasDecoupledDecay(form, s) ? [DECOUPLED_DECAY, update] : [update];
}

/** Every pass of the table and of Keras 3's base (training.ts), for the SIMD kernels' call codes. */
export const ALL_PASSES: readonly Pick<Pass, 'simd'>[] = [
  DECOUPLED_DECAY,
  ...new Set(Object.values(RULES).flatMap((byPath) => Object.values(byPath).flatMap((r) => (r.sparse ? [r.update, r.sparse] : [r.update])))),
  ACCUMULATE, COMBINE, EMA, EMA_OVERWRITE, UNSCALE,
];
