/**
 * Wraps an async function so that calls made while one run is in flight join that run: N
 * concurrent callers cause one run and all get its result (or its error). The next call after
 * it settles starts a new run.
 *
 * Refresh tokens are single use: two refreshes of one token race, and outside the server's grace
 * window the second counts as reuse and revokes the whole session. So the auth client never has
 * more than one refresh in flight.
 *
 * @example
 * ```ts
 * const refresh = singleFlight(() => transport.call(refreshRoute, { refreshToken }));
 * const [a, b] = await Promise.all([refresh(), refresh()]); // one request; a === b
 * ```
 */
export function singleFlight<T>(run: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () =>
    (pending ??= run().finally(() => {
      pending = undefined;
    }));
}
