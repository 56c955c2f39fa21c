import {
  ConfigurationError,
  NetworkError,
  PermissionError,
  ProtocolError,
  ServerError,
  ValidationError,
} from '@plinth/core';
import type { UploadGrant } from '@plinth/protocol';
import { type UploadProgress, uploadToUrl } from '@plinth/storage';
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';
import { failure, objectInfo, patterned, streamOf, uploadId } from './fixtures/storage-client.js';

// uploadToUrl with a POST grant, as a server keeping files in S3 makes one, over fetch (Node has
// no XMLHttpRequest): an HTML form upload straight to a stand-in S3 bucket, then the completion
// on the Plinth server; and the error class and message for every way either can fail.
const mock = useMockServer();
const bucketUrl = 'https://avatars.s3.eu-west-1.amazonaws.test/';
const completePath = `${apiUrl}/v1/storage/uploads/${uploadId}/complete`;
const completeQuery = `?expires=4102444800&signature=${'c'.repeat(43)}`;
const policy = Buffer.from(JSON.stringify({ expiration: '2100-01-01T00:00:00.000Z', conditions: [] })).toString(
  'base64',
);
const s3Signature = 'e'.repeat(64);

function postGrant(fields: Record<string, string> = { 'Content-Type': 'image/png' }): UploadGrant {
  return {
    url: bucketUrl,
    method: 'POST',
    headers: {},
    fields: {
      key: `staging/${uploadId}`,
      ...fields,
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'AKIDEXAMPLE/20260101/eu-west-1/s3/aws4_request',
      'X-Amz-Date': '20260101T000000Z',
      Policy: policy,
      'X-Amz-Signature': s3Signature,
    },
    completeUrl: `${completePath}${completeQuery}`,
    expiresAt: '2100-01-01T00:00:00.000Z',
    uploadId,
  };
}

interface Received {
  headers: Headers;
  /** The form's entries, in order. */
  entries: [string, FormDataEntryValue][];
}

/** The bucket taking form uploads (S3's default answer: 204, no body) and the completion. */
function serveS3({ bucket, complete }: { bucket?: () => Response; complete?: () => Response } = {}) {
  const server = { uploads: [] as Received[], completions: [] as Request[], stored: new Uint8Array(0) };
  mock.use(
    http.post(bucketUrl, async ({ request }) => {
      const headers = request.headers;
      const form = await request.formData();
      server.uploads.push({ headers, entries: [...form.entries()] });
      const file = form.get('file');
      if (file instanceof Blob) server.stored = new Uint8Array(await file.arrayBuffer());
      return bucket?.() ?? new HttpResponse(null, { status: 204 });
    }),
    http.post(completePath, async ({ request }) => {
      server.completions.push(request.clone());
      return (
        complete?.() ??
        HttpResponse.json({
          object: objectInfo(server.stored.length, String(server.uploads[0]?.entries[1]?.[1] ?? '')),
        })
      );
    }),
  );
  return server;
}

/** A refusal as S3 words it, with the elements that must stay out of any message. */
const s3Refusal = (status: number, code: string, message: string) =>
  new HttpResponse(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><StringToSign>AWS4-HMAC-SHA256 secret-ish</StringToSign><SignatureProvided>${s3Signature}</SignatureProvided><RequestId>4442587FB7D0A2F9</RequestId><HostId>host</HostId></Error>`,
    { status, headers: { 'content-type': 'application/xml' } },
  );

/** Fails the test if `message` gives away any part of the grant's permission. */
function expectNoSecrets(message: string) {
  expect(message).not.toContain(s3Signature);
  expect(message).not.toContain(policy.slice(0, 20));
  expect(message).not.toContain('c'.repeat(43));
  expect(message).not.toContain('secret-ish');
  expect(message).not.toContain('X-Amz');
}

describe('what goes out', () => {
  it.each([
    ['a Uint8Array', (bytes: Uint8Array) => bytes],
    ['a Blob', (bytes: Uint8Array) => new Blob([bytes as BlobPart], { type: 'text/plain' })],
    ['a ReadableStream', (bytes: Uint8Array) => streamOf([bytes.subarray(0, 1000), bytes.subarray(1000)])],
  ] as const)(
    '%s: the fields in order, the file last with the declared type, then the completion once',
    async (_, bodyOf) => {
      const server = serveS3();
      const bytes = patterned(300_000);
      const grant = postGrant();
      const events: UploadProgress[] = [];
      const object = await uploadToUrl(grant, bodyOf(bytes), { onProgress: (event) => events.push(event) });

      expect(server.uploads).toHaveLength(1);
      const [{ headers, entries }] = server.uploads as [Received];
      expect(entries.map(([name]) => name)).toEqual([...Object.keys(grant.fields ?? {}), 'file']);
      for (const [name, value] of entries.slice(0, -1)) expect(value, name).toBe(grant.fields?.[name]);
      const file = entries.at(-1)?.[1] as File;
      expect(file.type).toBe('image/png');
      expect(Buffer.from(await file.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
      // Only the form: a header of the SDK's would be one more the bucket's CORS rules must allow.
      expect(headers.get('content-type')).toMatch(/^multipart\/form-data; boundary=/);
      expect(headers.get('x-request-id')).toBeNull();
      expect(headers.get('authorization')).toBeNull();
      expect(headers.get('cookie')).toBeNull();

      expect(server.completions).toHaveLength(1);
      const [completion] = server.completions as [Request];
      expect(completion.url).toBe(grant.completeUrl);
      expect(completion.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
      expect(completion.headers.get('cookie')).toBeNull();
      // The size sent, so that the server tells a cut upload from a whole one.
      expect(await completion.json()).toEqual({ size: bytes.length });

      expect(object).toEqual(objectInfo(bytes.length, 'image/png'));
      // fetch tells nothing of a form's progress: the end, once.
      expect(events).toEqual([{ loaded: bytes.length, total: bytes.length }]);
    },
  );

  it.each([
    ['the option’s', 'image/webp', 'text/plain', 'image/webp'],
    ['the Blob’s, when the option says none', undefined, 'image/gif', 'image/gif'],
    ['application/octet-stream, when nothing says', undefined, '', 'application/octet-stream'],
  ])(
    'a grant that fixes no type: %s, as a Content-Type field after the grant’s and as the file’s',
    async (_, contentType, blobType, sent) => {
      const server = serveS3();
      const grant = postGrant({});
      await uploadToUrl(grant, new Blob(['x'], { type: blobType }), { contentType });
      const entries = server.uploads[0]?.entries ?? [];
      // The grant's policy lets any Content-Type through; S3 keeps it as the object's.
      expect(entries.map(([name]) => name)).toEqual([...Object.keys(grant.fields ?? {}), 'Content-Type', 'file']);
      expect(entries.at(-2)?.[1]).toBe(sent);
      expect((entries.at(-1)?.[1] as File | undefined)?.type).toBe(sent);
    },
  );

  it('a grant that fixes the type: its Content-Type field only, whatever else is said', async () => {
    const server = serveS3();
    const grant = postGrant({ 'Content-Type': 'image/png' });
    await uploadToUrl(grant, new Blob(['x'], { type: 'text/plain' }), { contentType: 'text/html' });
    const entries = server.uploads[0]?.entries ?? [];
    expect(entries.filter(([name]) => name.toLowerCase() === 'content-type')).toEqual([['Content-Type', 'image/png']]);
    expect((entries.at(-1)?.[1] as File | undefined)?.type).toBe('image/png');
  });

  it('takes S3’s 201 with its XML answer (success_action_status) as the bytes stored', async () => {
    const server = serveS3({
      bucket: () =>
        new HttpResponse('<PostResponse><Key>staging/x</Key><ETag>"abc"</ETag></PostResponse>', {
          status: 201,
          headers: { 'content-type': 'application/xml' },
        }),
    });
    expect(await uploadToUrl(postGrant(), patterned(10))).toEqual(objectInfo(10));
    expect(server.completions).toHaveLength(1);
  });
});

describe('S3’s refusals: the class its status says, S3’s code and message, no completion', () => {
  it.each([
    [403, 'AccessDenied', 'Invalid according to Policy: Policy expired.', PermissionError, 'permission_denied'],
    [
      403,
      'AccessDenied',
      'Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", "image/png"]',
      PermissionError,
      'permission_denied',
    ],
    [
      400,
      'EntityTooLarge',
      'Your proposed upload exceeds the maximum allowed size',
      ValidationError,
      'validation_failed',
    ],
    [
      400,
      'EntityTooSmall',
      'Your proposed upload is smaller than the minimum allowed size',
      ValidationError,
      'validation_failed',
    ],
    [503, 'SlowDown', 'Please reduce your request rate.', ServerError, 'internal_error'],
  ] as const)('%i %s', async (status, code, message, errorClass, plinthCode) => {
    const server = serveS3({ bucket: () => s3Refusal(status, code, message) });
    const error = await failure(uploadToUrl(postGrant(), patterned(1000)));
    expect(error).toBeInstanceOf(errorClass);
    expect(error).toMatchObject({ status, code: plinthCode });
    expect(error.message).toBe(
      `S3 refused it (${code}: ${message}); ask your server for a new grant if this one expired, for a file within its limits.`,
    );
    expectNoSecrets(error.message);
    expect(server.completions).toHaveLength(0);
  });

  it('a refusal that is not S3’s XML (a proxy’s page): the class of its status, saying a proxy answered', async () => {
    serveS3({ bucket: () => HttpResponse.html('<html><body>502 Bad Gateway</body></html>', { status: 502 }) });
    const error = await failure(uploadToUrl(postGrant(), patterned(10)));
    expect(error).toBeInstanceOf(ServerError);
    expect(error.message).toMatch(/proxy/);
  });

  it('no answer from S3: NetworkError naming the bucket, without the signature or the policy, and no completion', async () => {
    const server = serveS3({ bucket: () => HttpResponse.error() });
    const error = await failure(uploadToUrl(postGrant(), patterned(10)));
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.message).toContain(`POST ${bucketUrl} failed`);
    expect(error.message).toContain('again with the same grant');
    expectNoSecrets(error.message);
    expect(server.completions).toHaveLength(0);
  });
});

describe('the completion’s refusals: the Plinth server’s class, code and message', () => {
  it.each([
    [400, 'validation_failed', 'The file is not of the type it was declared as (image/png).', ValidationError],
    [413, 'payload_too_large', 'The upload is over this URL’s 100-byte limit.', ValidationError],
    [
      403,
      'permission_denied',
      'This upload URL was already used; each takes one upload. Ask your server for a new one.',
      PermissionError,
    ],
  ] as const)('%i %s', async (status, code, message, errorClass) => {
    const server = serveS3({
      complete: () => HttpResponse.json({ error: { code, message, requestId: 'req_server' } }, { status }),
    });
    const error = await failure(uploadToUrl(postGrant(), patterned(1000)));
    expect(error).toBeInstanceOf(errorClass);
    expect(error).toMatchObject({ code, message, status, requestId: 'req_server' });
    expect(server.uploads).toHaveLength(1);
    expect(server.completions).toHaveLength(1);
  });

  it('no answer: NetworkError naming the completion URL, without its signature', async () => {
    serveS3({ complete: () => HttpResponse.error() });
    const error = await failure(uploadToUrl(postGrant(), patterned(10)));
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.message).toContain(`POST ${completePath} failed`);
    expectNoSecrets(error.message);
  });

  it('a 200 that is not an object: ProtocolError naming createUploadUrl()', async () => {
    serveS3({ complete: () => HttpResponse.json({ ok: true }) });
    const error = await failure(uploadToUrl(postGrant(), patterned(10)));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toContain(`POST ${completePath}`);
    expect(error.message).toContain('createUploadUrl()');
  });
});

describe('hostile grants, refused before any request', () => {
  it.each([
    ['no completeUrl', { ...postGrant(), completeUrl: undefined }],
    ['a relative completeUrl', { ...postGrant(), completeUrl: '/v1/storage/uploads/x/complete' }],
    ['a javascript: completeUrl', { ...postGrant(), completeUrl: 'javascript:alert(1)' }],
  ])('%s: ConfigurationError', async (_, grant) => {
    const error = await failure(uploadToUrl(grant as UploadGrant, patterned(10)));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toContain('createUploadUrl()');
    expect(mock.requests).toHaveLength(0);
  });
});
