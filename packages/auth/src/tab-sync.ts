import type { TokenSession, User } from '@plinth/protocol';
import type { AuthChangeEvent } from './auth-events.js';

/** What one tab tells the others after a change of its auth state. */
export interface TabMessage {
  readonly event: AuthChangeEvent;
  readonly user: User | null;
  readonly session: TokenSession | null;
}

/** Sends a change to the other tabs. */
export type TabSync = (message: TabMessage) => void;

/**
 * Joins the tabs of one origin on a `BroadcastChannel` named `name`, so that a sign-in, a
 * sign-out or a refresh in one tab reaches the others instead of each tab finding out (and
 * refreshing) on its own. Returns `undefined` where `BroadcastChannel` does not exist. A channel
 * never receives its own messages, and it is same-origin only.
 *
 * @example
 * ```ts
 * const post = openTabSync('plinth.auth', (message) => adopt(message));
 * post?.({ event: 'SIGNED_OUT', user: null, session: null });
 * ```
 */
export function openTabSync(name: string, receive: (message: TabMessage) => void): TabSync | undefined {
  if (typeof BroadcastChannel !== 'function') return undefined;
  const channel = new BroadcastChannel(name);
  channel.onmessage = (event: MessageEvent<TabMessage>) => receive(event.data);
  return (message) => channel.postMessage(message);
}
