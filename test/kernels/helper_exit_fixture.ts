// Run by helper_thread.test.ts in its own process: one threaded step, then
// nothing; the process must exit by itself although the helper thread lives on.
import { RMSprop } from '../../src/index.js';
import { helperThreadReady } from '../../src/kernels/cpu/helper_thread.js';
import { THREAD_MIN_ELEMENTS } from '../../src/kernels/cpu/memory.js';
import { tf, useBackend } from '../support/tf.js';

async function main(): Promise<void> {
  await useBackend('cpu');
  if (!(await helperThreadReady())) throw new Error('no helper thread');
  const opt = new RMSprop({ learningRate: 0.01 });
  const v = tf.tidy(() => tf.variable(tf.zeros([THREAD_MIN_ELEMENTS])));
  opt.applyGradients([[tf.ones([THREAD_MIN_ELEMENTS]), v]]);
  console.log(opt.lastStepKernels()[0].kernel);
}

void main();
