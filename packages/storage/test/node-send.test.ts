import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { AbortError, NetworkError, ValidationError } from '@plinth/core';
import type { UploadGrant } from '@plinth/protocol';
import { uploadToUrl } from '@plinth/storage';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { recordHttpClients } from '../../../test/fixtures/http-clients.js';
import { failure, objectInfo, patterned, uploadId } from './fixtures/storage-client.js';

// In Node, uploads go over node:http (src/node-send.ts), as an app's server sends them. No msw
// here: the global fetch is Node's own, so this file runs the path production runs. Which client
// sent a request is read from Node's diagnostics channels: node:http publishes
// `http.client.request.start`, Node's fetch (undici) `undici:request:create`.

interface Received {
  headers: http.IncomingHttpHeaders;
  bytes: number;
}
let received: Received[] = [];
let answer: (response: http.ServerResponse, request: http.IncomingMessage, got: Received) => void;
const server = http.createServer((request, response) => {
  const got: Received = { headers: request.headers, bytes: 0 };
  received.push(got);
  request.on('data', (chunk: Buffer) => {
    got.bytes += chunk.length;
  });
  answer(response, request, got);
});
let base = '';

const clients = recordHttpClients();

beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
afterEach(() => {
  received = [];
  clients.length = 0;
  vi.unstubAllGlobals();
});

const grant = (): UploadGrant => ({
  url: `${base}/v1/storage/uploads/${uploadId}?expires=4102444800&signature=${'s'.repeat(43)}`,
  method: 'PUT',
  headers: { 'content-type': 'application/octet-stream' },
  expiresAt: '2100-01-01T00:00:00.000Z',
  uploadId,
});

/** Answers with the object once the whole body arrived. */
const storeIt = (response: http.ServerResponse, request: http.IncomingMessage, got: Received) =>
  request.on('end', () =>
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ object: objectInfo(got.bytes, 'application/octet-stream') })),
  );

describe('uploads in Node', () => {
  it.each([
    ['a Uint8Array', (bytes: Uint8Array) => bytes],
    ['an ArrayBuffer', (bytes: Uint8Array) => bytes.slice().buffer],
    ['a Blob', (bytes: Uint8Array) => new Blob([bytes as BlobPart])],
  ])('go over node:http with a Content-Length for %s, progress growing to the end', async (_, bodyOf) => {
    answer = storeIt;
    const bytes = patterned(1_000_000);
    const progress: number[] = [];
    const object = await uploadToUrl(grant(), bodyOf(bytes), { onProgress: ({ loaded }) => progress.push(loaded) });
    expect(clients).toEqual(['node:http']);
    expect(received[0]?.headers['content-length']).toBe('1000000');
    expect(received[0]?.bytes).toBe(1_000_000);
    expect(object.size).toBe(1_000_000);
    expect(progress.length).toBeGreaterThan(2);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(1_000_000);
  });

  it('send a stream chunked, and refuse a chunk that is not bytes', async () => {
    answer = storeIt;
    const bytes = patterned(300_000);
    const stream = new Blob([bytes as BlobPart]).stream();
    const object = await uploadToUrl(grant(), stream);
    expect(clients).toEqual(['node:http']);
    expect(received[0]?.headers['transfer-encoding']).toBe('chunked');
    expect(object.size).toBe(300_000);

    const bad = new ReadableStream({
      start(controller) {
        controller.enqueue('text');
        controller.close();
      },
    });
    const error = await failure(uploadToUrl(grant(), bad as ReadableStream<Uint8Array>));
    expect(error).toBeInstanceOf(ValidationError);
  });

  it('send a Node read stream as it is, and destroy a stream when the call is aborted while a read waits', async () => {
    answer = storeIt;
    const directory = await mkdtemp(join(tmpdir(), 'plinth-node-send-'));
    try {
      const path = join(directory, 'file.bin');
      await writeFile(path, patterned(700_000));
      const progress: number[] = [];
      const object = await uploadToUrl(grant(), createReadStream(path), {
        onProgress: ({ loaded }) => progress.push(loaded),
      });
      expect(clients).toEqual(['node:http']);
      expect(received[0]?.bytes).toBe(700_000);
      expect(object.size).toBe(700_000);
      expect(progress.at(-1)).toBe(700_000);

      // A stream that gives one chunk and then waits: the abort comes while a read waits.
      answer = () => {};
      const controller = new AbortController();
      const waiting = new Readable({ read() {} });
      waiting.push(patterned(1000));
      const call = failure(uploadToUrl(grant(), waiting, { signal: controller.signal }));
      await vi.waitFor(() => expect(received).toHaveLength(2));
      controller.abort();
      expect(await call).toBeInstanceOf(AbortError);
      await vi.waitFor(() => expect(waiting.destroyed).toBe(true));
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('send any async iterable of bytes, and refuse one that gives something else', async () => {
    answer = storeIt;
    async function* chunks() {
      for (let at = 0; at < 5; at += 1) yield patterned(100_000);
    }
    const object = await uploadToUrl(grant(), chunks());
    expect(received[0]?.bytes).toBe(500_000);
    expect(object.size).toBe(500_000);

    let finished = false;
    async function* words() {
      try {
        yield patterned(10);
        yield 'text' as unknown as Uint8Array;
        yield patterned(10);
      } finally {
        finished = true;
      }
    }
    const error = await failure(uploadToUrl(grant(), words()));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toContain('the stream gave a string');
    expect(finished).toBe(true);
  });

  it('go through a replaced global fetch, which then sees them', async () => {
    const replaced = vi.fn(
      async () =>
        new Response(JSON.stringify({ object: objectInfo(10, 'application/octet-stream') }), {
          headers: { 'content-type': 'application/json' },
        }),
    );
    vi.stubGlobal('fetch', replaced);
    await uploadToUrl(grant(), patterned(10));
    expect(replaced).toHaveBeenCalledTimes(1);
    expect(clients).toEqual([]);
  });

  it('end as a NetworkError when the connection is cut mid-body', async () => {
    answer = (_response, request, got) =>
      request.on('data', () => {
        if (got.bytes > 200_000) request.socket.destroy();
      });
    const error = await failure(uploadToUrl(grant(), patterned(2_000_000)));
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.message).not.toContain('signature=');
  });

  it('stop at once when aborted mid-body, as an AbortError', async () => {
    answer = () => {};
    const controller = new AbortController();
    const progress: number[] = [];
    const error = await failure(
      uploadToUrl(grant(), patterned(20_000_000), {
        signal: controller.signal,
        onProgress: ({ loaded }) => {
          progress.push(loaded);
          if (loaded > 1_000_000) controller.abort();
        },
      }),
    );
    expect(error).toBeInstanceOf(AbortError);
    expect(progress.at(-1)).toBeLessThan(20_000_000);
  });
});
