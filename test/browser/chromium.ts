/**
 * Debian's Chromium driven by playwright-core, for the browser test. `.ci/run`
 * installs it; elsewhere a test skips when it is missing, unless CI is set.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Why the browser test cannot run here, or null when it can. Throws in CI, where it must run. */
export function chromiumMissing(): string | null {
  if (existsSync(CHROMIUM)) return null;
  const why = `${CHROMIUM} not found (install Debian's chromium package: apt-get install -y chromium)`;
  if (process.env.CI) throw new Error(`the browser test must run in CI, but ${why}`);
  return why;
}

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/**
 * WebGL 2 with float32 render targets (ANGLE on SwiftShader's Vulkan) and WebGPU
 * (Dawn's SwiftShader adapter), both emulated on the CPU: no GPU needed.
 */
export const SWIFTSHADER_GPU_FLAGS = [
  '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader',
];

/** Chromium headless; with `gpu`, WebGL 2 and WebGPU on SwiftShader instead of `--disable-gpu`. */
export async function launchChromium(options: { gpu?: boolean } = {}): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'rmsprop-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', ...(options.gpu ? SWIFTSHADER_GPU_FLAGS : ['--disable-gpu']), '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
