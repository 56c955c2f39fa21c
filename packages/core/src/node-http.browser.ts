/**
 * What browsers get instead of `node-http.ts` (package.json `browser` field): no `node:http`
 * sender, so bundles for the browser carry none of it. Every call then goes through `fetch`.
 */
import type { NodeSend } from './node-http.js';

export type { Answer, NodeRequest, NodeSend } from './node-http.js';

/**
 * Always undefined in a browser build: calls use `fetch`.
 *
 * @example
 * ```ts
 * nodeHttpSender(); // undefined
 * ```
 */
export function nodeHttpSender(): NodeSend | undefined {
  return undefined;
}

/**
 * Always true in a browser build: there is no `node:http` path to leave.
 *
 * @example
 * ```ts
 * fetchIsUnchanged(); // true
 * ```
 */
export function fetchIsUnchanged(): boolean {
  return true;
}
