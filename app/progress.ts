/**
 * A progress bar per epoch on the terminal. When output is not a terminal (CI
 * logs, tests) it prints only the finished bar, one line per epoch.
 */
import type { EpochRecord, TrainHooks } from './train.js';

const WIDTH = 30;
const REDRAW_MS = 100;

interface Output {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export function progressBar(out: Output, label: string, epochs: number): TrainHooks {
  let epoch = 0;
  let total = 1;
  let lastDraw = 0;
  const line = (done: number, tail: string): string => {
    const filled = Math.round((done / total) * WIDTH);
    const count = `${String(done).padStart(String(total).length)}/${total}`;
    return `${label.padEnd(17)} epoch ${epoch}/${epochs} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${count}  ${tail}`;
  };
  return {
    onEpochBegin(e, batches) {
      epoch = e;
      total = batches;
      lastDraw = 0;
    },
    onBatchEnd(done, loss) {
      if (out.isTTY !== true) return;
      const now = Date.now();
      if (now - lastDraw < REDRAW_MS && done < total) return;
      lastDraw = now;
      out.write(`\r${line(done, `loss ${loss.toFixed(4)}`)}\x1b[K`);
    },
    onEpochEnd(r: EpochRecord) {
      const tail = `loss ${r.loss.toFixed(4)}  acc ${r.accuracy.toFixed(4)}  held-out acc ${r.testAccuracy.toFixed(4)}  ${r.seconds.toFixed(1)} s`;
      out.write(`${out.isTTY === true ? '\r' : ''}${line(total, tail)}${out.isTTY === true ? '\x1b[K' : ''}\n`);
    },
  };
}
