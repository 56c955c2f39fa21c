import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** Options of {@link startDemo}. */
export interface DemoOptions {
  /** The Plinth server the page talks to, e.g. `http://127.0.0.1:8787`. */
  serverUrl: string;
  /** Its publishable key (`pk_...`). */
  publishableKey: string;
  /** Default 5173; 0 picks a free port. The server's CORS list must hold the page's origin. */
  port?: number;
}

/** The running page server. */
export interface RunningDemo {
  /** The page, e.g. `http://127.0.0.1:5173/`. */
  readonly url: string;
  close(): Promise<void>;
}

// The package folder, from src/ (tests) and dist/ (pnpm dev) alike.
const root = new URL('..', import.meta.url);
const path = (relative: string) => fileURLToPath(new URL(relative, root));

/** Bundles src/main.ts (with the built @plinth/client) into dist/main.js. */
export async function buildPage(): Promise<void> {
  await build({
    entryPoints: [path('src/main.ts')],
    outfile: path('dist/main.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    // Not the repository's tsconfig, whose paths point @plinth/* at sources: the page uses the
    // built packages, as an app would.
    tsconfigRaw: {},
    logLevel: 'warning',
  });
}

/**
 * Builds the page and serves it on 127.0.0.1 (the server's host, so its cookies reach the page's
 * calls): index.html, /config.js (the server URL and publishable key) and the bundle.
 *
 * @example
 * ```ts
 * const demo = await startDemo({ serverUrl: server.url, publishableKey, port: 5173 });
 * console.log(`Open ${demo.url}`);
 * ```
 */
export async function startDemo({ serverUrl, publishableKey, port = 5173 }: DemoOptions): Promise<RunningDemo> {
  await buildPage();
  const files: Record<string, { file: string; type: string }> = {
    '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
    '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
    '/main.js': { file: 'dist/main.js', type: 'text/javascript; charset=utf-8' },
    '/main.js.map': { file: 'dist/main.js.map', type: 'application/json' },
  };
  const configScript = `window.PLINTH = ${JSON.stringify({ url: serverUrl, publishableKey })};\n`;
  const headers = {
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    // The verification link carries its token in the query: never pass it on in a Referer.
    'referrer-policy': 'no-referrer',
    'content-security-policy': `default-src 'self'; connect-src ${new URL(serverUrl).origin}; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`,
  };

  const server = createServer(async (request, response) => {
    const { pathname } = new URL(request.url ?? '/', 'http://demo');
    const entry = files[pathname];
    try {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD' }).end();
      } else if (pathname === '/config.js') {
        response.writeHead(200, { ...headers, 'content-type': 'text/javascript; charset=utf-8' }).end(configScript);
      } else if (entry) {
        const body = await readFile(path(entry.file));
        response.writeHead(200, { ...headers, 'content-type': entry.type }).end(body);
      } else {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found\n');
      }
    } catch (cause) {
      response.writeHead(500, { 'content-type': 'text/plain' }).end(`${(cause as Error).message}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const { port: actual } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${actual}/`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((cause) => (cause ? reject(cause) : resolve()));
        server.closeAllConnections();
      }),
  };
}
