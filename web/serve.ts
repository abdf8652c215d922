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

// `npm run web`: serve until interrupted.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(__filename)) {
  const port = Number(process.env.PORT ?? 8080);
  serveDirectory(join('out', 'web'), port).then((s) => console.log(`Serving out/web at ${s.url} (Ctrl+C to stop)`),
    (e: unknown) => { console.error(`error: ${e instanceof Error ? e.message : String(e)}`); process.exitCode = 1; });
}
