/**
 * scripts/dropin-table.ts, the command behind the porting guide's measured
 * table: it runs, prints the machine, the command and one row per backend ×
 * program × optimizer, gives the losses this process gets for the same runs
 * (so they do not change from run to run), and refuses bad arguments with a
 * usage line.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { runTs } from '../examples/run.js';
import { useBackend } from '../support/tf.js';
import { PROGRAMS } from './programs.js';
import { compiled, disposeAll, fitEpochs, tfjsRMSprop } from './training.js';

const built = existsSync('dist/cjs/index.js');

test('dropin-table prints the table (2 epochs, cpu)', { skip: !built && 'dist/ not built (npm run build)' }, async () => {
  const r = await runTs('scripts/dropin-table.ts', ['--epochs', '2', '--backend', 'cpu']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Machine: .+, \d+ cores, .+, Node v\d+/m);
  assert.match(r.stdout, /^Command: node --import tsx scripts\/dropin-table\.ts --epochs 2 --backend cpu$/m);
  const rows = r.stdout.split('\n').filter((l) => l.startsWith('| cpu |')).map((l) => l.split('|').map((c) => c.trim()));
  assert.equal(rows.length, 12);
  for (const [, , program, optimizer, loss, ms, kernel, same] of rows) {
    assert.ok(Number.isFinite(Number(loss)) && Number(ms) > 0, `${program}: ${loss}, ${ms}`);
    if (optimizer.startsWith('tf.train.rmsprop')) assert.deepEqual([kernel, same], ['TF.js op chain', '(reference)']);
    else assert.equal(kernel, 'cpu-simd');
    if (optimizer === 'RMSprop, flavor \'tfjs\'') assert.equal(same, 'yes, to the bit', program);
  }
  await useBackend('cpu');
  for (const p of PROGRAMS) {
    const data = p.data();
    const model = compiled(p, tfjsRMSprop(p));
    const { losses } = await fitEpochs(model, p, data, 2);
    const row = rows.find((r) => r[2] === p.title && r[3].startsWith('tf.train.rmsprop'));
    assert.equal(row?.[4], losses[1].toPrecision(6), `${p.title}: the script's loss is this process's`);
    disposeAll(model);
    data.x.dispose();
    data.y.dispose();
  }
});

test('dropin-table refuses a bad argument', { skip: !built && 'dist/ not built (npm run build)' }, async () => {
  const r = await runTs('scripts/dropin-table.ts', ['--epochs', '1']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /dropin-table: unknown or bad argument "--epochs" "1"; usage: \[--epochs N \(>= 2\)\] \[--backend cpu\|wasm\]/);
});
