/** Key conversions for configs written by Python Keras (snake_case) or by TF.js (camelCase). */

/** `learning_rate` → `learningRate`; camelCase keys pass through unchanged. */
export function snakeToCamel(key: string): string {
  return key.replace(/_+([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** A shallow copy of `config` with every key camel-cased. Two keys that collide are an error. */
export function camelCaseKeys(config: Readonly<Record<string, unknown>>, what: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    const camel = snakeToCamel(key);
    if (camel in out) {
      throw new TypeError(`${what}: the config gives '${camel}' twice (as '${key}' and in another spelling)`);
    }
    out[camel] = value;
  }
  return out;
}

/** A readable rendering of a user value for error messages. */
export function show(value: unknown): string {
  if (typeof value === 'function') return `a function (${value.name || 'anonymous'})`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (Array.isArray(value)) return `[${value.length > 6 ? `${value.slice(0, 6).map(show).join(', ')}, …` : value.map(show).join(', ')}]`;
  const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
  try {
    return ctor && ctor !== 'Object' ? `a ${ctor}` : JSON.stringify(value);
  } catch {
    return String(value);
  }
}
