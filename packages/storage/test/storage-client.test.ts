import { ConflictError, NotFoundError, ValidationError } from '@plinth/core';
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';
import { grantFor, objectInfo, serviceStorage } from './fixtures/storage-client.js';

// The management calls as they go over the wire: method, path, query, body and credentials,
// and what each resolves to out of the server's answer.
const mock = useMockServer();
const storage = serviceStorage();

const bucket = {
  name: 'avatars',
  public: false,
  allowedContentTypes: ['image/png'],
  maxObjectBytes: 1000,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

/** The one request that went out, with its JSON body (undefined for a GET). */
async function onlyRequest() {
  expect(mock.requests).toHaveLength(1);
  const request = mock.requests[0] as Request;
  const text = await request.clone().text();
  return { request, url: new URL(request.url), body: text ? (JSON.parse(text) as unknown) : undefined };
}

const envelope = (code: string, message: string, details?: Record<string, unknown>) => ({
  error: { code, message, requestId: 'req_server', ...(details ? { details } : {}) },
});

describe('buckets', () => {
  it('createBucket() posts the options and resolves to the bucket', async () => {
    mock.use(http.post(`${apiUrl}/v1/storage/buckets`, () => HttpResponse.json({ bucket })));
    const made = await storage.createBucket({
      name: 'avatars',
      allowedContentTypes: ['image/png'],
      maxObjectBytes: 1000,
    });
    expect(made).toEqual(bucket);
    const { request, url, body } = await onlyRequest();
    expect(request.method).toBe('POST');
    expect(url.pathname).toBe('/v1/storage/buckets');
    expect(body).toEqual({ name: 'avatars', allowedContentTypes: ['image/png'], maxObjectBytes: 1000 });
    expect(request.headers.get('authorization')).toMatch(/^Bearer sk_test_/);
  });

  it('createBucket() rejects with the server’s ConflictError for a name in use', async () => {
    mock.use(
      http.post(`${apiUrl}/v1/storage/buckets`, () =>
        HttpResponse.json(envelope('conflict', 'A bucket named avatars already exists.', { field: 'name' }), {
          status: 409,
        }),
      ),
    );
    const refused = await storage.createBucket({ name: 'avatars' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConflictError);
    expect(refused).toMatchObject({ message: 'A bucket named avatars already exists.', details: { field: 'name' } });
  });

  it('listBuckets() gets them and resolves to the list', async () => {
    mock.use(http.get(`${apiUrl}/v1/storage/buckets`, () => HttpResponse.json({ buckets: [bucket] })));
    expect(await storage.listBuckets()).toEqual([bucket]);
    const { request, url } = await onlyRequest();
    expect(request.method).toBe('GET');
    expect(url.pathname).toBe('/v1/storage/buckets');
    expect(url.search).toBe('');
  });
});

describe('from(bucket)', () => {
  it('createUploadUrl() posts the key and options under the bucket’s path and resolves to the grant', async () => {
    const grant = grantFor();
    mock.use(http.post(`${apiUrl}/v1/storage/buckets/avatars/upload-urls`, () => HttpResponse.json(grant)));
    const options = {
      contentTypes: ['image/png'],
      minBytes: 1,
      maxBytes: 2_000_000,
      expiresIn: 60,
      userId: '00000000-0000-4000-8000-000000000001',
      metadata: { alt: 'Ada' },
    };
    expect(await storage.from('avatars').createUploadUrl('users/ada.png', options)).toEqual(grant);
    const { request, url, body } = await onlyRequest();
    expect(request.method).toBe('POST');
    expect(url.pathname).toBe('/v1/storage/buckets/avatars/upload-urls');
    expect(body).toEqual({ key: 'users/ada.png', ...options });
    expect(request.headers.get('authorization')).toMatch(/^Bearer sk_test_/);
  });

  it('createUploadUrl() sends the key it was given even when the options carry another bucket or key', async () => {
    mock.use(http.post(`${apiUrl}/v1/storage/buckets/avatars/upload-urls`, () => HttpResponse.json(grantFor())));
    const sneaky = { bucket: 'secrets', key: 'other', maxBytes: 10 } as unknown as Parameters<
      ReturnType<typeof storage.from>['createUploadUrl']
    >[1];
    await storage.from('avatars').createUploadUrl('ada.png', sneaky);
    const { url, body } = await onlyRequest();
    expect(url.pathname).toBe('/v1/storage/buckets/avatars/upload-urls');
    expect(body).toEqual({ key: 'ada.png', maxBytes: 10 });
  });

  it('createMultipartUpload() posts the key, options and part size, and resolves to the grant', async () => {
    const grant = {
      url: `${apiUrl}/v1/storage/multipart/6f1c1f3e-6a43-4c57-9d7e-2b8c3a0d5e11?expires=4102444800&signature=${'s'.repeat(43)}`,
      uploadId: '6f1c1f3e-6a43-4c57-9d7e-2b8c3a0d5e11',
      partSize: 16 * 1024 * 1024,
      expiresAt: '2100-01-01T00:00:00.000Z',
      contentTypes: ['video/mp4'],
    };
    mock.use(http.post(`${apiUrl}/v1/storage/buckets/videos/multipart-uploads`, () => HttpResponse.json(grant)));
    const options = {
      contentTypes: ['video/mp4'],
      maxBytes: 5 * 1024 ** 3,
      partSize: 16 * 1024 * 1024,
      expiresIn: 86_400,
    };
    // A bucket or key among the options cannot redirect the grant.
    const sneaky = { ...options, bucket: 'secrets', key: 'other' } as typeof options;
    expect(await storage.from('videos').createMultipartUpload('talks/keynote.mp4', sneaky)).toEqual(grant);
    const { request, url, body } = await onlyRequest();
    expect(request.method).toBe('POST');
    expect(url.pathname).toBe('/v1/storage/buckets/videos/multipart-uploads');
    expect(body).toEqual({ key: 'talks/keynote.mp4', ...options });
    expect(request.headers.get('authorization')).toMatch(/^Bearer sk_test_/);
  });

  it('createMultipartUpload() rejects with the server’s ValidationError for a part size out of range', async () => {
    mock.use(
      http.post(`${apiUrl}/v1/storage/buckets/videos/multipart-uploads`, () =>
        HttpResponse.json(envelope('validation_failed', 'partSize: expected at least 65536', { field: 'partSize' }), {
          status: 400,
        }),
      ),
    );
    const refused = await storage
      .from('videos')
      .createMultipartUpload('a.mp4', { partSize: 1000 })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ValidationError);
    expect(refused).toMatchObject({ details: { field: 'partSize' } });
  });

  it('encodes a bucket name that would leave its path segment, and the server judges it', async () => {
    mock.use(
      http.post(`${apiUrl}/v1/storage/buckets/:bucket/upload-urls`, ({ params }) =>
        HttpResponse.json(
          envelope('validation_failed', `bucket: bad name ${String(params.bucket)}`, { field: 'bucket' }),
          {
            status: 400,
          },
        ),
      ),
    );
    const refused = await storage
      .from('../admin')
      .createUploadUrl('x')
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ValidationError);
    const { url } = await onlyRequest();
    expect(url.pathname).toBe('/v1/storage/buckets/..%2Fadmin/upload-urls');
  });

  it('info() gets the object by key in the query string and resolves to it', async () => {
    const object = objectInfo(123);
    mock.use(http.get(`${apiUrl}/v1/storage/buckets/avatars/object`, () => HttpResponse.json({ object })));
    expect(await storage.from('avatars').info('users/ada & bob?.png')).toEqual(object);
    const { request, url } = await onlyRequest();
    expect(request.method).toBe('GET');
    expect(url.pathname).toBe('/v1/storage/buckets/avatars/object');
    expect(url.searchParams.getAll('key')).toEqual(['users/ada & bob?.png']);
  });

  it('info() rejects with NotFoundError and the server’s message for a missing object', async () => {
    mock.use(
      http.get(`${apiUrl}/v1/storage/buckets/avatars/object`, () =>
        HttpResponse.json(envelope('not_found', 'There is no object x in bucket avatars.', { field: 'key' }), {
          status: 404,
        }),
      ),
    );
    const missing = await storage
      .from('avatars')
      .info('x')
      .catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toMatchObject({ message: 'There is no object x in bucket avatars.', requestId: 'req_server' });
  });

  it.each([
    ['one key', 'a.png' as string | string[], ['a.png']],
    ['a list', ['a.png', 'b/c.png'], ['a.png', 'b/c.png']],
  ])('remove() with %s posts the keys, retry-safe, and resolves to the removed ones', async (_, keys, sent) => {
    mock.use(http.post(`${apiUrl}/v1/storage/buckets/avatars/remove`, () => HttpResponse.json({ removed: ['a.png'] })));
    expect(await storage.from('avatars').remove(keys)).toEqual(['a.png']);
    const { request, url, body } = await onlyRequest();
    expect(request.method).toBe('POST');
    expect(url.pathname).toBe('/v1/storage/buckets/avatars/remove');
    expect(body).toEqual({ keys: sent });
    expect(request.headers.get('idempotency-key')).toMatch(/^[0-9a-f]{32}$/);
  });

  it('passes call options through: an aborted signal sends nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    const aborted = await storage
      .from('avatars')
      .info('x', { signal: controller.signal })
      .catch((error: unknown) => error);
    expect(aborted).toMatchObject({ name: 'AbortError', isAbort: true });
    expect((aborted as Error).message).toContain('/v1/storage/buckets/:bucket/object');
  });
});
