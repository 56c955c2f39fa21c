/**
 * Awaiting a query or statement: runs it, and turns a synchronous refusal into a rejection (an
 * `await` must never throw past the promise it waits for).
 *
 * @example
 * ```ts
 * then(onFulfilled, onRejected) { return settle(this, onFulfilled, onRejected); }
 * ```
 */
export function settle<T, A, B>(
  query: { execute(): Promise<T> },
  onFulfilled?: ((value: T) => A | PromiseLike<A>) | null,
  onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
): Promise<A | B> {
  let run: Promise<T>;
  try {
    run = query.execute();
  } catch (error) {
    run = Promise.reject(error);
  }
  return run.then(onFulfilled, onRejected);
}
