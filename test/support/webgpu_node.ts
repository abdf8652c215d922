/**
 * TF.js's webgpu backend in Node: Dawn from the `webgpu` package over a Vulkan
 * driver. Here that is SwiftShader's ICD from Debian's chromium package (used
 * when VK_ICD_FILENAMES is unset and it is installed), with the Vulkan loader
 * from `libvulkan1`. `.ci/run` installs both; elsewhere the tests skip with how
 * to install them, and in CI (env CI set) a missing driver fails.
 */
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const HOW = 'apt-get install -y --no-install-recommends libvulkan1 chromium ' +
  `(the Vulkan loader, and SwiftShader's Vulkan driver at ${SWIFTSHADER_ICD}), or set VK_ICD_FILENAMES to a Vulkan driver`;

/**
 * Dawn's instance: it must stay reachable for the whole process. If it is
 * garbage-collected, Dawn frees the instance under the live device and the
 * process aborts at a later await.
 */
let keptInstance: unknown = null;
let started: Promise<string | null> | null = null;

/** Why Node's webgpu backend cannot run here (with how to fix it), or null once `tf.setBackend('webgpu')` works. */
export function startNodeWebGPU(): Promise<string | null> {
  started ??= start().then((why) => {
    if (why !== null && process.env.CI) throw new Error(`the WebGPU tests must run in CI, but ${why}`);
    return why;
  });
  return started;
}

async function start(): Promise<string | null> {
  if (process.env.VK_ICD_FILENAMES === undefined) {
    if (!existsSync(SWIFTSHADER_ICD)) return `no Vulkan driver: ${HOW}`;
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  let webgpu: { create(options: string[]): { requestAdapter(): Promise<unknown> }; globals: object };
  try {
    webgpu = await import('webgpu');
  } catch (e) {
    return `the webgpu package (Dawn) did not load: ${(e as Error).message}`;
  }
  const gpu = webgpu.create([]);
  keptInstance = gpu;
  Object.assign(globalThis, webgpu.globals);
  let adapter: unknown = null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (e) {
    return `Dawn found no adapter (${(e as Error).message}): ${HOW}`;
  }
  if (adapter == null) return `Dawn found no WebGPU adapter (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES}): ${HOW}`;
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) return 'tf.setBackend(\'webgpu\') failed';
  await tf.ready();
  return null;
}

/** For a caller that wants to be sure the instance is held (it is, by this module). */
export function dawnInstance(): unknown {
  return keptInstance;
}
