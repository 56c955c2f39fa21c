/**
 * The headers of a webhook delivery, as Standard Webhooks names them (standardwebhooks.com):
 * the delivery's id (the same on every retry: receivers deduplicate by it), the Unix time in
 * seconds it was signed at, and one or more space-separated `v1,<base64>` signatures.
 */
export const webhookHeaders = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

/** What a webhook signing secret starts with; base64 of 24 to 64 random bytes follows. */
export const webhookSecretPrefix = 'whsec_';

/** The signature scheme's version, the part before the comma of each signature. */
export const webhookSignatureVersion = 'v1';

const encoder = new TextEncoder();

/**
 * The bytes of a `whsec_` secret, or undefined when it is not one: the prefix, then base64 of
 * 24 to 64 bytes. Standard Webhooks' own libraries also take the base64 without the prefix;
 * Plinth's secrets always carry it, so a secret of another kind is never used by mistake.
 *
 * @example
 * ```ts
 * webhookSecretBytes('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')?.length; // 24
 * webhookSecretBytes('sk_live_123'); // undefined
 * ```
 */
export function webhookSecretBytes(secret: string): Uint8Array<ArrayBuffer> | undefined {
  if (typeof secret !== 'string' || !secret.startsWith(webhookSecretPrefix)) return undefined;
  const encoded = secret.slice(webhookSecretPrefix.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return undefined;
  const bytes = base64Decode(encoded);
  return bytes.length >= 24 && bytes.length <= 64 ? bytes : undefined;
}

/**
 * Signs one delivery as Standard Webhooks does: HMAC-SHA256, keyed with the secret's bytes, of
 * `<id>.<timestamp>.<body>`, as `v1,<base64>`. The body must be the exact bytes sent. Runs
 * wherever Web Crypto does (Node 20, browsers, edge runtimes).
 *
 * @example
 * ```ts
 * const signature = await signWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
 * // 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
 * ```
 */
export async function signWebhook(
  secret: string,
  id: string,
  timestamp: number,
  body: string | Uint8Array,
): Promise<string> {
  const key = webhookSecretBytes(secret);
  if (!key) {
    throw new TypeError(
      `signWebhook: the secret is not a webhook signing secret; it must be "${webhookSecretPrefix}" followed by base64 of 24 to 64 bytes, as Plinth gives it.`,
    );
  }
  const prefix = encoder.encode(`${id}.${timestamp}.`);
  const content = typeof body === 'string' ? encoder.encode(body) : body;
  const signed = new Uint8Array(prefix.length + content.length);
  signed.set(prefix, 0);
  signed.set(content, prefix.length);
  const hmacKey = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', hmacKey, signed));
  return `${webhookSignatureVersion},${base64Encode(mac)}`;
}

function base64Decode(encoded: string): Uint8Array<ArrayBuffer> {
  const binary = atob(encoded);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function base64Encode(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}
