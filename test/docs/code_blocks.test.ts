/**
 * Every JavaScript and TypeScript code block in README.md and docs/ runs as
 * written, the way a user runs it: in a fresh project outside this repository
 * where the package comes from `npm pack`'s tarball. Each block is one file;
 * `.js` blocks run with plain `node` (as ES modules), `.ts` blocks with tsx
 * and are also type-checked with `tsc --strict` against the installed
 * package's declarations. A comment `// → text` in a block is a line the block
 * must print, in that order. A block marked `<!-- run: browser -->` is bundled
 * with esbuild and loaded in headless Chromium into the page of the html block
 * before it.
 *
 * Offline: the tarball is unpacked into node_modules/rmsprop (what `npm
 * install ./rmsprop-0.1.0.tgz` does for a package without dependencies; this
 * test checks it has none), and TF.js comes from this repository's
 * node_modules by symlink. Needs dist/ (`npm test` builds it first).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { build } from 'esbuild';
import { serveDirectory } from '../../web/serve.js';
import { chromiumMissing, launchChromium } from '../browser/chromium.js';
import { codeBlocks, userDocs, type CodeBlock } from './markdown.js';

const ROOT = resolve('.');
const require = createRequire(pathToFileURL(join(ROOT, 'package.json')));
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const TSC = require.resolve('typescript/bin/tsc');
const RUNNABLE = new Set(['js', 'javascript', 'mjs', 'ts', 'typescript']);
const isTs = (b: CodeBlock) => b.lang === 'ts' || b.lang === 'typescript';

const blocks = userDocs().flatMap((f) => codeBlocks(f)).filter((b) => RUNNABLE.has(b.lang));
const browserBlocks = blocks.filter((b) => b.marker === 'run: browser');
const nodeBlocks = blocks.filter((b) => b.marker !== 'run: browser');

/** File name of a block in the temp project: where it comes from, by file and line. */
function fileName(b: CodeBlock): string {
  return `${basename(b.file, '.md').toLowerCase()}-${b.line}.${isTs(b) ? 'ts' : 'mjs'}`;
}

/** The lines a block promises to print: its `// → text` comments, in order. */
function expectedLines(code: string): string[] {
  return code.split('\n').flatMap((l) => {
    const m = /\/\/ → (.*)$/.exec(l);
    return m ? [m[1].trim()] : [];
  });
}

/** Each expected line appears as a printed line, in order. */
function assertPrinted(where: string, printed: string[], expected: string[]): void {
  let at = 0;
  for (const e of expected) {
    const found = printed.findIndex((p, i) => i >= at && p.trim() === e);
    assert.ok(found >= 0, `${where}: expected "${e}" to be printed (after line ${at}); printed:\n${printed.join('\n')}`);
    at = found + 1;
  }
}

let made: string | undefined;

/** The temp project, made on first use and removed when the file's tests end. */
function project(): string {
  made ??= makeProject();
  return made;
}
after(() => { if (made) rmSync(made, { recursive: true, force: true }); });

/** A fresh project with the packed package installed, as in "Install" in the README. */
function makeProject(): string {
  assert.ok(existsSync('dist/esm/index.js'), 'dist/ is not built: run `npm run build` (npm test does)');
  const dir = mkdtempSync(join(tmpdir(), 'rmsprop-docs-project-'));
  const packed = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  })) as { filename: string }[];
  const pkgDir = join(dir, 'node_modules', 'rmsprop');
  mkdirSync(pkgDir, { recursive: true });
  execFileSync('tar', ['-xzf', join(dir, packed[0].filename), '-C', pkgDir, '--strip-components=1']);
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { dependencies?: object };
  assert.equal(manifest.dependencies, undefined, 'the package has dependencies; unpacking is no longer what npm install does');
  for (const scope of ['@tensorflow', '@types']) symlinkSync(join(ROOT, 'node_modules', scope), join(dir, 'node_modules', scope), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'docs-project', private: true, type: 'module' }));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true,
      skipLibCheck: true, types: ['node'], lib: ['ES2022', 'DOM'],
    },
    include: ['*.ts'],
  }));
  for (const b of blocks) writeFileSync(join(dir, fileName(b)), b.code);
  return dir;
}

function runNode(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', fail);
    child.on('close', (code) => { clearTimeout(timer); done({ code, stdout, stderr }); });
  });
}

describe('code blocks in README and docs run as written', { concurrency: 2 }, () => {
  before(() => { project(); });

  test('there are blocks to run, and the Node quick start is one of them', () => {
    assert.ok(nodeBlocks.length >= 10, `${nodeBlocks.length} blocks`);
    assert.ok(nodeBlocks.some((b) => b.file === 'README.md' && expectedLines(b.code).length > 0));
  });

  for (const b of nodeBlocks) {
    test(`${b.file}:${b.line} (${b.lang})`, async () => {
      const file = fileName(b);
      const r = await runNode(isTs(b) ? ['--import', TSX, file] : [file], project());
      assert.equal(r.code, 0, `${b.file}:${b.line} exited with ${r.code}\n${r.stderr}\n${r.stdout}`);
      assertPrinted(`${b.file}:${b.line}`, r.stdout.split('\n'), expectedLines(b.code));
    });
  }

  test('the TypeScript blocks type-check with --strict against the installed declarations', () => {
    if (!blocks.some(isTs)) return;
    try {
      execFileSync(process.execPath, [TSC, '-p', project()], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      const out = (e as { stdout?: string }).stdout ?? String(e);
      // Name each error by the README or docs line it comes from.
      const named = out.replace(/^(?:\S*\/)?([\w-]+)-(\d+)\.ts\((\d+),\d+\)/gm, (_, doc: string, line: string, row: string) =>
        `${doc}.md: the block at line ${line}, its line ${row}`);
      assert.fail(named);
    }
  });
});

describe('browser code blocks run in headless Chromium', { skip: chromiumMissing() ?? (browserBlocks.length === 0 && 'no browser blocks') }, () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'rmsprop-docs-browser-')); });
  after(() => { rmSync(dir, { recursive: true, force: true }); });

  for (const b of browserBlocks) {
    test(`${b.file}:${b.line} (${b.lang}, bundled with esbuild)`, async () => {
      const html = codeBlocks(b.file).filter((h) => h.lang === 'html' && h.line < b.line).pop();
      assert.ok(html, `${b.file}:${b.line}: no html block before the browser block`);
      const out = join(dir, String(b.line));
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, 'index.html'), html.code);
      const script = /<script[^>]*src="\.\/([^"]+)"/.exec(html.code)?.[1];
      assert.ok(script, 'the html block loads a bundle with <script src="./...">');
      // As the block's own comment says to bundle it.
      await build({
        entryPoints: [join(project(), fileName(b))], bundle: true, format: 'esm', platform: 'browser',
        outfile: join(out, script), logLevel: 'error', absWorkingDir: project(),
      });
      const served = await serveDirectory(out);
      const browser = await launchChromium({ gpu: true });
      try {
        const page = await browser.context.newPage();
        const printed: string[] = [];
        const errors: string[] = [];
        page.on('console', (m) => { if (m.type() === 'log') printed.push(m.text()); });
        page.on('pageerror', (e) => errors.push(e.message));
        page.on('response', (r) => { if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`); });
        await page.goto(served.url);
        const expected = expectedLines(b.code);
        assert.ok(expected.length > 0, 'the browser block says what it prints');
        const deadline = Date.now() + 90_000;
        while (printed.length < expected.length && errors.length === 0 && Date.now() < deadline) await page.waitForTimeout(200);
        assert.deepEqual(errors, []);
        assertPrinted(`${b.file}:${b.line}`, printed, expected);
      } finally {
        await browser.close();
        await served.close();
      }
    });
  }
});
