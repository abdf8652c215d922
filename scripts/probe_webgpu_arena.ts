// Why the WebGPU kernel sends one dispatch per variable (docs/gpu-kernels.md): a probe on
// raw WebGPU (Dawn from the `webgpu` package, no TF.js) of 200 variables × 5,000 elements
// under TF 2.4's momentum rule, with every tensor in a buffer of its own as TF.js keeps
// them, timed two ways, each step awaited with onSubmittedWorkDone, medians of 30:
// (A) one dispatch per variable, all in one compute pass (webgpu-fused's design);
// (B) a multi-tensor step with the slots resident in one arena buffer per slot (which
//     TF.js tensors cannot be: each holds a whole buffer): the gradients and weights
//     copied into arenas (2 copies per variable), one dispatch over the arenas, the
//     weights copied back (1 copy per variable);
// (C) a multi-tensor step over TF.js's own tensors: every tensor copied into an arena
//     (4 copies per variable), one dispatch, the variable and slots copied back (3).
// Run: node --import tsx scripts/probe_webgpu_arena.ts [variables] [elements]  (Vulkan driver as for
// the tests: VK_ICD_FILENAMES, else SwiftShader's from Debian's chromium)
import { existsSync } from 'node:fs';
const V = Number(process.argv[2] ?? 200), N = Number(process.argv[3] ?? 5000), STEPS = 30;
(async () => {
  process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';
  if (!existsSync(process.env.VK_ICD_FILENAMES)) throw new Error(`no Vulkan driver at ${process.env.VK_ICD_FILENAMES}`);
  const webgpu = await import('webgpu');
  Object.assign(globalThis, webgpu.globals);
  const gpu = webgpu.create([]);
  const adapter = await gpu.requestAdapter();
  const device = await adapter!.requestDevice();
  const S = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const mk = (n: number) => device.createBuffer({ size: n * 4, usage: S });
  const init = (b: GPUBuffer, n: number, v: number) => device.queue.writeBuffer(b, 0, new Float32Array(n).fill(v));
  const body = `
    let m = ms[i] + (((g * g) - ms[i]) * 0.1);
    ms[i] = m;
    let mo = (mom[i] * 0.9) + ((g * 0.001) / sqrt(m + 1e-7));
    mom[i] = mo;`;
  const perVar = device.createShaderModule({ code: `
    @group(0) @binding(0) var<storage, read_write> w: array<f32>;
    @group(0) @binding(1) var<storage, read> G: array<f32>;
    @group(0) @binding(2) var<storage, read_write> ms: array<f32>;
    @group(0) @binding(3) var<storage, read_write> mom: array<f32>;
    @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {
      let i = id.x; if (i >= ${N}u) { return; }
      let g = G[i];${body}
      w[i] = w[i] - mo;
    }` });
  const arenaMod = device.createShaderModule({ code: `
    @group(0) @binding(0) var<storage, read_write> w: array<f32>;
    @group(0) @binding(1) var<storage, read> G: array<f32>;
    @group(0) @binding(2) var<storage, read_write> ms: array<f32>;
    @group(0) @binding(3) var<storage, read_write> mom: array<f32>;
    @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
      let i = id.x + id.y * nw.x * 64u; if (i >= ${N * V}u) { return; }
      let g = G[i];${body}
      w[i] = w[i] - mo;
    }` });
  const pA = device.createComputePipeline({ layout: 'auto', compute: { module: perVar, entryPoint: 'main' } });
  const pB = device.createComputePipeline({ layout: 'auto', compute: { module: arenaMod, entryPoint: 'main' } });
  // Every tensor its own buffer, as TF.js keeps them.
  const ws = Array.from({ length: V }, () => mk(N)), gs = Array.from({ length: V }, () => mk(N));
  const mss = Array.from({ length: V }, () => mk(N)), moms = Array.from({ length: V }, () => mk(N));
  for (let k = 0; k < V; k++) { init(ws[k], N, 1); init(gs[k], N, 0.5); init(mss[k], N, 0); init(moms[k], N, 0); }
  const groupsA = ws.map((w, k) => device.createBindGroup({ layout: pA.getBindGroupLayout(0), entries: [
    { binding: 0, resource: { buffer: w } }, { binding: 1, resource: { buffer: gs[k] } },
    { binding: 2, resource: { buffer: mss[k] } }, { binding: 3, resource: { buffer: moms[k] } }] }));
  const aw = mk(N * V), ag = mk(N * V), ams = mk(N * V), amom = mk(N * V);
  const groupB = device.createBindGroup({ layout: pB.getBindGroupLayout(0), entries: [
    { binding: 0, resource: { buffer: aw } }, { binding: 1, resource: { buffer: ag } },
    { binding: 2, resource: { buffer: ams } }, { binding: 3, resource: { buffer: amom } }] });
  const groupsTotal = Math.ceil((N * V) / 64);
  const gx = Math.min(groupsTotal, 65535), gy = Math.ceil(groupsTotal / gx);
  const stepA = () => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pA);
    for (let k = 0; k < V; k++) { pass.setBindGroup(0, groupsA[k]); pass.dispatchWorkgroups(Math.ceil(N / 64)); }
    pass.end();
    device.queue.submit([enc.finish()]);
  };
  const stepB = () => {
    const enc = device.createCommandEncoder();
    for (let k = 0; k < V; k++) {
      enc.copyBufferToBuffer(gs[k], 0, ag, k * N * 4, N * 4);
      enc.copyBufferToBuffer(ws[k], 0, aw, k * N * 4, N * 4);
    }
    const pass = enc.beginComputePass();
    pass.setPipeline(pB); pass.setBindGroup(0, groupB); pass.dispatchWorkgroups(gx, gy); pass.end();
    for (let k = 0; k < V; k++) enc.copyBufferToBuffer(aw, k * N * 4, ws[k], 0, N * 4);
    device.queue.submit([enc.finish()]);
  };
  const stepC = () => {
    const enc = device.createCommandEncoder();
    for (let k = 0; k < V; k++) {
      enc.copyBufferToBuffer(gs[k], 0, ag, k * N * 4, N * 4);
      enc.copyBufferToBuffer(ws[k], 0, aw, k * N * 4, N * 4);
      enc.copyBufferToBuffer(mss[k], 0, ams, k * N * 4, N * 4);
      enc.copyBufferToBuffer(moms[k], 0, amom, k * N * 4, N * 4);
    }
    const pass = enc.beginComputePass();
    pass.setPipeline(pB); pass.setBindGroup(0, groupB); pass.dispatchWorkgroups(gx, gy); pass.end();
    for (let k = 0; k < V; k++) {
      enc.copyBufferToBuffer(aw, k * N * 4, ws[k], 0, N * 4);
      enc.copyBufferToBuffer(ams, k * N * 4, mss[k], 0, N * 4);
      enc.copyBufferToBuffer(amom, k * N * 4, moms[k], 0, N * 4);
    }
    device.queue.submit([enc.finish()]);
  };
  const time = async (f: () => void) => { const t0 = performance.now(); f(); await device.queue.onSubmittedWorkDone(); return performance.now() - t0; };
  const med = (x: number[]) => [...x].sort((a, b) => a - b)[x.length >> 1];
  for (let i = 0; i < 3; i++) { await time(stepA); await time(stepB); await time(stepC); }
  const a: number[] = [], b: number[] = [], c: number[] = [];
  for (let i = 0; i < STEPS; i++) { a.push(await time(stepA)); b.push(await time(stepB)); c.push(await time(stepC)); }
  console.log(`${V} variables × ${N}: (A) per-variable dispatches ${med(a).toFixed(2)} ms (${V} dispatches); ` +
    `(B) resident slots ${med(b).toFixed(2)} ms (1 dispatch + ${3 * V} copies); (C) all copied ${med(c).toFixed(2)} ms (1 dispatch + ${7 * V} copies)`);
  // Keep `gpu` reachable until the end (Dawn frees its instance when it is collected).
  (globalThis as unknown as { keep: unknown }).keep = gpu;
  process.exit(0);
})();
