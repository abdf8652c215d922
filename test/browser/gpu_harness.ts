/**
 * A page bundled from one entry module (esbuild, as web/build.ts does), served
 * over http and opened in headless Chromium with WebGL 2 and WebGPU on
 * SwiftShader. The page sets `window.gpuPage` when ready (or `gpuPageError`).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { after, before } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import { serveDirectory, type Served } from '../../web/serve.js';
import type { GpuChecks } from '../support/gpu_checks.js';
import type { GpuRowChecks } from '../support/gpu_row_checks.js';
import type { GpuBackend } from '../support/gpu_work.js';
import { launchChromium, type Browser } from './chromium.js';

/** What the test page (gpu_page.ts) offers. */
export type GpuPageApi = GpuChecks & GpuRowChecks;

/** Calls `window.gpuPage[method](...args)` in the test page (results are plain data). */
export async function inPage<K extends keyof GpuPageApi>(
  page: Page, method: K, ...args: Parameters<GpuPageApi[K]>
): Promise<Awaited<ReturnType<GpuPageApi[K]>>> {
  const call: [string, unknown[]] = [method, args];
  const out: unknown = await page.evaluate(([m, a]: [string, unknown[]]) => {
    const api = (window as unknown as { gpuPage: Record<string, (...x: unknown[]) => unknown> }).gpuPage;
    return api[m](...a);
  }, call);
  return out as Awaited<ReturnType<GpuPageApi[K]>>;
}

export interface GpuPage {
  readonly page: Page;
  close(): Promise<void>;
}

export async function openGpuPage(entry: string): Promise<GpuPage> {
  const dir = await mkdtemp(join(tmpdir(), 'rmsprop-gpu-page-'));
  let served: Served | undefined;
  let browser: Browser | undefined;
  const close = async (): Promise<void> => {
    await browser?.close();
    await served?.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await build({
      entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', target: 'es2020',
      outfile: join(dir, 'main.js'), logLevel: 'warning',
    });
    await writeFile(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="main.js"></script>\n');
    served = await serveDirectory(dir);
    browser = await launchChromium({ gpu: true });
    const page = await browser.context.newPage();
    page.on('console', (m) => { if (m.type() === 'error' || process.env.GPU_PAGE_LOG) console.error(`[page] ${m.text()}`); });
    await page.goto(served.url);
    await page.waitForFunction(() => 'gpuPage' in window || 'gpuPageError' in window, null, { timeout: 120_000 });
    const error = await page.evaluate(() => (window as unknown as { gpuPageError?: string }).gpuPageError);
    if (error !== undefined) throw new Error(`the page failed to start: ${error}`);
    return { page, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * The test page for the tests of one describe block on `backend`, opened before
 * them and closed after: `page()` once open, `skipReason()` when Chromium
 * started without the backend (an error in CI).
 */
export function gpuPageFor(backend: GpuBackend): { page(): Page; skipReason(): string | null } {
  let gpu: GpuPage | undefined;
  let available = false;
  before(async () => {
    gpu = await openGpuPage('test/browser/gpu_page.ts');
    available = (await inPage(gpu.page, 'backends')).includes(backend);
    if (!available && process.env.CI) throw new Error(`Chromium started without ${backend} (SwiftShader flags ignored?)`);
  });
  after(async () => { await gpu?.close(); });
  return {
    page: () => (gpu as GpuPage).page,
    skipReason: () => (available ? null : `no ${backend} in this Chromium`),
  };
}
