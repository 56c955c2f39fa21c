/** Runs async tasks with at most a fixed number in flight; the rest wait their turn in arrival order. */
export interface ConcurrencyLimit {
  /** Runs `task` once a slot is free and settles with its outcome. The slot is released either way. */
  run<T>(task: () => Promise<T>): Promise<T>;
  /** Tasks running now. */
  readonly active: number;
  /** Tasks waiting for a slot. */
  readonly waiting: number;
}

/**
 * A small semaphore. Argon2 allocates its whole memory cost per call, so capping the calls in
 * flight caps the memory a burst of sign-ins can take; the excess queues instead of failing.
 *
 * @example
 * ```ts
 * const limit = createConcurrencyLimit(4);
 * const digest = await limit.run(() => hash(password));
 * ```
 */
export function createConcurrencyLimit(maxConcurrent: number): ConcurrencyLimit {
  if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
    throw new RangeError(`maxConcurrent must be a positive integer, got ${maxConcurrent}`);
  }
  let active = 0;
  const queue: (() => void)[] = [];

  const acquire = (): Promise<void> => {
    if (active < maxConcurrent) {
      active += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => queue.push(resolve));
  };

  const release = (): void => {
    const next = queue.shift();
    // The slot passes straight to the next waiter, so `active` never dips and lets a newcomer jump the queue.
    if (next) next();
    else active -= 1;
  };

  return {
    async run<T>(task: () => Promise<T>): Promise<T> {
      await acquire();
      try {
        return await task();
      } finally {
        release();
      }
    },
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
  };
}
