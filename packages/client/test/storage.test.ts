import { createClient, MissingServiceKeyError, uploadToUrl } from '@plinth/client';
import * as storage from '@plinth/storage';
import { HttpResponse, http } from 'msw';
import { describe, expect, it, vi } from 'vitest';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';

// Wrap the real createStorageClient in a spy, to see when the umbrella client builds one.
vi.mock('@plinth/storage', async (importOriginal) => {
  const original = await importOriginal<typeof import('@plinth/storage')>();
  return { ...original, createStorageClient: vi.fn(original.createStorageClient) };
});

const mock = useMockServer();
const serviceKey = 'sk_test_0123456789abcdef0123456789abcdef';

describe('plinth.storage', () => {
  it('is built on first read, once, over the client’s transport', () => {
    const create = vi.mocked(storage.createStorageClient);
    create.mockClear();
    const plinth = createClient({ url: apiUrl, publishableKey: 'pk_test', serviceKey });
    expect(create).not.toHaveBeenCalled();
    const first = plinth.storage;
    expect(create).toHaveBeenCalledTimes(1);
    expect(create).toHaveBeenCalledWith(plinth.transport);
    expect(plinth.storage).toBe(first);
  });

  it('mints an upload URL with the service key', async () => {
    const grant = {
      url: `${apiUrl}/v1/storage/uploads/00000000-0000-4000-8000-000000000001?expires=1&signature=${'a'.repeat(43)}`,
      method: 'PUT',
      headers: { 'content-type': 'image/png' },
      expiresAt: new Date().toISOString(),
      uploadId: '00000000-0000-4000-8000-000000000001',
    };
    mock.use(http.post(`${apiUrl}/v1/storage/buckets/avatars/upload-urls`, () => HttpResponse.json(grant)));
    const plinth = createClient({ url: apiUrl, publishableKey: 'pk_test', serviceKey });
    await expect(
      plinth.storage.from('avatars').createUploadUrl('ada.png', { contentTypes: ['image/png'] }),
    ).resolves.toEqual(grant);
    const [request] = mock.requests;
    expect(request?.headers.get('authorization')).toBe(`Bearer ${serviceKey}`);
    expect(await request?.json()).toEqual({ contentTypes: ['image/png'], key: 'ada.png' });
  });

  it('throws MissingServiceKeyError synchronously without the service key, and sends nothing', () => {
    const plinth = createClient({ url: apiUrl, publishableKey: 'pk_test' });
    expect(() => plinth.storage.from('avatars').createUploadUrl('ada.png')).toThrow(MissingServiceKeyError);
    expect(() => plinth.storage.listBuckets()).toThrow(MissingServiceKeyError);
    expect(mock.requests).toHaveLength(0);
  });

  it('exports uploadToUrl, the browser’s way to send the bytes', () => {
    expect(uploadToUrl).toBe(storage.uploadToUrl);
  });
});
