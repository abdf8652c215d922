/**
 * The `LearningRateSchedule` protocol: `valueAt(step)` gives the learning rate at
 * an optimizer step (the iteration count before the increment, as Keras reads it),
 * and `getConfig()` with a registered class name makes it serializable.
 *
 * Deserialization looks class names up in an allow-list: the built-in schedules
 * and classes registered with `registerSchedule`. A config can never instantiate
 * anything else.
 */
import { camelCaseKeys, show } from '../config_keys.js';

/** A JSON-compatible config value. */
export type ScheduleConfigValue = number | string | boolean | null | ScheduleConfigValue[] | { [key: string]: ScheduleConfigValue };
export type ScheduleConfig = { [key: string]: ScheduleConfigValue };

/** `{className, config}`, what `serialize` gives and `deserialize` takes. */
export interface SerializedSchedule {
  className: string;
  config: ScheduleConfig;
}

/** A schedule class as the registry sees it. */
export interface ScheduleClass {
  readonly className: string;
  fromConfig(config: ScheduleConfig): LearningRateSchedule;
}

export abstract class LearningRateSchedule {
  /** The learning rate at `step` (0 on the first update). */
  abstract valueAt(step: number): number;

  /** The constructor options, camelCase, enough to rebuild the schedule. */
  abstract getConfig(): ScheduleConfig;

  /** The registered name of the class; subclasses define `static get className()`. */
  getClassName(): string {
    const ctor = this.constructor as unknown as { className?: unknown; name: string };
    if (typeof ctor.className !== 'string' || ctor.className === '') {
      throw new TypeError(`${ctor.name} extends LearningRateSchedule but has no static className`);
    }
    return ctor.className;
  }
}

const registry = new Map<string, ScheduleClass>();

/**
 * Adds a schedule class to the allow-list that `deserialize` (and the optimizer's
 * `fromConfig`) may instantiate.
 */
export function registerSchedule(cls: ScheduleClass): void {
  if (typeof cls?.className !== 'string' || cls.className === '') {
    throw new TypeError(`registerSchedule: the class needs a static, non-empty className; got ${show(cls?.className)}`);
  }
  if (typeof cls.fromConfig !== 'function') {
    throw new TypeError(`registerSchedule: ${cls.className} needs a static fromConfig(config)`);
  }
  registry.set(cls.className, cls);
}

/** The names `deserialize` accepts. */
export function registeredScheduleNames(): string[] {
  return [...registry.keys()];
}

export function isLearningRateSchedule(value: unknown): value is LearningRateSchedule {
  return value instanceof LearningRateSchedule ||
    (typeof value === 'object' && value !== null &&
      typeof (value as LearningRateSchedule).valueAt === 'function' &&
      typeof (value as LearningRateSchedule).getConfig === 'function' &&
      typeof (value as LearningRateSchedule).getClassName === 'function');
}

export function serialize(schedule: LearningRateSchedule): SerializedSchedule {
  if (!isLearningRateSchedule(schedule)) {
    throw new TypeError(`schedules.serialize: expected a LearningRateSchedule, got ${show(schedule)}`);
  }
  return { className: schedule.getClassName(), config: schedule.getConfig() };
}

/** True for `{className, config}` or Python's `{class_name, config}`. */
export function isSerializedSchedule(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const o = value as Record<string, unknown>;
  return (typeof o.className === 'string' || typeof o.class_name === 'string') && typeof o.config === 'object';
}

export function deserialize(serialized: unknown): LearningRateSchedule {
  if (!isSerializedSchedule(serialized)) {
    throw new TypeError(`schedules.deserialize: expected {className, config}, got ${show(serialized)}`);
  }
  const o = serialized as { className?: string; class_name?: string; config: ScheduleConfig };
  const name = (o.className ?? o.class_name) as string;
  const cls = registry.get(name);
  if (cls === undefined) {
    const known = registeredScheduleNames();
    throw new TypeError(
      `schedules.deserialize: unknown schedule class ${show(name)}; ` +
      `known: ${known.length ? known.join(', ') : '(none)'}. Register your own with registerSchedule().`,
    );
  }
  const config = camelCaseKeys(o.config ?? {}, `schedules.deserialize(${name})`) as ScheduleConfig;
  return cls.fromConfig(config);
}
