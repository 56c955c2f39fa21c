import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { masterKeyRing, openSecret, SecretEnvelopeError, sealSecret } from '../../src/secrets/envelope.js';

const key1 = randomBytes(32);
const key2 = randomBytes(32);
const ring = masterKeyRing([
  { version: 1, key: key1 },
  { version: 2, key: key2 },
]);
const id = randomUUID();
const value = 'sk_live_51H… ünïcödé ✓';

/** The envelope with part `index` (0 format, 1 version, 2 nonce, 3 ciphertext, 4 tag) changed. */
function withPart(envelope: string, index: number, change: (part: string) => string): string {
  const parts = envelope.split('.');
  parts[index] = change(parts[index] as string);
  return parts.join('.');
}

/** The base64url part with its first byte's lowest bit flipped. */
function flipBit(part: string): string {
  const bytes = Buffer.from(part, 'base64url');
  bytes[0] = (bytes[0] as number) ^ 1;
  return bytes.toString('base64url');
}

describe('secret envelopes (AES-256-GCM, a key per row from HKDF)', () => {
  it('round-trip under each version, with a fresh nonce every time', () => {
    for (const version of [1, 2]) {
      const envelope = sealSecret(ring, version, id, value);
      expect(envelope.startsWith(`v1.${version}.`)).toBe(true);
      expect(envelope).not.toContain(value);
      expect(openSecret(ring, id, envelope)).toBe(value);
    }
    const nonces = new Set(Array.from({ length: 100 }, () => sealSecret(ring, 2, id, value).split('.')[2]));
    expect(nonces.size).toBe(100);
    expect(openSecret(ring, id, sealSecret(ring, 1, id, ''))).toBe('');
  });

  it.each([
    ['the tag', 4],
    ['the nonce', 2],
    ['the ciphertext', 3],
  ])('refuse a changed %s', (_, index) => {
    const envelope = sealSecret(ring, 2, id, value);
    expect(() => openSecret(ring, id, withPart(envelope, index, flipBit))).toThrow(SecretEnvelopeError);
  });

  it('refuse an envelope relabelled with another key version, both ways', () => {
    const under2 = sealSecret(ring, 2, id, value);
    const under1 = sealSecret(ring, 1, id, value);
    expect(() =>
      openSecret(
        ring,
        id,
        withPart(under2, 1, () => '1'),
      ),
    ).toThrow(/did not decrypt/);
    expect(() =>
      openSecret(
        ring,
        id,
        withPart(under1, 1, () => '2'),
      ),
    ).toThrow(/did not decrypt/);
  });

  it('refuse a ciphertext moved to another row', () => {
    const envelope = sealSecret(ring, 2, id, value);
    expect(() => openSecret(ring, randomUUID(), envelope)).toThrow(/belongs to another secret/);
  });

  it('refuse a version whose key is not configured, saying to add it back', () => {
    const envelope = sealSecret(ring, 1, id, value);
    const without1 = masterKeyRing([{ version: 2, key: key2 }]);
    expect(() => openSecret(without1, id, envelope)).toThrow(/version 1, which is not configured/);
    // The same version number with another key: the wrong key is caught, not used.
    const impostor = masterKeyRing([{ version: 1, key: randomBytes(32) }]);
    expect(() => openSecret(impostor, id, envelope)).toThrow(/did not decrypt/);
  });

  it.each([
    ['an empty string', ''],
    ['another format', 'v2.1.AAAA.AAAA.AAAA'],
    ['a version that is not a number', 'v1.x.AAAA.AAAA.AAAA'],
    ['version 0', 'v1.0.AAAA.AAAA.AAAA'],
    ['four parts', 'v1.1.AAAA.AAAA'],
    ['a short nonce', `v1.1.${Buffer.alloc(8).toString('base64url')}.AAAA.${Buffer.alloc(16).toString('base64url')}`],
    ['a short tag', `v1.1.${Buffer.alloc(12).toString('base64url')}.AAAA.${Buffer.alloc(8).toString('base64url')}`],
  ])('refuse a malformed envelope: %s', (_, envelope) => {
    expect(() => openSecret(ring, id, envelope)).toThrow(SecretEnvelopeError);
  });

  it('pick the highest version as current unless told, and refuse a current version without a key', () => {
    expect(ring.current).toBe(2);
    expect(
      masterKeyRing(
        [
          { version: 1, key: key1 },
          { version: 2, key: key2 },
        ],
        1,
      ).current,
    ).toBe(1);
    expect(() => masterKeyRing([{ version: 1, key: key1 }], 3)).toThrow(/No master key version 3/);
  });
});
