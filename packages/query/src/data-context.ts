import type { CallOptions, Transport } from '@plinth/core';
import { wireHeaders } from '@plinth/protocol';

/** What every query, statement and batch of one data client shares: its transport, and as whom it runs. */
export interface DataContext {
  readonly transport: Transport;
  /** The `x-plinth-act-as` value (an access token, or `anon`); none runs as the service role. */
  readonly actAs: string | undefined;
}

/**
 * The per-call options of one data call: the caller's, plus the act-as header, which the
 * caller's headers cannot override.
 *
 * @example
 * ```ts
 * context.transport.call(queryRoute, request, dataCallOptions(context, "from('posts').select()", options));
 * ```
 */
export function dataCallOptions(context: DataContext, caller: string, options?: CallOptions): CallOptions {
  // The common call: no options of its own, as the service role.
  if (options === undefined && context.actAs === undefined) return { caller };
  options ??= {};
  const headers = { ...options.headers };
  for (const name of Object.keys(headers)) if (name.toLowerCase() === wireHeaders.actAs) delete headers[name];
  if (context.actAs !== undefined) headers[wireHeaders.actAs] = context.actAs;
  return { ...options, headers, caller };
}
