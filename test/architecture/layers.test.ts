/**
 * The layers of src/ import one way, so a backend, a flavor or an optimizer is
 * added in one place (docs/architecture.md): every relative import of every
 * module under src/ is read, and
 * - no folder imports a folder of a higher layer (type-only imports included:
 *   a type from above is a dependency on above all the same);
 * - no two folders, at any depth, import each other through any path (a cycle).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { describe, test } from 'node:test';

const SRC = 'src';

/** Bottom to top. Root files of src/ other than index.ts count as their own layer: there are none. */
const LAYERS: ReadonlyArray<readonly string[]> = [
  ['util'],
  ['rules', 'clipping', 'schedules'],
  ['kernels'],
  ['sparse'],
  ['optimizer'],
  ['rmsprop'],
  ['layers'],
  ['index.ts'],
];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports of a file, resolved to paths under src/ (`.js` specifiers name `.ts` sources). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+'(\.{1,2}\/[^']+)'|^\s*import\s+'(\.{1,2}\/[^']+)'/gm)) {
    const spec = m[1] ?? m[2];
    out.push(normalize(join(dirname(file), spec.replace(/\.js$/, '.ts'))));
  }
  return out;
}

const topOf = (file: string): string => relative(SRC, file).split(sep)[0];
const layerOf = (top: string): number => LAYERS.findIndex((l) => l.includes(top));

const ALL = files(SRC);
const EDGES = ALL.flatMap((from) => importsOf(from).map((to) => ({ from, to })));

describe('the layers of src/', () => {
  test('every module is in a declared layer, and every import resolves to a module', () => {
    for (const f of ALL) assert.notEqual(layerOf(topOf(f)), -1, `${f} is in no layer of this test (add its folder to LAYERS)`);
    const known = new Set(ALL);
    for (const { from, to } of EDGES) assert.ok(known.has(to), `${from} imports ${to}, which is not a module under src/`);
  });

  test('no module imports from a layer above its own', () => {
    const upward = EDGES.filter(({ from, to }) => layerOf(topOf(to)) > layerOf(topOf(from)))
      .map(({ from, to }) => `${from} → ${to}`);
    assert.deepEqual(upward, []);
  });

  test('no folder-level import cycle, at any depth', () => {
    // Each import is an edge between the two folders that contain the files, at
    // every depth where they differ (src/kernels/cpu/x.ts → src/kernels/wasm/y.ts:
    // kernels/cpu → kernels/wasm).
    const graph = new Map<string, Set<string>>();
    for (const { from, to } of EDGES) {
      const a = relative(SRC, dirname(from)).split(sep);
      const b = relative(SRC, dirname(to)).split(sep);
      let i = 0;
      while (i < a.length && i < b.length && a[i] === b[i]) i++;
      if (i === a.length || i === b.length) continue; // one folder inside the other: a parent's files may use their children
      const x = a.slice(0, i + 1).join('/');
      const y = b.slice(0, i + 1).join('/');
      if (!graph.has(x)) graph.set(x, new Set());
      graph.get(x)!.add(y);
    }
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (node: string, path: string[]): void => {
      state.set(node, 'open');
      for (const next of graph.get(node) ?? []) {
        if (state.get(next) === 'open') cycles.push([...path.slice(path.indexOf(next)), next].join(' → '));
        else if (state.get(next) === undefined) visit(next, [...path, next]);
      }
      state.set(node, 'done');
    };
    for (const node of graph.keys()) if (state.get(node) === undefined) visit(node, [node]);
    assert.deepEqual(cycles, []);
  });

  test('a cycle or an upward import is caught (the checks can fail)', () => {
    const fake = [{ from: join(SRC, 'kernels', 'x.ts'), to: join(SRC, 'optimizer', 'y.ts') }];
    assert.equal(fake.filter(({ from, to }) => layerOf(topOf(to)) > layerOf(topOf(from))).length, 1);
    assert.ok(importsOf(join(SRC, 'rmsprop', 'rmsprop.ts')).some((p) => p.startsWith(join(SRC, 'optimizer'))),
      'the import reader sees rmsprop.ts import the optimizer base');
  });
});
