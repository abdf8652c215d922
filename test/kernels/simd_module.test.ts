/**
 * The SIMD module on its own, in a private memory: built and embedded, a leaf
 * module, and equal to the reference rules to the bit for every form, every
 * length (the 4-lane body and the scalar tail) and offsets aligned only to 4
 * bytes (tfjs-wasm's buffers are 8-byte aligned; the module must not assume 16).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENTRY_WORDS } from '../../src/kernels/simd/module.js';
import { denseStep } from '../../src/rules/dense.js';
import type { DenseState, UpdateForm } from '../../src/rules/types.js';
import { FORMS, assertSameFloats, formName, randomGrad, randomValues, rng, scalarsAt } from './support.js';

const generated = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'kernels', 'simd', 'simd_bytes.generated.ts');

describe('SIMD module', () => {
  test('the generated kernel bytes exist', () => {
    assert.ok(existsSync(generated), `${generated} is missing: run \`npm run build\` (it compiles wasm-src/ before tsc)`);
  });

  test('each variant is a leaf module importing only env.memory, with the six entry points', async () => {
    const bytes = await import('../../src/kernels/simd/simd_bytes.generated.js');
    for (const b64 of bytes.SIMD_MODULES.keras2) {
      const m = new WebAssembly.Module(Buffer.from(b64, 'base64'));
      assert.deepEqual(WebAssembly.Module.imports(m).map((i) => `${i.module}.${i.name}:${i.kind}`), ['env.memory:memory']);
      assert.deepEqual(WebAssembly.Module.exports(m).map((e) => e.name).sort(),
        ['momentum', 'momentumCentered', 'nesterov', 'nesterovCentered', 'plain', 'plainCentered']);
    }
  });

  const forms: UpdateForm[] = [
    ...FORMS, { path: 'momentum', centered: false, nesterov: true }, { path: 'momentum', centered: true, nesterov: true },
  ];
  for (const form of forms) {
    test(`${formName(form)}${form.nesterov ? ' (Nesterov)' : ''}: one call over many entries equals the rules bit for bit`, async () => {
      const { simdKernels } = await import('../../src/kernels/simd/module.js');
      const r = rng(17);
      const memory = new WebAssembly.Memory({ initial: 4 });
      const k = simdKernels(memory);
      assert.ok(k, 'SIMD unavailable in this Node');
      // Lengths 0..37 cover empty entries, tails of 1-3 and several vector bodies.
      const lengths = Array.from({ length: 38 }, (_, i) => i);
      const entries: Array<{ off: Record<string, number>; ref: DenseState; g: Float32Array }> = [];
      let at = 4 * ENTRY_WORDS * lengths.length + 4; // after the table, deliberately 4 mod 16
      const heap = new Float32Array(memory.buffer);
      for (const n of lengths) {
        const off: Record<string, number> = {};
        const ref: Record<string, Float32Array> = {};
        for (const name of ['w', 'g', 'ms', 'mom', 'mg']) {
          off[name] = at;
          const init = name === 'w' ? randomValues(n, r) : name === 'ms' ? randomValues(n, r, 0.5).map(Math.abs) : randomValues(n, r, 0.1);
          heap.set(init, at / 4);
          ref[name] = init.slice();
          at += 4 * n + 4 * (1 + (n % 3)); // varying misalignment
        }
        entries.push({ off, ref: { w: ref.w, ms: ref.ms, mom: ref.mom, mg: ref.mg }, g: ref.g });
      }
      const words = new Uint32Array(memory.buffer);
      entries.forEach((e, i) => words.set([e.off.w, e.off.g, e.off.ms, e.off.mom, e.off.mg, lengths[i], 0, 0], i * ENTRY_WORDS));
      for (let step = 0; step < 12; step++) {
        const s = scalarsAt(step, r);
        entries.forEach((e, i) => {
          e.g.set(randomGrad(lengths[i], r));
          heap.set(e.g, e.off.g / 4);
          denseStep(form, s, e.g, e.ref);
        });
        k!.step(form, s, 0, entries.length);
        entries.forEach((e, i) => {
          const n = lengths[i];
          const view = (name: string) => new Float32Array(memory.buffer, e.off[name], n);
          assertSameFloats(view('w'), e.ref.w, `step ${step} n=${n} w`);
          assertSameFloats(view('ms'), e.ref.ms, `step ${step} n=${n} ms`);
          if (form.path === 'momentum') assertSameFloats(view('mom'), e.ref.mom!, `step ${step} n=${n} mom`);
          if (form.centered) assertSameFloats(view('mg'), e.ref.mg!, `step ${step} n=${n} mg`);
        });
      }
    });
  }

  test("an update call with the EMA is one call of the flavor's _ema export, whose parameters its arguments fill exactly", async () => {
    const { aroundCalls, KERNEL_EXPORTS } = await import('../../src/kernels/simd/module.js');
    const { SIMD_MODULES } = await import('../../src/kernels/simd/simd_bytes.generated.js');
    const { FLAVORS } = await import('../../src/rules/flavors.js');
    const memory = new WebAssembly.Memory({ initial: 1 });
    const instances = new Map<string, WebAssembly.Exports>();
    const exportOf = (code: number): { length: number } => {
      const [module, fn] = KERNEL_EXPORTS[code];
      if (!instances.has(module)) {
        const m = new WebAssembly.Module(Buffer.from(SIMD_MODULES[module][0], 'base64'));
        instances.set(module, new WebAssembly.Instance(m, { env: { memory } }).exports);
      }
      return (instances.get(module) as WebAssembly.Exports)[fn] as { length: number };
    };
    const s = scalarsAt(0, rng(3));
    let checked = 0;
    for (const flavor of FLAVORS) {
      for (const path of ['plain', 'momentum'] as const) {
        for (const nesterov of path === 'momentum' ? [false, true] : [false]) {
          for (const centered of [false, true]) {
            for (const [weightDecay, overwrite] of [[0, false], [0.01, true]] as const) {
              const form: UpdateForm = { flavor, path, centered, nesterov };
              const what = `${flavor} ${path}${nesterov ? ' nesterov' : ''}${centered ? ' centered' : ''} wd ${weightDecay}`;
              const around = { phase: 'update', combineSteps: null, unscale: null, ema: { momentum: 0.9, oneMinus: Math.fround(0.1), overwrite } } as const;
              const { after } = aroundCalls(form, { ...s, weightDecay }, around);
              const last = after[after.length - 1];
              assert.match(KERNEL_EXPORTS[last.code][0], /_ema$/, `${what}: the update's call is the _ema module's`);
              assert.ok(after.every((c) => !/^training\.ema/.test(KERNEL_EXPORTS[c.code].join('.'))), `${what}: no EMA pass of its own`);
              assert.deepEqual(last.args.slice(-3), [0.9, Math.fround(0.1), overwrite ? 1 : 0], `${what}: the EMA's scalars last`);
              for (const c of after) assert.equal(exportOf(c.code).length, 2 + c.args.length, `${what}: ${KERNEL_EXPORTS[c.code].join('.')} takes (table, count) and its arguments`);
              checked++;
            }
          }
        }
      }
    }
    assert.equal(checked, 4 * 3 * 2 * 2);
  });

  test('the loss scale multiplies by its reciprocal only where that equals dividing: powers of two with a float32 reciprocal', async () => {
    const { exactReciprocal } = await import('../../src/rules/training.js');
    for (const [f, r] of [[1, 1], [2, 0.5], [1024, 2 ** -10], [0.125, 8], [2 ** 127, 2 ** -127], [2 ** -126, 2 ** 126]] as const) {
      assert.equal(exactReciprocal(f), r, `1/${f}`);
    }
    // Not powers of two; a reciprocal that overflows float32; a subnormal factor; non-finite.
    for (const f of [3, 1000, 0.1, Math.fround(1.5), 2 ** -127, 2 ** -149, Infinity, NaN]) assert.equal(exactReciprocal(f), 0, `${f}`);
  });
});
