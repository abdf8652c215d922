/**
 * The `LearningRateSchedule` protocol: `valueAt(step)` gives the learning rate at
 * an optimizer step (the iteration count before the increment, as Keras reads it),
 * and `getConfig()` with a registered class name makes it serializable.
 *
 * Deserialization looks class names up in an allow-list: the built-in schedules
 * and classes registered with `registerSchedule`. A config can never instantiate
 * anything else.
 */
import { camelCaseKeys, show } from '../util/config_keys.js';

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

  /**
   * The registered name of the class; subclasses define `static get className()`.
   * A subclass must define its own: inheriting its parent's name would make a
   * config rebuild the parent class, silently dropping the subclass's behaviour.
   */
  getClassName(): string {
    const ctor = this.constructor as unknown as { className?: unknown; name: string };
    if (typeof ctor.className !== 'string' || ctor.className === '') {
      throw new TypeError(`${ctor.name} extends LearningRateSchedule but has no static className`);
    }
    if (!Object.prototype.hasOwnProperty.call(ctor, 'className')) {
      throw new TypeError(
        `${ctor.name} inherits the static className ${show(ctor.className)} from its parent; ` +
        'give it its own (and register it) so that its config rebuilds this class',
      );
    }
    return ctor.className;
  }

  /**
   * Keras's default `from_config`, `cls(**config)`: the constructor gets the config
   * as its options and validates it. Classes whose options differ from their
   * config override this (not generic, so that an override may return its own type).
   */
  static fromConfig(this: new (options: never) => LearningRateSchedule, config: ScheduleConfig): LearningRateSchedule {
    return new this(config as never);
  }
}

const registry = new Map<string, ScheduleClass>();
const builtins = new Set<string>();

function checkClass(cls: ScheduleClass, where: string): void {
  if (typeof cls?.className !== 'string' || cls.className === '') {
    throw new TypeError(`${where}: the class needs a static, non-empty className; got ${show(cls?.className)}`);
  }
  if (typeof cls.fromConfig !== 'function') {
    throw new TypeError(`${where}: ${cls.className} needs a static fromConfig(config)`);
  }
}

/**
 * Adds a schedule class to the allow-list that `deserialize` (and the optimizer's
 * `fromConfig`) may instantiate. Registering the same class twice is harmless;
 * a second class under a name already taken is an error, as in Keras, so that a
 * config always means the class its author meant.
 */
export function registerSchedule(cls: ScheduleClass): void {
  checkClass(cls, 'registerSchedule');
  const name = cls.className;
  const existing = registry.get(name);
  if (existing !== undefined && existing !== cls) {
    throw new TypeError(
      builtins.has(name)
        ? `registerSchedule: ${show(name)} is a built-in schedule; give your class another className`
        : `registerSchedule: another class is already registered as ${show(name)}`,
    );
  }
  registry.set(name, cls);
}

/** For the built-in schedule modules: registers at load and protects the name. */
export function registerBuiltinSchedule(cls: ScheduleClass): void {
  checkClass(cls, 'registerBuiltinSchedule');
  registry.set(cls.className, cls);
  builtins.add(cls.className);
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

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * True for `{className, config}` or Python's `{class_name, config}` (newer Keras
 * adds `module` and `registered_name`, which are ignored).
 */
export function isSerializedSchedule(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  return (typeof value.className === 'string' || typeof value.class_name === 'string') && isPlainObject(value.config);
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
  const config = camelCaseKeys(o.config, `schedules.deserialize(${name})`) as ScheduleConfig;
  return cls.fromConfig(config);
}
