/**
 * `npm ci` prints no engine warning: every installed package's `engines.node`
 * (from package-lock.json) accepts the Node that runs this test and the oldest
 * Node the README names for working on the repository (20.19.0).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

/** The oldest Node for `npm ci` / `npm test`, as the README's Install section says. */
const OLDEST_DEV_NODE = '20.19.0';

type Version = [number, number, number];

function parse(v: string): Version {
  const [a = 0, b = 0, c = 0] = v.replace(/^v/, '').split('.').map((x) => (x === 'x' || x === '*' ? 0 : Number(x)));
  return [a, b, c];
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** Whether `version` satisfies an npm range of the forms package-lock.json holds here (>=, ^, x/*, bare majors, ||). */
export function satisfies(version: string, range: string): boolean {
  const v = parse(version);
  return range.split('||').some((alternative) => {
    const parts = alternative.trim().replace(/(>=|<=|>|<|\^|~)\s+/g, '$1').split(/\s+/).filter(Boolean);
    return parts.every((part) => {
      const m = /^(>=|<=|>|<|\^|~|=)?v?([\d.x*]+)$/.exec(part);
      if (!m) throw new Error(`range form not understood: "${range}"`);
      const [, op = '', text] = m;
      const r = parse(text);
      const fields = text.split('.').filter((x) => x !== 'x' && x !== '*').length;
      switch (op) {
        case '>=': return compare(v, r) >= 0;
        case '>': return compare(v, r) > 0;
        case '<=': return compare(v, r) <= 0;
        case '<': return compare(v, r) < 0;
        case '^': return v[0] === r[0] && compare(v, r) >= 0;
        case '~': return v[0] === r[0] && v[1] === r[1] && compare(v, r) >= 0;
        default: return v.slice(0, fields).every((x, i) => x === r[i]); // "20", "6.*", "4.x", "=1.2.3"
      }
    });
  });
}

describe('engines', () => {
  test('the range checker reads npm ranges', () => {
    assert.ok(satisfies('20.19.0', '^20.19.0 || ^22.12.0 || >=23'));
    assert.ok(!satisfies('20.18.9', '^20.19.0 || ^22.12.0 || >=23'));
    assert.ok(satisfies('20.20.2', '18 || 20 || >=22'));
    assert.ok(!satisfies('21.0.0', '18 || 20 || >=22'));
    assert.ok(satisfies('20.0.0', '6.* || 8.* || >= 10.*'));
    assert.ok(!satisfies('20.20.2', '>=22'));
  });

  test('every installed package accepts this Node and the oldest Node the README names', () => {
    const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { engines?: { node?: string } }> };
    const refused: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      const range = entry.engines?.node;
      // Optional packages for other platforms (fsevents) are not installed, so npm does not check them.
      if (range === undefined || (path !== '' && !existsSync(path))) continue;
      for (const node of [process.version, OLDEST_DEV_NODE]) {
        if (!satisfies(node, range)) refused.push(`${path || 'rmsprop'} wants node ${range}, not ${node}`);
      }
    }
    assert.deepEqual(refused, []);
  });
});
