import { MissingServiceKeyError } from '@plinth/core';
import { sql } from '@plinth/query';
import { describe, expect, it } from 'vitest';
import { useMockServer } from '../../../test/fixtures/msw-server.js';
import { thrownSynchronously } from '../../../test/fixtures/thrown-synchronously.js';
import { browserClient } from './fixtures/query-client.js';

// Every data method throws synchronously on a client without a service key: the throw happens
// at the call (no promise is returned) and nothing reaches the network. The msw server answers
// nothing, so a request that did go out would also fail the test as unhandled.
const mock = useMockServer();
const db = browserClient();

describe('MissingServiceKeyError, synchronously, with zero requests', () => {
  it.each([
    ['from()', () => db.from('posts'), 'from("posts")'],
    [
      'from().select()',
      () => db.from('posts').select('id, title').where({ status: 'live' }).limit(20),
      'from("posts")',
    ],
    ['from().insert()', () => db.from('posts').insert({ author_id: 'u1', title: 't' }), 'from("posts")'],
    ['from().update()', () => db.from('posts').update({ title: 't' }).where({ id: 'p1' }), 'from("posts")'],
    [
      'from().upsert()',
      () => db.from('posts').upsert({ author_id: 'u1', title: 't' }, { onConflict: 'id' }),
      'from("posts")',
    ],
    ['from().delete()', () => db.from('posts').delete().where({ id: 'p1' }), 'from("posts")'],
    ['sql``', () => db.sql`select * from posts where id = ${'p1'}`, 'sql``'],
    ['batch()', () => db.batch([sql`select ${1}`]), 'batch()'],
    ['as()', () => db.as('anon'), 'as()'],
  ])('%s', async (_, call, caller) => {
    const error = thrownSynchronously(call);
    expect(error).toBeInstanceOf(MissingServiceKeyError);
    expect(error).toMatchObject({ code: 'missing_service_key', name: 'MissingServiceKeyError' });
    expect((error as Error).message.startsWith(`${caller} needs a service key`)).toBe(true);
    // Let anything that might have been scheduled run before counting.
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(mock.requests).toHaveLength(0);
  });
});
