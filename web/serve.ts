/**
 * A static file server for the built page (out/web). The page must come over
 * http: browsers fetch the wasm binaries, which file:// URLs do not allow.
 * No cross-origin isolation headers, so Chromium runs the same single-threaded
 * SIMD wasm build as Node and the numbers can be compared.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.map': 'application/json',
  '.wasm': 'application/wasm', '.bin': 'application/octet-stream', '.css': 'text/css',
};

export interface Served {
  readonly url: string;
  close(): Promise<void>;
}

export function serveDirectory(dir: string, port = 0, host = '127.0.0.1'): Promise<Served> {
  const root = resolve(dir);
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    let ok = file.startsWith(root);
    try {
      ok = ok && statSync(file).isFile();
    } catch {
      ok = false;
    }
    if (!ok) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      const address = server.address();
      const actual = typeof address === 'object' && address !== null ? address.port : port;
      done({
        url: `http://${host}:${actual}/`,
        close: () => new Promise((closed) => { server.closeAllConnections(); server.close(() => closed()); }),
      });
    });
  });
}

/**
 * Stops the server and exits on Ctrl-C (SIGINT), SIGTERM or SIGHUP, and also when
 * this process is orphaned: npm runs it under `sh -c`, and a SIGTERM sent to npm
 * alone ends the shell but not this process, which would keep the port (and
 * tsx's esbuild helper) alive.
 */
export function stopWhenAsked(served: Served): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void served.close().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, stop);
  const parent = process.ppid;
  setInterval(() => { if (process.ppid !== parent) stop(); }, 250).unref();
}

// `npm run web` (`web/serve.ts --build`): build the page, then serve it until stopped.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(__filename)) {
  const port = Number(process.env.PORT ?? 8080);
  const build = process.argv.includes('--build') ? import('./build.js').then((b) => b.buildWebDemo()) : Promise.resolve();
  build.then(() => serveDirectory(join('out', 'web'), port)).then((s) => {
    stopWhenAsked(s);
    console.log(`Serving out/web at ${s.url} (Ctrl+C to stop)`);
  }, (e: unknown) => { console.error(`error: ${e instanceof Error ? e.message : String(e)}`); process.exitCode = 1; });
}
