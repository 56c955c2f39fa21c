import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startServer } from '../src/start-server.js';
import { useTestServer } from './fixtures/test-server.js';

// A small header timeout, so the test sees it act; what is asserted is that the stalled client
// is answered 408 and cut off, never how soon.
const slow = useTestServer({
  headersTimeoutMs: 300,
  requestTimeoutMs: 600,
  keepAliveTimeoutMs: 2_000,
  publicUrl: 'https://api.example.com',
});
const behindTls = slow;
const plainHttp = useTestServer({ publicUrl: 'http://localhost:8787' });

/** Opens a raw connection, writes `sent`, and answers what came back once the server closed it. */
function stall(url: string, sent: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(sent));
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
  });
}

describe('slow clients', () => {
  it('a client that sends half a request line and stalls is answered 408 and disconnected', async () => {
    const received = await stall(slow().url, 'GET /v1/hea');
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('a client that sends headers but stalls in the body is disconnected', async () => {
    const received = await stall(
      slow().url,
      'POST /v1/auth/sign-in HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"em',
    );
    // Node answers 408 unless the request had already reached the app, which then sees the body cut.
    expect(received === '' || /^HTTP\/1\.1 (408|400) /.test(received), received).toBe(true);
  });

  it('an idle keep-alive connection is closed by the server', async () => {
    const received = await stall(slow().url, 'GET /v1/health HTTP/1.1\r\nhost: x\r\n\r\n');
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    // Node announces the configured idle timeout, in whole seconds (its own default is 5).
    expect(received).toMatch(/keep-alive: timeout=2\r\n/i);
  });

  it('refuses a header timeout over the request timeout, naming both', async () => {
    await expect(startServer({ database: 'memory', headersTimeoutMs: 5_000, requestTimeoutMs: 1_000 })).rejects.toThrow(
      /^headersTimeoutMs: 5000 is over requestTimeoutMs \(1000\)/,
    );
  });
});

describe('Strict-Transport-Security', () => {
  it('is sent when the public URL is https (TLS ends at a proxy; requests arrive over http)', async () => {
    const response = await fetch(`${behindTls().url}/v1/health`);
    expect(response.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
    const error = await fetch(`${behindTls().url}/v1/nope`);
    expect(error.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
  });

  it('is not sent when the public URL is http, even for an absolute https request target', async () => {
    expect((await fetch(`${plainHttp().url}/v1/health`)).headers.get('strict-transport-security')).toBeNull();
    const received = await new Promise<string>((resolve, reject) => {
      const { hostname, port } = new URL(plainHttp().url);
      const socket = connect(Number(port), hostname, () =>
        socket.write('GET https://localhost/v1/health HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n'),
      );
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        text += chunk;
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
    });
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    expect(received.toLowerCase()).not.toContain('strict-transport-security');
  });
});
