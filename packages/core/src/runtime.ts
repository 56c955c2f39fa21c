/**
 * True in a browser page or a web worker: anywhere a secret would be readable by the user.
 *
 * @example
 * ```ts
 * if (isBrowserLike()) console.warn('running in a browser');
 * ```
 */
export function isBrowserLike(): boolean {
  const scope = globalThis as {
    window?: unknown;
    document?: unknown;
    WorkerGlobalScope?: unknown;
    importScripts?: unknown;
  };
  return (
    (typeof scope.window === 'object' && typeof scope.document === 'object') ||
    typeof scope.WorkerGlobalScope === 'function' ||
    typeof scope.importScripts === 'function'
  );
}

/**
 * True for hosts that cannot leave this machine: `localhost`, `*.localhost`, 127.0.0.0/8, `[::1]`.
 *
 * @example
 * ```ts
 * isLoopbackHost('127.0.0.1'); // true
 * isLoopbackHost('api.example.com'); // false
 * ```
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  );
}

/**
 * A random id for `X-Request-Id` and `Idempotency-Key`. Uses `getRandomValues`, which (unlike
 * `randomUUID`) exists on plain-HTTP pages too.
 *
 * @example
 * ```ts
 * randomId(); // '9f86d081884c7d659a2feaa0c55ad015'
 * ```
 */
export function randomId(): string {
  // Random bytes drawn in blocks: one getRandomValues call per 256 ids instead of one per id.
  if (poolOffset + 16 > pool.length) {
    crypto.getRandomValues(pool);
    poolOffset = 0;
  }
  let id = '';
  for (let i = poolOffset; i < poolOffset + 16; i++) id += hex[pool[i] as number];
  poolOffset += 16;
  return id;
}

const pool = new Uint8Array(4096);
let poolOffset = pool.length;

const hex = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));
