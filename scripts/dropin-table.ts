// Prints the measured table of docs/porting-from-tfjs.md: the four programs of
// test/dropin/programs.ts (GRU regressor, LSTM character model, SimpleRNN adder,
// dense classifier), each trained on cpu and wasm with tf.train.rmsprop, with
// RMSprop({ flavor: 'tfjs' }) and with RMSprop() at the program's settings, from
// the same initial weights on the same unshuffled batches. For each: the training
// loss of the last epoch, the mean wall time of an epoch (`model.fit` of one
// epoch, the first left out as warm-up), which kernel updated the weights
// (`opt.lastStepKernels()`), and whether the final weights equal
// tf.train.rmsprop's to the bit. Not a test: nothing fails.
//
//   node --import tsx scripts/dropin-table.ts [--epochs N] [--backend cpu|wasm]
//
// Uses the built package (dist/, made by `npm ci` or `npm run build`), as users load it.
import os from 'node:os';
import type * as Package from '../src/index.js';
import { PROGRAMS, type Program } from '../test/dropin/programs.js';
import { BACKENDS, tf, useBackend, type BackendName } from '../test/support/tf.js';

const { RMSprop } = require('rmsprop') as typeof Package;

function parseArgs(argv: string[]): { epochs: number; backends: BackendName[] } {
  let epochs = 20;
  let backends: BackendName[] = [...BACKENDS];
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--epochs' && /^\d+$/.test(value ?? '') && Number(value) >= 2) {
      epochs = Number(value);
      i++;
    } else if (flag === '--backend' && (BACKENDS as readonly string[]).includes(value)) {
      backends = [value as BackendName];
      i++;
    } else {
      console.error(`dropin-table: unknown or bad argument ${JSON.stringify(flag)}${value === undefined ? '' : ` ${JSON.stringify(value)}`}; ` +
        'usage: [--epochs N (>= 2)] [--backend cpu|wasm]');
      process.exit(2);
    }
  }
  return { epochs, backends };
}

interface Row {
  backend: string;
  program: string;
  optimizer: string;
  loss: number;
  epochMs: number;
  kernel: string;
  sameAsTfjs: string;
}

async function run(p: Program, optimizer: tf.Optimizer, epochs: number): Promise<{ loss: number; epochMs: number; weights: Float32Array[] }> {
  const model = p.build();
  model.compile({ optimizer, loss: p.loss });
  const { x, y } = p.data();
  const times: number[] = [];
  let loss = NaN;
  for (let e = 0; e < epochs; e++) {
    const t0 = performance.now();
    const h = await model.fit(x, y, { epochs: 1, batchSize: p.batchSize, shuffle: false, verbose: 0 });
    times.push(performance.now() - t0);
    loss = h.history.loss[0] as number;
  }
  const weights = await Promise.all(model.getWeights().map(async (w) => new Float32Array(await w.data())));
  model.dispose();
  tf.dispose([x, y]);
  const later = times.slice(1);
  return { loss, epochMs: later.reduce((a, b) => a + b, 0) / later.length, weights };
}

function bitEqual(a: Float32Array[], b: Float32Array[]): boolean {
  return a.length === b.length && a.every((w, i) => {
    const u = new Uint32Array(w.buffer, w.byteOffset, w.length);
    const v = new Uint32Array(b[i].buffer, b[i].byteOffset, b[i].length);
    return u.length === v.length && u.every((bits, j) => bits === v[j]);
  });
}

async function main(): Promise<void> {
  const { epochs, backends } = parseArgs(process.argv.slice(2));
  const rows: Row[] = [];
  for (const backend of backends) {
    await useBackend(backend);
    for (const p of PROGRAMS) {
      const { learningRate, rho, momentum } = p.rmsprop;
      const settings = `${learningRate}, ${rho}, ${momentum}`;
      const theirs = await run(p, tf.train.rmsprop(learningRate, rho, momentum), epochs);
      rows.push({
        backend, program: p.title, optimizer: `tf.train.rmsprop(${settings})`, loss: theirs.loss,
        epochMs: theirs.epochMs, kernel: 'TF.js op chain', sameAsTfjs: '(reference)',
      });
      for (const [label, extra] of [[`RMSprop, flavor 'tfjs'`, { flavor: 'tfjs' as const }], ['RMSprop, default flavor', {}]] as const) {
        const opt = new RMSprop({ learningRate, rho, momentum, ...extra });
        const ours = await run(p, opt, epochs);
        const kernels = [...new Set(opt.lastStepKernels().map((k) => k.kernel))].join(', ');
        rows.push({
          backend, program: p.title, optimizer: label, loss: ours.loss, epochMs: ours.epochMs, kernel: kernels,
          sameAsTfjs: bitEqual(ours.weights, theirs.weights) ? 'yes, to the bit' : 'no',
        });
        opt.dispose();
      }
    }
  }
  const cpu = os.cpus();
  console.log(`Machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${os.platform()} ${os.release()}, Node ${process.version}, TF.js ${tf.version.tfjs}`);
  console.log(`Command: node --import tsx scripts/dropin-table.ts --epochs ${epochs}${backends.length === 1 ? ` --backend ${backends[0]}` : ''}`);
  console.log(`${epochs} epochs of 64 examples in batches of 16 (4 steps per epoch), unshuffled, from the same initial weights.\n`);
  console.log('| backend | program | optimizer | loss, last epoch | ms per epoch | kernel | weights equal tf.train.rmsprop\'s |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    console.log(`| ${r.backend} | ${r.program} | ${r.optimizer} | ${r.loss.toPrecision(6)} | ${r.epochMs.toFixed(1)} | ${r.kernel} | ${r.sameAsTfjs} |`);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
