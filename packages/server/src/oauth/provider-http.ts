/**
 * A provider failed or answered something that cannot be trusted: unreachable, a non-2xx, a
 * malformed document, an ID token that does not verify. The message says what, for the log; it
 * never carries a token, code or secret. The sign-in it breaks ends with `error=provider_error`.
 */
export class ProviderError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProviderError';
  }
}

/** How long a call to a provider may take. */
export const providerTimeoutMs = 10_000;
// Discovery documents, JWKS, token and user answers are a few kB; anything far larger is not one.
const maxAnswerBytes = 1_048_576;

/**
 * Calls a provider and reads its JSON answer. Redirects are not followed (no provider endpoint
 * redirects a back-channel call), the call times out, and any failure is a {@link ProviderError}
 * naming `what` and never the answer's body (it may hold tokens).
 *
 * @example
 * ```ts
 * const tokens = await providerJson('token endpoint', metadata.token_endpoint, { method: 'POST', body });
 * ```
 */
export async function providerJson(what: string, url: string, init: RequestInit = {}): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      ...init,
      redirect: 'manual',
      signal: AbortSignal.timeout(providerTimeoutMs),
      headers: { accept: 'application/json', ...(init.headers as Record<string, string> | undefined) },
    });
  } catch (error) {
    throw new ProviderError(`${what}: no answer from ${new URL(url).origin} (${(error as Error).name})`, {
      cause: error,
    });
  }
  const text = await response.text().catch(() => '');
  if (text.length > maxAnswerBytes) throw new ProviderError(`${what}: the answer is over ${maxAnswerBytes} bytes`);
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    // An OAuth error code (RFC 6749 §5.2) is safe to log; its description and the rest are not read.
    const code = isRecord(body) && typeof body.error === 'string' ? ` ${body.error.slice(0, 64)}` : '';
    throw new ProviderError(`${what}: HTTP ${response.status}${code}`);
  }
  if (body === undefined) throw new ProviderError(`${what}: the answer is not JSON`);
  return body;
}

/** Whether a value is a plain JSON object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
