// `npm run device:pack`: makes .device/, what the WebGPU benchmark needs on a machine
// with a real GPU and nothing installed (no npm, no network): one bundled script
// (bench_webgpu.ts with TF.js and this package inside), the Node WebGPU kernel tests
// bundled the same way (tests/, run with `node --test`: the fused and row kernels,
// fixed cases and fuzzed, against the reference loops on that GPU), the cpu/wasm benchmark of
// nonFinite: 'skip' (bench_cpu.cjs, TF.js's wasm binaries beside it), Dawn's
// `dawn.node` from the `webgpu` package, the Vulkan loader `libvulkan.so.1` of this machine and
// glvnd's `libGLdispatch.so.0`, which NVIDIA's Vulkan driver links against (for a machine whose
// driver comes without them), this Node binary xz-compressed, and run.sh, which
// finds the NVIDIA Vulkan driver and writes the results to $OUT. About 52 MiB: under
// the 64 MiB a device call may carry. See docs/gpu-kernels.md, "On a real GPU".
import { execFileSync, execSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// DEVICE_PACK_OUT: another folder (the test packs into a temporary one); DEVICE_PACK_NO_NODE=1: no node.xz.
const out = process.env.DEVICE_PACK_OUT ?? join(root, '.device');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'lib'), { recursive: true });

await build({
  entryPoints: [join(root, 'scripts/device/bench_webgpu.ts')], bundle: true, platform: 'node', format: 'cjs',
  target: 'node18', outfile: join(out, 'bench.cjs'), logLevel: 'warning', minify: true,
});
copyFileSync(join(root, 'node_modules/webgpu/dist/linux-x64/dawn.node'), join(out, 'dawn.node'));

// The tests as `npm test` runs them in Node, with the `webgpu` package replaced by the carried
// dawn.node, and the fuzz of both kernels too (a GPU's rounding is what their bound is for).
// ES modules sharing their common code (TF.js, this package) in chunks: one bundle each
// would carry it three times (about 3 MB each), and the kit must fit a device call.
const tests = ['kernels/webgpu_node', 'kernels/webgpu_rows_node', 'fuzz/webgpu_kernels_node'];
await build({
  entryPoints: Object.fromEntries(tests.map((t) => [`${t.split('/')[1]}.test`, join(root, `test/${t}.test.ts`)])),
  bundle: true, platform: 'node', format: 'esm', splitting: true, target: 'node18', outdir: join(out, 'tests'),
  outExtension: { '.js': '.mjs' }, chunkNames: '[name]-[hash]', logLevel: 'warning', minify: true,
  alias: { webgpu: join(root, 'scripts/device/dawn.mjs') },
  // What CommonJS code in the bundle expects of its module scope.
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __fu } from 'node:url'; " +
      "import { dirname as __dn } from 'node:path'; const require = __cr(import.meta.url); " +
      'const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);',
  },
});
// scripts/bench.ts with its `rmsprop` (the built package, as `npm run bench` loads it); BENCH_ONLY=nonfinite there.
await build({
  entryPoints: [join(root, 'scripts/bench.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node18',
  outfile: join(out, 'bench_cpu.cjs'), logLevel: 'warning', minify: true, alias: { rmsprop: join(root, 'dist/cjs/index.js') },
});
for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
  copyFileSync(join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist', f), join(out, f));
}

const cache = execSync('ldconfig -p').toString();
const carried = (lib) => new RegExp(`${lib.replace(/\./g, '\\.')} \\(libc6,x86-64\\) => (\\S+)`).exec(cache)?.[1];
const loader = carried('libvulkan.so.1');
if (loader === undefined) throw new Error('no libvulkan.so.1 here to carry: apt-get install -y libvulkan1');
copyFileSync(loader, join(out, 'lib', 'libvulkan.so.1'));
// Needed only where that machine's driver comes without glvnd, so optional here.
const dispatch = carried('libGLdispatch.so.0');
if (dispatch === undefined) console.warn('no libGLdispatch.so.0 here to carry (apt-get install -y libglvnd0): the kit goes without it');
else copyFileSync(dispatch, join(out, 'lib', 'libGLdispatch.so.0'));

// Node itself, for a machine without it: xz at level 6 takes half a minute and saves ~70 MB.
if (!process.env.DEVICE_PACK_NO_NODE) execFileSync('sh', ['-c', `xz -T0 -6 -c "${process.execPath}" > "${join(out, 'node.xz')}"`]);

writeFileSync(join(out, 'run.sh'), `#!/bin/sh
# The WebGPU benchmark, the WebGPU kernel tests and the nonFinite cpu/wasm table on this
# machine: results in $OUT (bench.md, tests.txt, cpu.md, gpu.txt). Run from the
# repository root: sh .device/run.sh
set -e
cd "$(dirname "$0")"
OUT="\${OUT:-/tmp/out}"; mkdir -p "$OUT"
NODE=$(command -v node || true)
if [ -z "$NODE" ] || [ "$("$NODE" -p 'process.versions.node.split(".")[0] >= 18')" != true ]; then
  [ -x ./node ] || python3 -c "import lzma, shutil; shutil.copyfileobj(lzma.open('node.xz'), open('node', 'wb'))"
  chmod +x ./node; NODE=./node
fi
# Only the carried libraries that machine lacks: its own stay first where it has them.
mkdir -p /tmp/rmsprop-lib
for f in lib/*; do
  ldconfig -p | grep -q "$(basename "$f") " || ln -sf "$PWD/$f" /tmp/rmsprop-lib/
done
export LD_LIBRARY_PATH="/tmp/rmsprop-lib:\${LD_LIBRARY_PATH:-}"
if [ -z "\${VK_ICD_FILENAMES:-}" ]; then
  for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
    if [ -f "$f" ]; then export VK_ICD_FILENAMES="$f"; break; fi
  done
fi
export XDG_RUNTIME_DIR=/tmp DAWN_NODE="$PWD/dawn.node"
(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || true) > "$OUT/gpu.txt" 2>&1
# What the Vulkan loader will be given, for a run that finds no adapter.
{ echo "VK_ICD_FILENAMES=\${VK_ICD_FILENAMES:-unset}"; cat "\${VK_ICD_FILENAMES:-/dev/null}"; ls /tmp/rmsprop-lib; } >> "$OUT/gpu.txt" 2>&1
# Each part under its own limit, so that one that hangs leaves time to the others.
set +e
timeout "\${BENCH_S:-300}" "$NODE" bench.cjs 2>&1 | tee "$OUT/bench.md"
timeout "\${TESTS_S:-180}" "$NODE" --test --test-reporter=spec tests/*.test.mjs > "$OUT/tests.txt" 2>&1
echo "tests: exit $?" | tee -a "$OUT/tests.txt"; grep -E '(tests|pass|fail|skipped) [0-9]+$' "$OUT/tests.txt"
for i in 1 2; do BENCH_ONLY=nonfinite timeout "\${CPU_S:-90}" "$NODE" bench_cpu.cjs 2>&1 | tee -a "$OUT/cpu.md"; done
`);
chmodSync(join(out, 'run.sh'), 0o755);

let bytes = 0;
for (const f of readdirSync(out, { recursive: true })) {
  const p = join(out, String(f));
  if (statSync(p).isFile()) bytes += statSync(p).size;
}
console.log(`wrote ${out}: ${(bytes / 2 ** 20).toFixed(1)} MiB${existsSync(join(out, 'node.xz')) ? '' : ' (no node.xz)'}`);
