import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AwsClient } from 'aws4fetch';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestS3, type TestS3 } from '../fixtures/s3-server.js';

// The S3 test server the S3 driver's tests run against: s3rver in a child process, plus the
// ListParts and AbortMultipartUpload it lacks. These tests pin what the driver may rely on, what
// s3rver does not check (signatures, POST policies), and that the process never outlives its test.

let s3: TestS3;
let client: AwsClient;
beforeAll(async () => {
  s3 = await startTestS3({ bucket: 'fixture-bucket' });
  const { accessKeyId, secretAccessKey, region } = s3;
  // No retries: a failing call should fail the test at once, not after aws4fetch's back-off.
  client = new AwsClient({ accessKeyId, secretAccessKey, region, service: 's3', retries: 0 });
});
afterAll(() => s3?.close());

const url = (key: string, query = '') => `${s3.endpoint}/${s3.bucket}/${key}${query}`;
const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');
const entities: Record<string, string> = { quot: '"', amp: '&', lt: '<', gt: '>', apos: "'" };
/** The text of every `<tag>` in `xml`, entities decoded; enough for S3's flat answers. */
const texts = (xml: string, tag: string) =>
  [...xml.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((match) =>
    (match[1] ?? '').replace(/&(quot|amp|lt|gt|apos);/g, (_, name: string) => entities[name] ?? ''),
  );
const text = (xml: string, tag: string) => texts(xml, tag)[0];

async function createUpload(key: string): Promise<string> {
  const response = await client.fetch(url(key, '?uploads'), { method: 'POST' });
  expect(response.status).toBe(200);
  const uploadId = text(await response.text(), 'UploadId');
  expect(uploadId).toMatch(/^\w+$/);
  return uploadId as string;
}

async function uploadPart(
  key: string,
  uploadId: string,
  partNumber: number,
  bytes: Uint8Array<ArrayBuffer>,
): Promise<string> {
  const response = await client.fetch(url(key, `?partNumber=${partNumber}&uploadId=${uploadId}`), {
    method: 'PUT',
    body: bytes,
  });
  expect(response.status).toBe(200);
  return response.headers.get('etag') as string;
}

const listParts = (key: string, uploadId: string) => client.fetch(url(key, `?uploadId=${uploadId}`));

describe('the S3 test server', () => {
  it('puts, gets a range of, copies and deletes an object', async () => {
    const bytes = new TextEncoder().encode('0123456789');
    const put = await client.fetch(url('objects/a.txt'), { method: 'PUT', body: bytes });
    expect(put.status).toBe(200);
    expect(put.headers.get('etag')).toBe(`"${md5(bytes)}"`);

    const range = await client.fetch(url('objects/a.txt'), { headers: { range: 'bytes=2-5' } });
    expect(range.status).toBe(206);
    expect(range.headers.get('content-range')).toBe('bytes 2-5/10');
    expect(await range.text()).toBe('2345');

    const copy = await client.fetch(url('objects/b.txt'), {
      method: 'PUT',
      headers: { 'x-amz-copy-source': `/${s3.bucket}/objects/a.txt` },
    });
    expect(copy.status).toBe(200);
    expect(text(await copy.text(), 'ETag')).toBe(`"${md5(bytes)}"`);
    expect(await (await client.fetch(url('objects/b.txt'))).text()).toBe('0123456789');

    expect((await client.fetch(url('objects/a.txt'), { method: 'DELETE' })).status).toBe(204);
    const gone = await client.fetch(url('objects/a.txt'));
    expect(gone.status).toBe(404);
    expect(text(await gone.text(), 'Code')).toBe('NoSuchKey');
  });

  it('lists the parts of a multipart upload, completes it, and then no longer knows the upload', async () => {
    const key = 'multipart/done.bin';
    const first = new Uint8Array(5 * 1024 * 1024).map((_, index) => index % 251);
    const second = new TextEncoder().encode('the small last part');
    const uploadId = await createUpload(key);
    // Out of order, so the listing's order is the fixture's doing.
    const secondEtag = await uploadPart(key, uploadId, 2, second);
    const firstEtag = await uploadPart(key, uploadId, 1, first);
    expect(firstEtag).toBe(`"${md5(first)}"`);

    const listed = await listParts(key, uploadId);
    expect(listed.status).toBe(200);
    const xml = await listed.text();
    expect(text(xml, 'Bucket')).toBe(s3.bucket);
    expect(text(xml, 'Key')).toBe(key);
    expect(text(xml, 'UploadId')).toBe(uploadId);
    expect(texts(xml, 'PartNumber')).toEqual(['1', '2']);
    expect(texts(xml, 'ETag')).toEqual([firstEtag, secondEtag]);
    expect(texts(xml, 'Size')).toEqual([String(first.length), String(second.length)]);
    expect(texts(xml, 'LastModified').every((date) => !Number.isNaN(Date.parse(date)))).toBe(true);

    const parts = [
      [1, firstEtag],
      [2, secondEtag],
    ].map(([number, etag]) => `<Part><PartNumber>${number}</PartNumber><ETag>${etag}</ETag></Part>`);
    const completed = await client.fetch(url(key, `?uploadId=${uploadId}`), {
      method: 'POST',
      body: `<CompleteMultipartUpload>${parts.join('')}</CompleteMultipartUpload>`,
    });
    expect(completed.status).toBe(200);

    const whole = new Uint8Array(await (await client.fetch(url(key))).arrayBuffer());
    expect(whole.length).toBe(first.length + second.length);
    expect(md5(whole)).toBe(md5(Buffer.concat([first, second])));

    const after = await listParts(key, uploadId);
    expect(after.status).toBe(404);
    expect(text(await after.text(), 'Code')).toBe('NoSuchUpload');
  });

  it('aborts a multipart upload, after which it answers NoSuchUpload', async () => {
    const key = 'multipart/aborted.bin';
    const uploadId = await createUpload(key);
    await uploadPart(key, uploadId, 1, new TextEncoder().encode('soon gone'));

    // Another key with the same upload id is another upload, which does not exist.
    expect((await listParts('multipart/other.bin', uploadId)).status).toBe(404);
    expect((await listParts(key, 'no-such-upload')).status).toBe(404);
    expect((await listParts(key, uploadId)).status).toBe(200);

    const aborted = await client.fetch(url(key, `?uploadId=${uploadId}`), {
      method: 'DELETE',
      headers: { origin: 'https://app.example' },
    });
    expect(aborted.status).toBe(204);
    expect(aborted.headers.get('access-control-allow-origin')).toBe('*');

    const listed = await listParts(key, uploadId);
    expect(listed.status).toBe(404);
    const error = await listed.text();
    expect(text(error, 'Code')).toBe('NoSuchUpload');
    expect(text(error, 'Message')).toMatch(/upload/);
    expect((await client.fetch(url(key, `?uploadId=${uploadId}`), { method: 'DELETE' })).status).toBe(404);
  });

  it('answers CORS preflights from any origin and exposes ETag', async () => {
    const preflight = await fetch(url('cors/x.txt'), {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'content-type, x-amz-date',
      },
    });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('PUT');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('content-type, x-amz-date');

    await client.fetch(url('cors/x.txt'), { method: 'PUT', body: 'x' });
    const get = await client.fetch(url('cors/x.txt'), { headers: { origin: 'https://app.example' } });
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-expose-headers')).toContain('ETag');
  });

  // Written down so that no driver test relies on s3rver to refuse a bad signature or policy.
  it('checks neither SigV4 signatures nor POST policies', async () => {
    const signed = await client.sign(url('unchecked/presigned.txt'), { method: 'PUT', aws: { signQuery: true } });
    const tampered = new URL(signed.url);
    tampered.searchParams.set('X-Amz-Signature', '0'.repeat(64));
    expect((await fetch(tampered, { method: 'PUT', body: 'tampered' })).status).toBe(200);
    // What it does check on a presigned URL: the expiry.
    const old = await client.sign(url('unchecked/old.txt'), {
      method: 'PUT',
      aws: { signQuery: true, datetime: '20000101T000000Z' },
    });
    expect((await fetch(old.url, { method: 'PUT', body: 'late' })).status).toBe(403);

    const policy = {
      expiration: '2000-01-01T00:00:00Z',
      conditions: [{ bucket: 'another-bucket' }, ['content-length-range', 0, 1]],
    };
    const form = new FormData();
    form.set('key', 'unchecked/posted.txt');
    form.set('Policy', Buffer.from(JSON.stringify(policy)).toString('base64'));
    form.set('X-Amz-Algorithm', 'AWS4-HMAC-SHA256');
    form.set('X-Amz-Credential', `${s3.accessKeyId}/20000101/${s3.region}/s3/aws4_request`);
    form.set('X-Amz-Date', '20000101T000000Z');
    form.set('X-Amz-Signature', '0'.repeat(64));
    form.set('file', new Blob(['far more than one byte']), 'posted.txt');
    expect((await fetch(`${s3.endpoint}/${s3.bucket}`, { method: 'POST', body: form })).status).toBe(204);
    expect(await (await client.fetch(url('unchecked/posted.txt'))).text()).toBe('far more than one byte');
  });
});

describe('the S3 test server process', () => {
  it('stops and removes its directory on close', async () => {
    const other = await startTestS3();
    expect(existsSync(join(other.directory, other.bucket))).toBe(true);
    await other.close();
    expect(existsSync(other.directory)).toBe(false);
    await expect(fetch(`${other.endpoint}/${other.bucket}`)).rejects.toThrow();
    await other.close();
  });

  it('rejects with the server’s stderr when it cannot start', async () => {
    // A name longer than a file name may be makes s3rver fail to create the bucket's directory.
    await expect(startTestS3({ bucket: 'b'.repeat(300) })).rejects.toThrow(/did not start[\s\S]*ENAMETOOLONG/);
  });

  it('exits when the process that started it dies', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'plinth-test-s3-orphan-'));
    const script = fileURLToPath(new URL('../fixtures/s3-server-process.mjs', import.meta.url));
    // A stand-in for a test process: starts the server as startTestS3 does, prints the server's
    // pid (so this test can still end it if the server outlives its parent), then its port line.
    const parentCode = `
      const { spawn } = require('node:child_process');
      const child = spawn(process.execPath, [process.argv[1], process.argv[2]], {
        env: { ...process.env, PLINTH_S3_BUCKETS: 'orphan', PLINTH_S3_EXIT_ON_STDIN_END: '1' },
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      process.stdout.write(child.pid + '\\n');
      child.stdout.pipe(process.stdout);
    `;
    const parent = spawn(process.execPath, ['-e', parentCode, script, directory], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let serverPid: number | undefined;
    try {
      const lines = createInterface({ input: parent.stdout })[Symbol.asyncIterator]();
      serverPid = Number((await lines.next()).value);
      const line = (await lines.next()).value as string;
      const bucketUrl = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}/orphan`;
      expect((await fetch(bucketUrl)).status).toBe(200);
      parent.kill('SIGKILL');
      // Polled, not timed: the limit only stops a hang.
      await vi.waitFor(() => expect(fetch(bucketUrl)).rejects.toThrow(), { timeout: 10_000, interval: 50 });
    } finally {
      parent.kill('SIGKILL');
      try {
        if (serverPid) process.kill(serverPid, 'SIGKILL');
      } catch {
        // Already gone, as it should be.
      }
      await rm(directory, { recursive: true, force: true });
    }
  });
});
