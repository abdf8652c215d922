/**
 * Each example runs with its documented command and reaches the result it
 * prints; every example also checks its own claims and exits 1 if one fails.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runTs } from './run.js';

async function runOk(file: string, args: string[] = []): Promise<string> {
  const r = await runTs(file, args);
  assert.equal(r.code, 0, `${file} exited with ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

test('Keras docstring example: one step from 10 gives 9.683772', async () => {
  for (const backend of ['cpu', 'wasm']) {
    const out = await runOk('examples/keras_docstring.ts', ['--backend', backend]);
    assert.match(out, /step_count = 1, var1 = 9\.683772 /);
  }
});

test('custom training loop with minimize: loss falls, clusters separated', async () => {
  const out = await runOk('examples/custom_loop.ts');
  const losses = [...out.matchAll(/epoch +\d+ +loss ([\d.]+)/g)].map((m) => Number(m[1]));
  assert.equal(losses.length, 10);
  assert.ok(losses[9] < losses[0], `loss ${losses[0]} → ${losses[9]}`);
  assert.match(out, /after 80 steps: accuracy (9\d|100)\.\d %/);
});

test('embedding model with embeddingLookup: held-out accuracy well above chance', async () => {
  const out = await runOk('examples/embedding.ts');
  const m = /held-out accuracy ([\d.]+) % before training, ([\d.]+) % after 240 steps/.exec(out);
  assert.ok(m, out);
  assert.ok(Number(m[2]) > 80, `accuracy after training ${m[2]} %`);
});

test('save with the optimizer, load, train on: same weights as never stopping', async () => {
  const out = await runOk('examples/save_load.ts');
  assert.match(out, /loaded: RMSprop at iteration 24, slots \[rms, momentum, mg\]/);
  assert.match(out, /trained on to iteration 48/);
  assert.match(out, /largest weight difference from 6 epochs without saving: 0$/m);
});

test('an example reports a bad flag in one line, exit 1', async () => {
  const r = await runTs('examples/keras_docstring.ts', ['--backend', 'tpu']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim(), 'error: --backend must be cpu or wasm, got tpu');
});
