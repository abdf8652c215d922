/**
 * The built package: importable as ESM and CommonJS through package.json
 * `exports`, with type declarations, using the caller's copy of tfjs-core.
 * Runs against dist/, which `npm test` builds first.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

function node(args: string[], input?: string): string {
  return execFileSync(process.execPath, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

const docstring = `
  const w = tf.variable(tf.scalar(10));
  const opt = new RMSprop({ learningRate: 0.1 });
  const n = opt.minimize(() => tf.div(tf.square(w), 2), [w]);
  const registered = tf.serialization.SerializationMap.getMap().classNameMap.RMSprop[0] === RMSprop;
  console.log(JSON.stringify({ n, w: w.dataSync()[0].toFixed(6), registered, schedules: typeof schedules.deserialize }));
`;

describe('the built package', { skip: !existsSync('dist/cjs/index.js') && 'dist/ not built (npm run build)' }, () => {
  test('require("rmsprop") works from CommonJS', () => {
    const out = node(['-e', `
      const tf = require('@tensorflow/tfjs');
      const { RMSprop, schedules } = require('rmsprop');
      ${docstring}`]);
    assert.deepEqual(JSON.parse(out.trim().split('\n').pop()!), { n: 1, w: '9.683772', registered: true, schedules: 'function' });
  });

  test('import "rmsprop" works from ESM', () => {
    const out = node(['--input-type=module', '-e', `
      import * as tf from '@tensorflow/tfjs';
      import { RMSprop, schedules } from 'rmsprop';
      ${docstring}`]);
    assert.deepEqual(JSON.parse(out.trim().split('\n').pop()!), { n: 1, w: '9.683772', registered: true, schedules: 'function' });
  });

  test('rmsprop/layers loads from CommonJS and ESM and registers SparseEmbedding', () => {
    const check = `console.log(JSON.stringify({ layer: typeof SparseEmbedding, registered: tf.serialization.SerializationMap.getMap().classNameMap.SparseEmbedding[0] === SparseEmbedding }));`;
    const cjs = node(['-e', `const tf = require('@tensorflow/tfjs'); const { SparseEmbedding } = require('rmsprop/layers'); ${check}`]);
    const esm = node(['--input-type=module', '-e', `import * as tf from '@tensorflow/tfjs'; import { SparseEmbedding } from 'rmsprop/layers'; ${check}`]);
    for (const out of [cjs, esm]) assert.deepEqual(JSON.parse(out.trim().split('\n').pop()!), { layer: 'function', registered: true });
  });

  test('rmsprop/layers: useRMSpropForOptimizerStrings and instanceof RMSprop work from the CommonJS and ESM builds', () => {
    const check = `
      const undo = useRMSpropForOptimizerStrings({ flavor: 'tfjs' });
      const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] });
      model.compile({ optimizer: 'RMSprop', loss: 'meanSquaredError' });
      undo();
      console.log(JSON.stringify({ ours: model.optimizer instanceof RMSprop, flavor: model.optimizer.flavor, adam: tf.train.adam(0.1) instanceof RMSprop }));`;
    const cjs = node(['-e', `const tf = require('@tensorflow/tfjs'); const { RMSprop } = require('rmsprop');
      const { useRMSpropForOptimizerStrings } = require('rmsprop/layers'); ${check}`]);
    const esm = node(['--input-type=module', '-e', `import * as tf from '@tensorflow/tfjs'; import { RMSprop } from 'rmsprop';
      import { useRMSpropForOptimizerStrings } from 'rmsprop/layers'; ${check}`]);
    for (const out of [cjs, esm]) assert.deepEqual(JSON.parse(out.trim().split('\n').pop()!), { ours: true, flavor: 'tfjs', adam: false });
  });

  test('type declarations are declared and present', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { types: string; exports: { '.': { types: string } } };
    assert.ok(existsSync(pkg.types), pkg.types);
    assert.equal(pkg.exports['.'].types, pkg.types);
    const dts = readFileSync(pkg.types, 'utf8');
    assert.match(dts, /export \{ RMSprop \}/);
    assert.match(readFileSync('dist/types/rmsprop/rmsprop.d.ts', 'utf8'), /class RMSprop extends KerasOptimizer/);
  });
});
