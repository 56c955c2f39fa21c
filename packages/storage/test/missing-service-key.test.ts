import { MissingServiceKeyError } from '@plinth/core';
import { describe, expect, it } from 'vitest';
import { useMockServer } from '../../../test/fixtures/msw-server.js';
import { thrownSynchronously } from '../../../test/fixtures/thrown-synchronously.js';
import { browserStorage } from './fixtures/storage-client.js';

// Every management method throws synchronously on a client without a service key: the throw
// happens at the call (no promise is returned) and nothing reaches the network. The msw server
// answers nothing, so a request that did go out would also fail the test as unhandled.
const mock = useMockServer();
const storage = browserStorage();

describe('MissingServiceKeyError, synchronously, with zero requests', () => {
  it.each([
    ['createBucket()', () => storage.createBucket({ name: 'avatars' }), 'storage.createBucket()'],
    ['listBuckets()', () => storage.listBuckets(), 'storage.listBuckets()'],
    [
      'from().createUploadUrl()',
      () => storage.from('avatars').createUploadUrl('ada.png', { contentTypes: ['image/png'] }),
      'storage.from("avatars").createUploadUrl()',
    ],
    [
      'from().createMultipartUpload()',
      () => storage.from('avatars').createMultipartUpload('talk.mp4', { partSize: 16 * 1024 * 1024 }),
      'storage.from("avatars").createMultipartUpload()',
    ],
    ['from().info()', () => storage.from('avatars').info('ada.png'), 'storage.from("avatars").info()'],
    ['from().remove()', () => storage.from('avatars').remove(['ada.png']), 'storage.from("avatars").remove()'],
    ['from().remove(key)', () => storage.from('avatars').remove('ada.png'), 'storage.from("avatars").remove()'],
    [
      'from().createDownloadUrl()',
      () => storage.from('avatars').createDownloadUrl('ada.png'),
      'storage.from("avatars").createDownloadUrl()',
    ],
    ['from().list()', () => storage.from('avatars').list({ prefix: 'a/' }), 'storage.from("avatars").list()'],
    ['from().move()', () => storage.from('avatars').move('a', 'b'), 'storage.from("avatars").move()'],
    ['from().copy()', () => storage.from('avatars').copy('a', 'b'), 'storage.from("avatars").copy()'],
  ])('%s', async (_, call, caller) => {
    const error = thrownSynchronously(call);
    expect(error).toBeInstanceOf(MissingServiceKeyError);
    expect(error).toMatchObject({ code: 'missing_service_key', name: 'MissingServiceKeyError' });
    expect((error as Error).message.startsWith(`${caller} needs a service key`)).toBe(true);
    // The message points the browser at the way it can upload.
    expect((error as Error).message).toContain('presigned upload URL');
    // Let anything that might have been scheduled run before counting.
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(mock.requests).toHaveLength(0);
  });

  it('names a bucket as written, quotes and all', () => {
    const error = thrownSynchronously(() => storage.from('it\'s "x"').info('k'));
    expect((error as Error).message.startsWith('storage.from("it\'s \\"x\\"").info() needs a service key')).toBe(true);
  });
});
