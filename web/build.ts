/**
 * Builds the browser page into out/web: the bundle (esbuild), the page, the
 * wasm binaries of tfjs-backend-wasm, and digits.bin, the training and held-out
 * digits chosen by the same split as `npm start -- --train-size 2000`.
 *
 * Run: npm run web:build   (then `npm run web` to serve it)
 */
import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { packSplit, splitDigits } from '../app/digits.js';
import { AppError } from '../app/errors.js';
import { loadMnistPackage } from '../app/mnist_package.js';
import { WEB_TRAIN_SIZE } from './demo_api.js';

export const WEB_OUT = join('out', 'web');

export async function buildWebDemo(outDir: string = WEB_OUT): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [join('web', 'main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    sourcemap: true,
    outfile: join(outDir, 'main.js'),
    logLevel: 'warning',
  });
  await copyFile(join('web', 'index.html'), join(outDir, 'index.html'));
  const wasmDir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  for (const f of (await readdir(wasmDir)).filter((n) => n.endsWith('.wasm'))) await copyFile(join(wasmDir, f), join(outDir, f));
  await writeFile(join(outDir, 'digits.bin'), packSplit(splitDigits(loadMnistPackage(), WEB_TRAIN_SIZE)));
}

if (require.main === module) {
  buildWebDemo().then(() => console.log(`Built ${WEB_OUT}/ (serve it with \`npm run web\`)`), (e: unknown) => {
    console.error(`error: ${e instanceof AppError || e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  });
}
