import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** One master key: its version (what envelopes name) and its 32 bytes. */
export interface MasterKey {
  readonly version: number;
  readonly key: Buffer;
}

/** The master keys the server holds: every version it can decrypt, and the one it encrypts with. */
export interface MasterKeyRing {
  /** The version new values are encrypted with. */
  readonly current: number;
  /** Every version, current and older (older ones decrypt only). */
  readonly keys: ReadonlyMap<number, Buffer>;
}

/** A value that did not decrypt: the envelope was changed, moved, or its key is not configured. */
export class SecretEnvelopeError extends Error {
  override readonly name = 'SecretEnvelopeError';
}

const format = 'v1';
const nonceBytes = 12;
const tagBytes = 16;
const encoder = new TextEncoder();

/** The key of one row under one master key: HKDF-SHA256 of the master key, with the row's id. */
function rowKey(master: Buffer, recordId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `plinth secrets ${format} ${recordId}`, 32));
}

// The row's id and the version are authenticated: a ciphertext copied to another row or
// relabelled with another version fails, even before the derived key would.
const associatedData = (recordId: string, version: number) => encoder.encode(`plinth-secret|${recordId}|${version}`);

/**
 * Encrypts `value` for the row `recordId` under master key `version`: AES-256-GCM with a random
 * 96-bit nonce and a key derived for this row (HKDF), as
 * `v1.<version>.<nonce>.<ciphertext>.<tag>` (base64url).
 *
 * @example
 * ```ts
 * const envelope = sealSecret(ring, ring.current, row.id, 'sk_live_…');
 * ```
 */
export function sealSecret(ring: MasterKeyRing, version: number, recordId: string, value: string): string {
  const master = ring.keys.get(version);
  if (!master) throw new SecretEnvelopeError(`No master key version ${version} is configured.`);
  const nonce = randomBytes(nonceBytes);
  const cipher = createCipheriv('aes-256-gcm', rowKey(master, recordId), nonce, { authTagLength: tagBytes });
  cipher.setAAD(associatedData(recordId, version));
  const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  const parts = [nonce, ciphertext, cipher.getAuthTag()].map((part) => part.toString('base64url'));
  return [format, String(version), ...parts].join('.');
}

/** The master key version an envelope names, or undefined when it is not an envelope. */
export function envelopeVersion(envelope: string): number | undefined {
  const [kind, version] = envelope.split('.', 3);
  return kind === format && /^[1-9]\d{0,8}$/.test(version ?? '') ? Number(version) : undefined;
}

/**
 * Decrypts an envelope made by {@link sealSecret} for the row `recordId`. Any change to the
 * version, nonce, ciphertext or tag, an envelope of another row, or a version whose key is not
 * configured, throws {@link SecretEnvelopeError}.
 *
 * @example
 * ```ts
 * const value = openSecret(ring, row.id, row.envelope);
 * ```
 */
export function openSecret(ring: MasterKeyRing, recordId: string, envelope: string): string {
  const parts = envelope.split('.');
  const version = envelopeVersion(envelope);
  if (parts.length !== 5 || version === undefined) throw new SecretEnvelopeError('The envelope is malformed.');
  const master = ring.keys.get(version);
  if (!master) {
    throw new SecretEnvelopeError(
      `The value is encrypted under master key version ${version}, which is not configured: add it back to PLINTH_SECRETS_KEYS.`,
    );
  }
  const [nonce, ciphertext, tag] = parts.slice(2).map((part) => Buffer.from(part, 'base64url')) as [
    Buffer,
    Buffer,
    Buffer,
  ];
  if (nonce.length !== nonceBytes || tag.length !== tagBytes)
    throw new SecretEnvelopeError('The envelope is malformed.');
  try {
    const decipher = createDecipheriv('aes-256-gcm', rowKey(master, recordId), nonce, { authTagLength: tagBytes });
    decipher.setAAD(associatedData(recordId, version));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretEnvelopeError(
      'The value did not decrypt: its envelope was changed or belongs to another secret, or the master key of its version is not the one it was encrypted with.',
    );
  }
}

/**
 * The ring of the configured master keys (each base64 of 32 bytes), or undefined when none is
 * configured: what the server and `plinth secrets` both build from `secretsKeys`.
 *
 * @example
 * ```ts
 * const ring = configuredKeyRing(config.secretsKeys, config.secretsKeyVersion);
 * ```
 */
export function configuredKeyRing(
  keys: readonly { version: number; key: string }[],
  current?: number,
): MasterKeyRing | undefined {
  if (keys.length === 0) return undefined;
  return masterKeyRing(
    keys.map(({ version, key }) => ({ version, key: Buffer.from(key, 'base64') })),
    current,
  );
}

/**
 * The master keys from configuration (`PLINTH_SECRETS_KEYS`, `1:<base64 of 32 bytes>,2:…`) and
 * the current version (`PLINTH_SECRETS_KEY_VERSION`; default the highest).
 *
 * @example
 * ```ts
 * const ring = masterKeyRing([{ version: 1, key: randomBytes(32) }]);
 * ring.current; // 1
 * ```
 */
export function masterKeyRing(keys: readonly MasterKey[], current?: number): MasterKeyRing {
  const map = new Map(keys.map((key) => [key.version, key.key] as const));
  const chosen = current ?? Math.max(...map.keys());
  if (!map.has(chosen)) throw new SecretEnvelopeError(`No master key version ${chosen} is configured.`);
  return { current: chosen, keys: map };
}
