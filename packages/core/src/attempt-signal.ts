/** The abort reason of an attempt that ran out of time (the caller's own aborts carry theirs). */
export const timedOut = Symbol('timed out');

/** The signal one attempt is sent with, and what to do once the attempt has settled. */
export interface AttemptSignal {
  /** Aborts with {@link timedOut} when the time is up, or with the caller's reason; none when neither can happen. */
  readonly signal: AbortSignal | undefined;
  /**
   * Settles with `promise`, or calls `onAbort` and rejects with the signal's reason as soon as
   * the signal aborts: for work that may ignore the signal (a custom `fetch`'s body, a mock's).
   */
  race<T>(promise: Promise<T>, onAbort: () => void): Promise<T>;
  /** Call once the attempt has settled (answer read, or failed): stops its timer. */
  release(): void;
}

const noSignal: AttemptSignal = { signal: undefined, race: (promise) => promise, release() {} };

/**
 * {@link AttemptSignal.race}: `listen(abort)` subscribes `abort` to the signal and returns the
 * way to unsubscribe it.
 */
function race<T>(
  signal: AbortSignal,
  promise: Promise<T>,
  onAbort: () => void,
  listen: (abort: () => void) => () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      onAbort();
      reject(signal.reason);
    };
    if (signal.aborted) return abort();
    const unlisten = listen(abort);
    promise.then(
      (value) => {
        unlisten();
        resolve(value);
      },
      (error: unknown) => {
        unlisten();
        reject(error);
      },
    );
  });
}

/**
 * An attempt's own signal: aborts exactly `timeout` ms after it starts, or when `callerSignal`
 * does. For calls that pass a signal or a timeout of their own.
 *
 * @example
 * ```ts
 * const attempt = ownAttemptSignal(5_000, options.signal);
 * try { await fetch(url, { signal: attempt.signal }); } finally { attempt.release(); }
 * ```
 */
export function ownAttemptSignal(timeout: number | false, callerSignal: AbortSignal | undefined): AttemptSignal {
  if (timeout === false && callerSignal === undefined) return noSignal;
  const controller = new AbortController();
  const onAbort = () => controller.abort(callerSignal?.reason);
  if (callerSignal?.aborted) onAbort();
  callerSignal?.addEventListener('abort', onAbort, { once: true });
  const timer = timeout === false ? undefined : setTimeout(() => controller.abort(timedOut), timeout);
  return {
    signal: controller.signal,
    race: (promise, onAbort) =>
      race(controller.signal, promise, onAbort, (abort) => {
        controller.signal.addEventListener('abort', abort, { once: true });
        return () => controller.signal.removeEventListener('abort', abort);
      }),
    release() {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onAbort);
    },
  };
}

interface TimeoutGroup {
  readonly controller: AbortController;
  /** Attempts may join until then (ms, `Date.now()`). */
  readonly joinableUntil: number;
  /** When the group's signal aborts: `timeout` after the last attempt that may join. */
  readonly deadline: number;
  /** Attempts that joined; a group takes at most {@link groupSize}. */
  joined: number;
  /** Attempts in flight; the timer runs only while there are some. */
  active: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** What to run when the group's signal aborts: kept here, not as event listeners (see below). */
  readonly onAbort: Set<() => void>;
}

/**
 * At most this many attempts share a signal. `fetch` in Node leaves a listener on the signal of
 * every request until that request is garbage-collected, and adding a listener walks the ones
 * already there: a small group keeps that walk short.
 */
const groupSize = 32;

function newGroup(now: number, window: number, timeout: number): TimeoutGroup {
  const group: TimeoutGroup = {
    controller: new AbortController(),
    joinableUntil: now + window,
    deadline: now + window + timeout,
    joined: 0,
    active: 0,
    timer: undefined,
    onAbort: new Set(),
  };
  group.controller.signal.addEventListener('abort', () => {
    for (const callback of group.onAbort) callback();
  });
  return group;
}

/**
 * Signals for attempts that use the transport's default timeout and no signal of their own:
 * attempts starting within one short window share one signal, which aborts `timeout` after the
 * window closes. Each attempt so gets at least `timeout` ms and at most `timeout` plus the window
 * (1 % of the timeout, at most 100 ms). Why: an `AbortController` costs more than any other
 * single step of a call in Node, and a busy server makes thousands of calls a second.
 *
 * @example
 * ```ts
 * const nextSignal = sharedAttemptSignals(30_000);
 * const attempt = nextSignal();
 * try { await fetch(url, { signal: attempt.signal }); } finally { attempt.release(); }
 * ```
 */
export function sharedAttemptSignals(timeout: number | false): () => AttemptSignal {
  if (timeout === false) return () => noSignal;
  const window = Math.min(timeout / 100, 100);
  let current: TimeoutGroup | undefined;

  const leave = (group: TimeoutGroup) => {
    group.active--;
    if (group.active === 0) {
      // Nothing left to time out: no timer may keep the process alive, or wake it, for nothing.
      clearTimeout(group.timer);
      group.timer = undefined;
    }
  };

  return () => {
    const now = Date.now();
    let group = current;
    if (
      group === undefined ||
      now >= group.joinableUntil ||
      group.joined >= groupSize ||
      group.controller.signal.aborted
    ) {
      group = newGroup(now, window, timeout);
      current = group;
    }
    const joined = group;
    joined.joined++;
    joined.active++;
    joined.timer ??= setTimeout(() => joined.controller.abort(timedOut), joined.deadline - now);
    let released = false;
    return {
      signal: joined.controller.signal,
      // Through the group's own set, not event listeners (see groupSize).
      race: (promise, onAbort) =>
        race(joined.controller.signal, promise, onAbort, (abort) => {
          joined.onAbort.add(abort);
          return () => joined.onAbort.delete(abort);
        }),
      release() {
        if (released) return;
        released = true;
        leave(joined);
      },
    };
  };
}
