/**
 * The device kit (scripts/device): packed into a temporary folder without the
 * Node binary, its bundled benchmark runs with nothing but Dawn and a Vulkan
 * driver (here SwiftShader's) at small sizes and prints both tables with the
 * fused kernel; its bundled kernel tests run on the carried dawn.node (a few of
 * them here), and its cpu/wasm benchmark prints the nonFinite table. Skips where
 * Node's WebGPU cannot start, except in CI.
 */
import assert from 'node:assert/strict';
import { execSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SWIFTSHADER_ICD } from '../support/webgpu_node.js';

const icd = process.env.VK_ICD_FILENAMES ?? (existsSync(SWIFTSHADER_ICD) ? SWIFTSHADER_ICD : null);
// The kit carries this machine's Vulkan loader, so packing needs one.
const loader = /libvulkan\.so\.1 /.test(execSync('ldconfig -p').toString());
const missing = icd === null ? 'no Vulkan driver here' : !loader ? 'no Vulkan loader here (apt-get install -y libvulkan1)' : null;

test('the device kit packs, and its bundled WebGPU benchmark runs on its own', { skip: missing !== null && !process.env.CI ? missing : false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'device-'));
  try {
    const env = { ...process.env, DEVICE_PACK_OUT: dir, DEVICE_PACK_NO_NODE: '1' };
    const pack = spawnSync(process.execPath, ['scripts/device/pack.mjs'], { encoding: 'utf8', env });
    assert.equal(pack.status, 0, pack.stderr);
    for (const f of ['bench.cjs', 'bench_cpu.cjs', 'dawn.node', 'run.sh', join('lib', 'libvulkan.so.1'), join('tests', 'webgpu_node.test.mjs'), join('tests', 'webgpu_rows_node.test.mjs'), join('tests', 'webgpu_kernels_node.test.mjs')]) assert.ok(existsSync(join(dir, f)), `${f} missing`);
    const r = spawnSync(process.execPath, [join(dir, 'bench.cjs')], {
      encoding: 'utf8', env: { ...process.env, VK_ICD_FILENAMES: icd ?? '', SMALL: '1', SAMPLES: '3' }, timeout: 300_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /adapter: vendor: /);
    // Six rows against tf.train.rmsprop, four of Keras 3's options.
    assert.equal((r.stdout.match(/\| webgpu \(Node\) \| .*\| webgpu-fused \|/g) ?? []).length, 10, r.stdout);
    assert.equal((r.stdout.match(/^\| webgpu \(Node\) \| (useEma|an accumulating call|lossScaleFactor).* \| 1 \| 0 \| webgpu-fused \|$/gm) ?? []).length, 4, r.stdout);
    assert.equal((r.stdout.match(/^\| (plain|momentum|centered\+momentum) \| 1e\+[56] \| .*\| webgpu-fused \|$/gm) ?? []).length, 6, r.stdout);

    // The tests find Dawn through DAWN_NODE alone (the `webgpu` package does not travel). A runner
    // started under this one reports to it in its own protocol unless NODE_TEST_CONTEXT is cleared.
    const { NODE_TEST_CONTEXT: _, ...outside } = process.env;
    const tests = spawnSync(process.execPath, ['--test', '--test-reporter=tap', '--test-name-pattern=dispatches for 3 variables', join(dir, 'tests', 'webgpu_node.test.mjs')], {
      encoding: 'utf8', env: { ...outside, VK_ICD_FILENAMES: icd ?? '', DAWN_NODE: join(dir, 'dawn.node') }, timeout: 120_000,
    });
    assert.equal(tests.status, 0, tests.stdout + tests.stderr);
    assert.match(tests.stdout, /^# pass [1-9]\d*$/m, tests.stdout);
    assert.match(tests.stdout, /^# fail 0$/m, tests.stdout);

    const cpu = spawnSync(process.execPath, [join(dir, 'bench_cpu.cjs')], { encoding: 'utf8', env: { ...process.env, BENCH_ONLY: 'nonfinite' }, timeout: 120_000 });
    assert.equal(cpu.status, 0, cpu.stderr);
    // wasm and cpu × plain and momentum × one variable and 200.
    assert.equal((cpu.stdout.match(/^\| (wasm|cpu) \| (plain|momentum) \| .*\| (wasm|cpu)-simd \| [\d.]+x \|$/gm) ?? []).length, 8, cpu.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
