import { createHash, createHmac } from 'node:crypto';
import { AwsV4Signer } from 'aws4fetch';
import { describe, expect, it } from 'vitest';
import knownAnswers from '../../../../test/fixtures/known-answers.json' with { type: 'json' };
import { createPostPolicy, type PostPolicyRequest, signingKey } from '../../src/storage/s3-post-policy.js';

const {
  credentials,
  post_policy: postVector,
  get_object_header: getVector,
  presigned_get: presignVector,
} = knownAnswers.aws_s3_sigv4;

const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
/** The last line of a SigV4 string to sign is the SHA-256 of the canonical request. */
const canonicalRequestHash = (stringToSign: string) => stringToSign.split('\n').at(-1);

describe('SigV4 known answers published by AWS', () => {
  it('signs the published POST policy to the published signature with this module’s key chain', () => {
    const key = signingKey(credentials.secret_access_key, postVector.date, postVector.region, postVector.service);
    const signature = createHmac('sha256', key).update(postVector.policy_base64, 'utf8').digest('hex');
    expect(signature).toBe(postVector.signature);
    // The vector is the policy AWS prints: its decoded text carries the same scope as the signature.
    const policy = Buffer.from(postVector.policy_base64, 'base64').toString('utf8');
    expect(policy).toContain('"x-amz-credential": "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"');
    expect(policy).toContain('"expiration": "2015-12-30T12:00:00.000Z"');
  });

  it('aws4fetch signs the GET Object example (Range, empty-payload hash) to the published Authorization', async () => {
    expect(getVector.headers['x-amz-content-sha256']).toBe(sha256Hex(''));
    const signer = new AwsV4Signer({
      method: getVector.method,
      url: getVector.url,
      headers: getVector.headers,
      accessKeyId: credentials.access_key_id,
      secretAccessKey: credentials.secret_access_key,
      service: getVector.service,
      region: getVector.region,
      datetime: getVector.datetime,
      // aws4fetch leaves Range out of the signed headers unless told to sign all of them; the
      // published example signs it.
      allHeaders: true,
    });
    expect(canonicalRequestHash(await signer.stringToSign())).toBe(getVector.canonical_request_sha256);
    const { headers } = await signer.sign();
    // aws4fetch separates the parts with ", " where the example uses ","; S3 accepts both.
    expect(headers.get('authorization')?.replaceAll(', ', ',')).toBe(getVector.authorization);
    expect(headers.get('x-amz-date')).toBe(getVector.datetime);
  });

  it('aws4fetch presigns the query-string example (86400 s, UNSIGNED-PAYLOAD) to the published URL', async () => {
    const signer = new AwsV4Signer({
      method: presignVector.method,
      // Given rather than left to aws4fetch's S3 default, which happens to be the same 86400 s.
      url: `${presignVector.url}?X-Amz-Expires=${presignVector.expires_seconds}`,
      accessKeyId: credentials.access_key_id,
      secretAccessKey: credentials.secret_access_key,
      service: presignVector.service,
      region: presignVector.region,
      datetime: presignVector.datetime,
      signQuery: true,
    });
    expect(await signer.hexBodyHash()).toBe('UNSIGNED-PAYLOAD');
    expect(canonicalRequestHash(await signer.stringToSign())).toBe(presignVector.canonical_request_sha256);
    const { url } = await signer.sign();
    const expected = new URL(presignVector.presigned_url);
    // aws4fetch orders the parameters differently from the printed URL; each value must match.
    expect(url.origin + url.pathname).toBe(expected.origin + expected.pathname);
    expect(Object.fromEntries(url.searchParams)).toEqual(Object.fromEntries(expected.searchParams));
  });
});

const fixedNow = new Date('2026-03-01T08:30:15.250Z');
const baseRequest: PostPolicyRequest = {
  endpoint: 'http://127.0.0.1:9000/',
  bucket: 'plinth-uploads',
  region: 'eu-west-1',
  accessKeyId: 'AKIDPLINTHTEST',
  secretAccessKey: 'plinth/test/secret',
  key: 'avatars/user-42/ü photo.png',
  contentType: 'image/png',
  minBytes: 1,
  maxBytes: 5_000_000,
  expiresAt: new Date('2026-03-01T08:40:15.000Z'),
  now: fixedNow,
};

function decodePolicy(policy: string | undefined): { expiration: string; conditions: unknown[] } {
  if (policy === undefined) throw new Error('The form has no Policy field.');
  return JSON.parse(Buffer.from(policy, 'base64').toString('utf8'));
}

describe('createPostPolicy', () => {
  it('posts to the path-style bucket URL with the fields in form order, file left to the browser', () => {
    const { url, fields } = createPostPolicy({ ...baseRequest, extraFields: { success_action_status: '201' } });
    expect(url).toBe('http://127.0.0.1:9000/plinth-uploads');
    expect(Object.keys(fields)).toEqual([
      'key',
      'Content-Type',
      'success_action_status',
      'X-Amz-Credential',
      'X-Amz-Algorithm',
      'X-Amz-Date',
      'Policy',
      'X-Amz-Signature',
    ]);
    expect(fields).toMatchObject({
      key: baseRequest.key,
      'Content-Type': 'image/png',
      success_action_status: '201',
      'X-Amz-Credential': 'AKIDPLINTHTEST/20260301/eu-west-1/s3/aws4_request',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Date': '20260301T083015Z',
    });
    expect(createPostPolicy({ ...baseRequest, endpoint: 'https://s3.eu-west-1.amazonaws.com' }).url).toBe(
      'https://s3.eu-west-1.amazonaws.com/plinth-uploads',
    );
  });

  it('pins every condition S3 checks, and the signature recomputes from the Policy field', () => {
    const { fields } = createPostPolicy({ ...baseRequest, extraFields: { success_action_status: '201' } });
    const policy = decodePolicy(fields.Policy);
    expect(policy.expiration).toBe('2026-03-01T08:40:15.000Z');
    expect(policy.conditions).toEqual([
      { bucket: 'plinth-uploads' },
      ['eq', '$key', baseRequest.key],
      ['eq', '$Content-Type', 'image/png'],
      ['content-length-range', 1, 5_000_000],
      ['eq', '$success_action_status', '201'],
      { 'x-amz-credential': 'AKIDPLINTHTEST/20260301/eu-west-1/s3/aws4_request' },
      { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' },
      { 'x-amz-date': '20260301T083015Z' },
    ]);
    const key = signingKey(baseRequest.secretAccessKey, '20260301', 'eu-west-1', 's3');
    expect(fields['X-Amz-Signature']).toBe(
      createHmac('sha256', key)
        .update(fields.Policy ?? '', 'utf8')
        .digest('hex'),
    );
    expect(fields['X-Amz-Signature']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('carries a session token in the form and in the policy', () => {
    const { fields } = createPostPolicy({ ...baseRequest, sessionToken: 'FwoGZXIvYXdzEXAMPLETOKEN' });
    expect(Object.keys(fields).slice(-3)).toEqual(['X-Amz-Security-Token', 'Policy', 'X-Amz-Signature']);
    expect(fields['X-Amz-Security-Token']).toBe('FwoGZXIvYXdzEXAMPLETOKEN');
    expect(decodePolicy(fields.Policy).conditions).toContainEqual({
      'x-amz-security-token': 'FwoGZXIvYXdzEXAMPLETOKEN',
    });
    expect(createPostPolicy({ ...baseRequest, sessionToken: undefined }).fields).not.toHaveProperty(
      'X-Amz-Security-Token',
    );
  });

  it('signs a different policy when the key, the size range or the type changes', () => {
    const signatureOf = (request: PostPolicyRequest) => createPostPolicy(request).fields['X-Amz-Signature'];
    const base = signatureOf(baseRequest);
    const variants = [
      signatureOf({ ...baseRequest, key: 'avatars/user-43/ü photo.png' }),
      signatureOf({ ...baseRequest, minBytes: 0 }),
      signatureOf({ ...baseRequest, maxBytes: 5_000_001 }),
      signatureOf({ ...baseRequest, contentType: 'image/jpeg' }),
    ];
    for (const variant of variants) expect(variant).not.toBe(base);
    expect(new Set(variants).size).toBe(variants.length);
    // Same inputs, same signature: nothing but the request goes into it.
    expect(signatureOf({ ...baseRequest })).toBe(base);
  });

  it('refuses a size range upside down, an expiry not in the future, and fields it sets itself', () => {
    expect(() => createPostPolicy({ ...baseRequest, minBytes: 10, maxBytes: 9 })).toThrow(/minBytes \(10\).*maxBytes/);
    expect(() => createPostPolicy({ ...baseRequest, expiresAt: new Date('2026-03-01T08:30:00.000Z') })).toThrow(
      /future expiresAt/,
    );
    expect(() => createPostPolicy({ ...baseRequest, expiresAt: fixedNow })).toThrow(/future expiresAt/);
    expect(() => createPostPolicy({ ...baseRequest, minBytes: -1 })).toThrow(RangeError);
    expect(() => createPostPolicy({ ...baseRequest, maxBytes: 1.5 })).toThrow(RangeError);
    expect(() => createPostPolicy({ ...baseRequest, extraFields: { policy: 'x' } })).toThrow(/sets itself/);
    expect(() => createPostPolicy({ ...baseRequest, extraFields: { 'X-AMZ-DATE': 'x' } })).toThrow(/sets itself/);
    expect(() => createPostPolicy({ ...baseRequest, key: `avatars/\${filename}` })).toThrow(/exact key/);
    expect(() => createPostPolicy({ ...baseRequest, endpoint: 'minio:9000' })).toThrow(/http:\/\/ or https:\/\//);
    expect(() => createPostPolicy({ ...baseRequest, bucket: '' })).toThrow(/bucket/);
  });

  it('signs with the current time when no `now` is given', () => {
    const { now: _now, ...request } = baseRequest;
    const expiresAt = new Date(Date.now() + 600_000);
    const { fields } = createPostPolicy({ ...request, expiresAt });
    expect(fields['X-Amz-Date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(decodePolicy(fields.Policy).expiration).toBe(expiresAt.toISOString());
  });
});
