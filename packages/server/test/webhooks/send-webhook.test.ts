import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Resolve } from '../../src/webhooks/destination-guard.js';
import { sendWebhook, type WebhookAttemptRequest } from '../../src/webhooks/send-webhook.js';

interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const FIVE_MB = 5 * 1024 * 1024;

/** A receiver on `host`, answering by path, that records every request it gets. */
async function startReceiver(host: string): Promise<{ server: Server; port: number; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '';
      received.push({ method: req.method ?? '', path, headers: req.headers, body: Buffer.concat(chunks) });
      const route = path.split('?')[0];
      const redirect = /^\/redirect-(\d{3})$/.exec(path);
      if (redirect) {
        res.writeHead(Number(redirect[1]), { location: '/target' }).end();
      } else if (route === '/ok') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('thanks, got it');
      } else if (path === '/fail') {
        res.writeHead(500).end('database is down');
      } else if (path === '/gone') {
        res.writeHead(410).end();
      } else if (path === '/big') {
        res.writeHead(200, { 'content-length': FIVE_MB });
        res.end(Buffer.alloc(FIVE_MB, 'x'));
      } else if (path === '/stall') {
        res.writeHead(202);
        res.write('partial');
        // ...and never ends.
      } else if (path === '/never') {
        // Never answers.
      } else {
        res.writeHead(204).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, port: (server.address() as AddressInfo).port, received };
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

const webhookHeaders = {
  'content-type': 'application/json',
  'webhook-id': 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
  'webhook-timestamp': '1674087231',
  'webhook-signature': 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
};

function attempt(
  overrides: Partial<WebhookAttemptRequest> & { url: string },
): Promise<Awaited<ReturnType<typeof sendWebhook>>> {
  return sendWebhook({
    headers: webhookHeaders,
    body: '{"type":"ping"}',
    timeoutMs: 10_000,
    allowPrivate: true,
    ...overrides,
  });
}

describe('sendWebhook', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let base: string;

  beforeAll(async () => {
    receiver = await startReceiver('127.0.0.1');
    base = `http://127.0.0.1:${receiver.port}`;
  });
  afterAll(() => stop(receiver.server));
  beforeEach(() => {
    receiver.received.length = 0;
  });

  it('delivers headers and body byte-exact and reports a 2xx as ok with the excerpt', async () => {
    const body = JSON.stringify({ type: 'user.created', data: { name: 'Zoë 🚀', note: 'line\r\nbreak' } });
    const result = await attempt({ url: `${base}/ok?tenant=a`, body });
    expect(result).toMatchObject({ ok: true, status: 200, excerpt: 'thanks, got it' });
    expect(result.error).toBeUndefined();
    expect(Number.isInteger(result.durationMs) && result.durationMs >= 0).toBe(true);

    expect(receiver.received).toHaveLength(1);
    const [got] = receiver.received;
    expect(got?.method).toBe('POST');
    expect(got?.path).toBe('/ok?tenant=a');
    expect(got?.body.equals(Buffer.from(body, 'utf8'))).toBe(true);
    expect(got?.headers).toMatchObject({
      ...webhookHeaders,
      'user-agent': 'Plinth-Webhooks/1',
      'content-length': String(Buffer.byteLength(body)),
    });
  });

  it('reports a 500 as not ok, with its status and excerpt', async () => {
    const result = await attempt({ url: `${base}/fail` });
    expect(result).toMatchObject({ ok: false, status: 500, excerpt: 'database is down' });
    expect(result.error).toBeUndefined();
  });

  it('reports a 410 with its status and an empty excerpt', async () => {
    const result = await attempt({ url: `${base}/gone` });
    expect(result).toMatchObject({ ok: false, status: 410, excerpt: '' });
  });

  it.each([301, 302, 307])('does not follow a %d redirect', async (code) => {
    const result = await attempt({ url: `${base}/redirect-${code}` });
    expect(result).toMatchObject({ ok: false, status: code });
    expect(receiver.received.map((r) => r.path)).toEqual([`/redirect-${code}`]);
    expect(receiver.received.filter((r) => r.path === '/target')).toHaveLength(0);
  });

  it('reads only the first 1024 bytes of a 5 MB answer', async () => {
    const result = await attempt({ url: `${base}/big` });
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(Buffer.byteLength(result.excerpt)).toBe(1024);
    expect(result.excerpt).toBe('x'.repeat(1024));
  });

  it('stops reading and closes the connection once it has the excerpt', async () => {
    // An endless answer: if the sender kept reading, the connection would never close and this
    // test would hang until vitest's timeout.
    let closed!: () => void;
    const connectionClosed = new Promise<void>((resolve) => {
      closed = resolve;
    });
    const endless = createServer((_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 'y');
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) {}
      };
      res.on('drain', pump);
      res.on('close', closed);
      pump();
    });
    await new Promise<void>((resolve) => endless.listen(0, '127.0.0.1', resolve));
    try {
      const port = (endless.address() as AddressInfo).port;
      const result = await attempt({ url: `http://127.0.0.1:${port}/endless` });
      expect(result).toMatchObject({ ok: true, status: 200, excerpt: 'y'.repeat(1024) });
      await connectionClosed;
    } finally {
      await stop(endless);
    }
  });

  it('times out a receiver that never answers', async () => {
    const result = await attempt({ url: `${base}/never`, timeoutMs: 200 });
    expect(result.ok).toBe(false);
    expect(result.status).toBeUndefined();
    expect(result.error?.code).toBe('timeout');
    expect(result.error?.message).toMatch(/did not answer within 200 ms/);
    expect(receiver.received).toHaveLength(1);
  });

  it('ends at the timeout when the receiver sends headers and then stalls, keeping the status', async () => {
    const result = await attempt({ url: `${base}/stall`, timeoutMs: 200 });
    expect(result).toMatchObject({ ok: true, status: 202, excerpt: 'partial' });
    expect(result.error).toBeUndefined();
  });

  it('reports connection refused as connection_failed', async () => {
    const closed = await startReceiver('127.0.0.1');
    await stop(closed.server);
    const result = await attempt({ url: `http://127.0.0.1:${closed.port}/ok` });
    expect(result.ok).toBe(false);
    expect(result.status).toBeUndefined();
    expect(result.error?.code).toBe('connection_failed');
    expect(result.error?.message).toMatch(/ECONNREFUSED/);
  });

  it('refuses what is not an http(s) URL as invalid_url', async () => {
    for (const url of ['not a url', 'ftp://127.0.0.1/hook', `http://user:pw@127.0.0.1:${receiver.port}/ok`]) {
      expect((await attempt({ url })).error?.code).toBe('invalid_url');
    }
    expect(receiver.received).toHaveLength(0);
  });

  it('reaches a hostname through an injected resolver when private destinations are allowed', async () => {
    const resolve: Resolve = async () => [{ address: '127.0.0.1', family: 4 }];
    const result = await attempt({ url: `http://hooks.example.test:${receiver.port}/ok`, resolve });
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(receiver.received.map((r) => r.headers.host)).toEqual([`hooks.example.test:${receiver.port}`]);
  });
});

describe('sendWebhook refuses private destinations', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let receiverV6: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    receiver = await startReceiver('127.0.0.1');
    receiverV6 = await startReceiver('::1');
  });
  afterAll(async () => {
    await stop(receiver.server);
    await stop(receiverV6.server);
  });
  beforeEach(() => {
    receiver.received.length = 0;
    receiverV6.received.length = 0;
  });

  const refused = async (request: Partial<WebhookAttemptRequest> & { url: string }) => {
    const result = await attempt({ allowPrivate: false, timeoutMs: 2_000, ...request });
    expect(result.ok).toBe(false);
    expect(result.status).toBeUndefined();
    expect(result.error?.code).toBe('private_destination');
    expect(result.error?.message).toMatch(/a private address; .*PLINTH_WEBHOOKS_ALLOW_PRIVATE=1/);
    expect(receiver.received).toHaveLength(0);
    expect(receiverV6.received).toHaveLength(0);
    return result;
  };

  it('a literal 127.0.0.1', async () => {
    // The same URL is delivered when allowed, so it is the guard that stops it below.
    expect((await attempt({ url: `http://127.0.0.1:${receiver.port}/ok` })).ok).toBe(true);
    receiver.received.length = 0;
    await refused({ url: `http://127.0.0.1:${receiver.port}/ok` });
  });

  it('a literal [::1]', async () => {
    expect((await attempt({ url: `http://[::1]:${receiverV6.port}/ok` })).ok).toBe(true);
    receiverV6.received.length = 0;
    await refused({ url: `http://[::1]:${receiverV6.port}/ok` });
  });

  it('a literal ::ffff:127.0.0.1', async () => {
    await refused({ url: `http://[::ffff:127.0.0.1]:${receiver.port}/ok` });
  });

  it('127.0.0.1 spelt as a number', async () => {
    await refused({ url: `http://2130706433:${receiver.port}/ok` });
  });

  it('the cloud metadata address 169.254.169.254', async () => {
    const result = await refused({ url: 'http://169.254.169.254/latest/meta-data/' });
    expect(result.error?.message).toMatch(/169\.254\.169\.254/);
  });

  it('localhost, resolved for real', async () => {
    const result = await refused({ url: `http://localhost:${receiver.port}/ok` });
    expect(result.error?.message).toMatch(/^localhost resolves to /);
  });

  it('a hostname that resolves to a private address', async () => {
    const resolve: Resolve = async (hostname) =>
      hostname === 'hooks.example.test' ? [{ address: '10.0.0.7', family: 4 }] : [];
    const result = await refused({ url: 'http://hooks.example.test/plinth', resolve });
    expect(result.error?.message).toMatch(/^hooks\.example\.test resolves to 10\.0\.0\.7, a private address/);
  });

  it('a hostname that resolves to a public and a private address', async () => {
    // 192.0.2.1 (TEST-NET-1) counts as public here and goes nowhere, so a guard that checked only
    // the first address would end in a timeout or connection failure, not a refusal.
    const resolve: Resolve = async () => [
      { address: '192.0.2.1', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ];
    const result = await refused({ url: `http://hooks.example.test:${receiver.port}/ok`, resolve, timeoutMs: 500 });
    expect(result.error?.message).toMatch(/resolves to 127\.0\.0\.1/);
  });

  it('a hostname whose kept-alive connection was opened while private destinations were allowed', async () => {
    const resolve: Resolve = async () => [{ address: '127.0.0.1', family: 4 }];
    const url = `http://reused.example.test:${receiver.port}/ok`;
    expect((await attempt({ url, resolve, allowPrivate: true })).ok).toBe(true);
    receiver.received.length = 0;
    await refused({ url, resolve });
  });

  it('a hostname that resolves to an IPv4-mapped loopback', async () => {
    const resolve: Resolve = async () => [{ address: '::ffff:127.0.0.1', family: 6 }];
    await refused({ url: `http://hooks.example.test:${receiver.port}/ok`, resolve });
  });
});
