import { ConfigurationError, isPlinthError } from '@plinth/core';
import { signWebhook, webhookHeaders } from '@plinth/protocol';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import knownAnswers from '../../../test/fixtures/known-answers.json' with { type: 'json' };
import { verifyWebhook, WebhookVerificationError } from '../src/index.js';

const [vector] = knownAnswers.standard_webhooks;
if (!vector) throw new Error('missing the Standard Webhooks vector');
const at = (seconds: number) => () => seconds * 1000;
const signedAt = vector['webhook-timestamp'];
const vectorHeaders = {
  [webhookHeaders.id]: vector['webhook-id'],
  [webhookHeaders.timestamp]: String(signedAt),
  [webhookHeaders.signature]: vector['webhook-signature'],
};

/** A delivery signed now by Plinth's signer, with `body`. */
async function delivery(secret: string, body: string, id = 'msg_2VnYQk5VXfNO6Ry1ALLvHhY9MNE', now = 1_767_000_000) {
  return {
    headers: {
      [webhookHeaders.id]: id,
      [webhookHeaders.timestamp]: String(now),
      [webhookHeaders.signature]: await signWebhook(secret, id, now, body),
    },
    now: at(now),
  };
}

const secret = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';

describe('signWebhook', () => {
  it('gives the Standard Webhooks known answer', async () => {
    expect(await signWebhook(vector.secret, vector['webhook-id'], signedAt, vector.body)).toBe(
      vector['webhook-signature'],
    );
    const bytes = new TextEncoder().encode(vector.body);
    expect(await signWebhook(vector.secret, vector['webhook-id'], signedAt, bytes)).toBe(vector['webhook-signature']);
  });

  it('refuses a secret that is not whsec_ and base64 of 24 to 64 bytes', async () => {
    for (const bad of [
      '',
      'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'whsec_',
      'whsec_not base64!',
      'whsec_AAAA',
      `whsec_${'A'.repeat(88)}`,
    ]) {
      await expect(signWebhook(bad, 'msg_1', 1, '{}'), bad).rejects.toThrow(/webhook signing secret/);
    }
  });

  it('signs what the standardwebhooks package verifies, and verifies what it signs', async () => {
    const theirs = new Webhook(secret);
    const body = JSON.stringify({ type: 'user.created', data: { id: 'u1', email: 'ana@example.com' } });
    const now = Math.floor(Date.now() / 1000);
    const ours = await delivery(secret, body, 'msg_ours', now);
    expect(theirs.verify(body, ours.headers)).toEqual(JSON.parse(body));

    const signature = theirs.sign('msg_theirs', new Date(now * 1000), body);
    const verified = await verifyWebhook(
      secret,
      { 'webhook-id': 'msg_theirs', 'webhook-timestamp': String(now), 'webhook-signature': signature },
      body,
    );
    expect(verified).toEqual({ id: 'msg_theirs', timestamp: new Date(now * 1000), payload: JSON.parse(body) });
  });
});

describe('verifyWebhook', () => {
  it('accepts the known-answer delivery, with headers as Node, fetch or a plain object give them', async () => {
    const expected = { id: vector['webhook-id'], timestamp: new Date(signedAt * 1000), payload: { test: 2432232314 } };
    const now = at(signedAt + 60);
    expect(await verifyWebhook(vector.secret, vectorHeaders, vector.body, { now })).toEqual(expected);
    expect(await verifyWebhook(vector.secret, new Headers(vectorHeaders), vector.body, { now })).toEqual(expected);
    const upperCase = Object.fromEntries(
      Object.entries(vectorHeaders).map(([name, value]) => [name.toUpperCase(), value]),
    );
    expect(await verifyWebhook(vector.secret, upperCase, vector.body, { now })).toEqual(expected);
    const asBuffer = Buffer.from(vector.body);
    expect(await verifyWebhook(vector.secret, vectorHeaders, asBuffer, { now })).toEqual(expected);
    const asArrayBuffer = asBuffer.buffer.slice(asBuffer.byteOffset, asBuffer.byteOffset + asBuffer.byteLength);
    expect(await verifyWebhook(vector.secret, vectorHeaders, asArrayBuffer, { now })).toEqual(expected);
  });

  it('accepts a delivery signed with the old and the new secret during a rotation, with either secret', async () => {
    const rotated = 'whsec_3Q1bU7Yl1v2m7wqxqVd8cIbS6aM9T3c5';
    const body = '{"type":"object.created"}';
    const old = await delivery(secret, body);
    const fresh = await delivery(rotated, body);
    const headers = {
      ...old.headers,
      [webhookHeaders.signature]: `${old.headers[webhookHeaders.signature]} ${fresh.headers[webhookHeaders.signature]}`,
    };
    for (const key of [secret, rotated]) {
      expect((await verifyWebhook(key, headers, body, { now: old.now })).payload).toEqual({ type: 'object.created' });
    }
  });

  it('allows 5 minutes of clock difference both ways by default, and the tolerance given', async () => {
    const body = '{}';
    const { headers } = await delivery(secret, body, 'msg_t', 1_767_000_000);
    for (const offset of [-300, 300]) {
      await expect(verifyWebhook(secret, headers, body, { now: at(1_767_000_000 + offset) })).resolves.toBeDefined();
    }
    await expect(verifyWebhook(secret, headers, body, { now: at(1_767_000_000 + 301) })).rejects.toMatchObject({
      reason: 'timestamp_too_old',
    });
    await expect(verifyWebhook(secret, headers, body, { now: at(1_767_000_000 - 301) })).rejects.toMatchObject({
      reason: 'timestamp_in_future',
    });
    await expect(
      verifyWebhook(secret, headers, body, { now: at(1_767_000_000 + 30), toleranceSeconds: 10 }),
    ).rejects.toMatchObject({ reason: 'timestamp_too_old' });
  });

  describe('refuses every forgery of the negative corpus', async () => {
    const body = '{"type":"user.deleted","data":{"id":"u1"}}';
    const good = await delivery(secret, body, 'msg_good', 1_767_000_000);
    const signature = good.headers[webhookHeaders.signature] as string;
    const mac = signature.slice(3);
    const flipped = `${mac[0] === 'A' ? 'B' : 'A'}${mac.slice(1)}`;
    const other = await delivery('whsec_3Q1bU7Yl1v2m7wqxqVd8cIbS6aM9T3c5', body, 'msg_good', 1_767_000_000);
    const withHeader = (name: string, value: string | undefined) => ({ ...good.headers, [name]: value });
    const corpus: [string, Record<string, string | undefined>, string, string][] = [
      ['a body changed by one byte', good.headers, body.replace('u1', 'u2'), 'no_matching_signature'],
      [
        'a body re-serialised with spaces',
        good.headers,
        JSON.stringify(JSON.parse(body), null, 1),
        'no_matching_signature',
      ],
      ['an empty body', good.headers, '', 'no_matching_signature'],
      ['another id', withHeader(webhookHeaders.id, 'msg_other'), body, 'no_matching_signature'],
      ['another timestamp', withHeader(webhookHeaders.timestamp, '1767000001'), body, 'no_matching_signature'],
      [
        'a signature with one character changed',
        withHeader(webhookHeaders.signature, `v1,${flipped}`),
        body,
        'no_matching_signature',
      ],
      ['another secret’s signature', other.headers, body, 'no_matching_signature'],
      [
        'a signature of another version',
        withHeader(webhookHeaders.signature, `v2,${mac}`),
        body,
        'no_matching_signature',
      ],
      ['a signature without its version', withHeader(webhookHeaders.signature, mac), body, 'no_matching_signature'],
      [
        'a truncated signature',
        withHeader(webhookHeaders.signature, signature.slice(0, -4)),
        body,
        'no_matching_signature',
      ],
      [
        'a signature with bytes appended',
        withHeader(webhookHeaders.signature, `${signature}AAAA`),
        body,
        'no_matching_signature',
      ],
      ['a bare "v1,"', withHeader(webhookHeaders.signature, 'v1,'), body, 'no_matching_signature'],
      [
        'the signature in lower case',
        withHeader(webhookHeaders.signature, signature.toLowerCase()),
        body,
        'no_matching_signature',
      ],
      ['no id', withHeader(webhookHeaders.id, undefined), body, 'missing_header'],
      ['an empty id', withHeader(webhookHeaders.id, ''), body, 'missing_header'],
      ['no timestamp', withHeader(webhookHeaders.timestamp, undefined), body, 'missing_header'],
      ['no signature', withHeader(webhookHeaders.signature, undefined), body, 'missing_header'],
      ['a timestamp in ms', withHeader(webhookHeaders.timestamp, '1767000000000'), body, 'malformed_timestamp'],
      [
        'a timestamp with a fraction',
        withHeader(webhookHeaders.timestamp, '1767000000.5'),
        body,
        'malformed_timestamp',
      ],
      ['a negative timestamp', withHeader(webhookHeaders.timestamp, '-1767000000'), body, 'malformed_timestamp'],
      [
        'a timestamp as a date',
        withHeader(webhookHeaders.timestamp, '2026-01-01T00:00:00Z'),
        body,
        'malformed_timestamp',
      ],
      ['a signature header of spaces', withHeader(webhookHeaders.signature, '   '), body, 'malformed_signature'],
      [
        '17 signatures',
        withHeader(webhookHeaders.signature, Array(17).fill(signature).join(' ')),
        body,
        'malformed_signature',
      ],
    ];
    it.each(corpus)('%s', async (_, headers, sent, reason) => {
      const refused = await verifyWebhook(secret, headers, sent, { now: good.now }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(WebhookVerificationError);
      expect(refused).toMatchObject({ code: 'webhook_unverified', reason, details: { reason } });
      expect(isPlinthError(refused)).toBe(true);
    });

    it('a replay of the good delivery 6 minutes later', async () => {
      await expect(verifyWebhook(secret, good.headers, body, { now: at(1_767_000_000 + 360) })).rejects.toMatchObject({
        reason: 'timestamp_too_old',
      });
    });

    it('and accepts the good delivery itself, so the corpus refuses for the reasons it names', async () => {
      expect((await verifyWebhook(secret, good.headers, body, { now: good.now })).id).toBe('msg_good');
    });
  });

  it('says how to pass the raw body when it is handed a parsed one', async () => {
    const body = '{"type":"user.created"}';
    const { headers, now } = await delivery(secret, body);
    for (const parsed of [JSON.parse(body), [1], null, 42]) {
      const refused = await verifyWebhook(secret, headers, parsed as never, { now }).catch((error: unknown) => error);
      expect(refused).toMatchObject({ code: 'webhook_body_not_raw', reason: 'body_not_raw' });
      expect((refused as Error).message).toMatch(/express\.raw\(.*before express\.json\(\)/);
    }
  });

  it('refuses a signed body that is not JSON', async () => {
    const { headers, now } = await delivery(secret, 'not json');
    await expect(verifyWebhook(secret, headers, 'not json', { now })).rejects.toMatchObject({
      reason: 'body_not_json',
    });
  });

  it('refuses a secret that is not a whsec_ secret as a configuration error, before reading the delivery', async () => {
    for (const bad of ['', 'sk_live_1', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', undefined as unknown as string]) {
      const refused = await verifyWebhook(bad, vectorHeaders, vector.body).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ConfigurationError);
      expect(refused).toMatchObject({ code: 'invalid_configuration', details: { field: 'secret' } });
    }
  });
});
