import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import knownAnswers from '../../../../test/fixtures/known-answers.json' with { type: 'json' };

// The fixture is a copy of the shared vectors; these checks catch a copy that went wrong
// before a later module's test blames its own code for it.
describe('known-answers.json fixture', () => {
  it('holds the RFC 4231 HMAC-SHA256 vectors intact', () => {
    expect(knownAnswers.hmac_sha256.map((vector) => vector.name)).toEqual([
      'RFC4231 TC1',
      'RFC4231 TC2',
      'RFC4231 TC6',
    ]);
    for (const vector of knownAnswers.hmac_sha256) {
      const mac = createHmac('sha256', Buffer.from(vector.key_hex, 'hex'))
        .update(Buffer.from(vector.data_hex, 'hex'))
        .digest('hex');
      expect(mac).toBe(vector.hmac_sha256_hex);
    }
  });

  it('holds the Standard Webhooks vector intact', () => {
    const [vector] = knownAnswers.standard_webhooks;
    if (!vector) throw new Error('missing Standard Webhooks vector');
    const secret = Buffer.from(vector.secret.replace(/^whsec_/, ''), 'base64');
    const signed = `${vector['webhook-id']}.${vector['webhook-timestamp']}.${vector.body}`;
    expect(`v1,${createHmac('sha256', secret).update(signed).digest('base64')}`).toBe(vector['webhook-signature']);
  });
});
