// Run by helper_lifecycles.test.ts in its own process (with --expose-gc): optimizer
// lifecycles on a variable the cpu kernel's helper thread takes; prints one JSON
// line per lifecycle with the resident set size after collecting garbage.
import { RMSprop } from '../../src/index.js';
import { helperThreadReady } from '../../src/kernels/cpu/helper_thread.js';
import { tf, useBackend } from '../support/tf.js';

const N = 1 << 22;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  await useBackend('cpu');
  const gc = (globalThis as { gc?: () => void }).gc as () => void;
  for (let i = 0; i < Number(process.env.LIFECYCLES ?? 7); i++) {
    await helperThreadReady();
    const v = tf.tidy(() => tf.variable(tf.zeros([N])));
    const g = tf.ones([N]);
    const opt = new RMSprop({ momentum: 0.9 });
    for (let s = 0; s < 3; s++) opt.applyGradients([[g, v]]);
    const kernel = opt.lastStepKernels()[0].kernel;
    opt.dispose();
    tf.dispose([v, g]);
    // The memory goes back once its kernels are collected and the helper has stopped, both
    // asynchronous: the lowest RSS over half a second is the settled value (it only falls then).
    let rss = Infinity;
    for (let j = 0; j < 12; j++) {
      gc();
      await sleep(40);
      rss = Math.min(rss, process.memoryUsage().rss);
    }
    console.log(JSON.stringify({ kernel, rss, tensors: tf.memory().numTensors }));
  }
  process.exit(0);
}

void main();
