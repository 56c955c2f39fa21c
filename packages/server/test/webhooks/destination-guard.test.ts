import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  destinationProblem,
  guardedLookup,
  isPrivateAddress,
  type Resolve,
} from '../../src/webhooks/destination-guard.js';

describe('isPrivateAddress', () => {
  const cases: [string, boolean][] = [
    // IPv4, private and reserved
    ['0.0.0.0', true],
    ['0.1.2.3', true],
    ['10.0.0.1', true],
    ['10.255.255.255', true],
    ['100.64.0.1', true],
    ['100.127.255.254', true],
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['169.254.169.254', true],
    ['169.254.0.1', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['192.0.0.8', true],
    ['192.168.1.1', true],
    ['198.18.0.1', true],
    ['198.19.255.255', true],
    ['224.0.0.1', true],
    ['239.255.255.250', true],
    ['240.0.0.1', true],
    ['255.255.255.255', true],
    // IPv4, public (including the neighbours of the private ranges)
    ['8.8.8.8', false],
    ['1.1.1.1', false],
    ['9.255.255.255', false],
    ['11.0.0.0', false],
    ['100.63.255.255', false],
    ['100.128.0.0', false],
    ['172.15.255.255', false],
    ['172.32.0.0', false],
    ['192.0.1.1', false],
    ['192.169.0.1', false],
    ['198.17.255.255', false],
    ['198.20.0.0', false],
    ['223.255.255.255', false],
    // IPv6
    ['::', true],
    ['::1', true],
    ['[::1]', true],
    ['fc00::1', true],
    ['fd12:3456:789a::1', true],
    ['fe80::1', true],
    ['fe80::1%eth0', true],
    ['febf::1', true],
    ['ff02::1', true],
    ['2606:4700:4700::1111', false],
    ['2001:4860:4860::8888', false],
    ['fbff::1', false],
    // IPv6 carrying an IPv4 address: judged by the IPv4 inside
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['::ffff:10.0.0.1', true],
    ['::ffff:a9fe:a9fe', true],
    ['::127.0.0.1', true],
    ['::ffff:8.8.8.8', false],
    ['::ffff:808:808', false],
    ['64:ff9b::10.0.0.1', true],
    ['64:ff9b::a9fe:a9fe', true],
    ['64:ff9b::8.8.8.8', false],
    // Not an address at all: refused
    ['', true],
    ['localhost', true],
    ['example.com', true],
    ['127.1', true],
    ['2130706433', true],
    ['256.1.1.1', true],
    ['1.2.3.4.5', true],
    [':::1', true],
  ];

  it.each(cases)('%s → %s', (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });
});

describe('destinationProblem', () => {
  const refuse = { allowPrivate: false };

  it('accepts public http and https URLs, and leaves hostnames unresolved', () => {
    expect(destinationProblem('https://hooks.example.com/plinth?x=1', refuse)).toBeUndefined();
    expect(destinationProblem('http://8.8.8.8:8080/hook', refuse)).toBeUndefined();
    expect(destinationProblem('https://[2606:4700:4700::1111]/hook', refuse)).toBeUndefined();
    // localhost is private once resolved, but resolving is left to delivery time.
    expect(destinationProblem('http://localhost:3000/hook', refuse)).toBeUndefined();
  });

  it('refuses other schemes', () => {
    expect(destinationProblem('ftp://example.com/hook', refuse)).toMatch(
      /scheme ftp: .*use an http:\/\/ or https:\/\//,
    );
    expect(destinationProblem('javascript:alert(1)', refuse)).toMatch(/scheme javascript: /);
    expect(destinationProblem('file:///etc/passwd', refuse)).toMatch(/scheme file: /);
  });

  it('refuses what is not a URL', () => {
    expect(destinationProblem('hooks.example.com/plinth', refuse)).toMatch(/not a valid absolute URL/);
    expect(destinationProblem('http://', refuse)).toMatch(/not a valid absolute URL/);
  });

  it('refuses credentials in the URL', () => {
    expect(destinationProblem('https://user:secret@hooks.example.com/', refuse)).toMatch(/username or password/);
    expect(destinationProblem('https://user@hooks.example.com/', refuse)).toMatch(/username or password/);
    expect(destinationProblem('https://:secret@hooks.example.com/', refuse)).toMatch(/username or password/);
  });

  it('refuses a URL over 2048 characters', () => {
    const base = 'https://hooks.example.com/';
    expect(destinationProblem(base + 'a'.repeat(2048 - base.length), refuse)).toBeUndefined();
    expect(destinationProblem(base + 'a'.repeat(2049 - base.length), refuse)).toMatch(
      /2049 characters .* limit is 2048/,
    );
  });

  it('refuses a private literal address, saying how to allow it', () => {
    expect(destinationProblem('http://10.0.0.5/hook', refuse)).toBe(
      'url: 10.0.0.5 is a private address; webhooks go only to public addresses unless the server is started with webhooksAllowPrivate (PLINTH_WEBHOOKS_ALLOW_PRIVATE=1)',
    );
    expect(destinationProblem('http://169.254.169.254/latest/meta-data/', refuse)).toMatch(
      /169\.254\.169\.254 is a private/,
    );
    expect(destinationProblem('http://[::1]:8080/', refuse)).toMatch(/::1 is a private/);
    expect(destinationProblem('http://[::ffff:127.0.0.1]/', refuse)).toMatch(/::ffff:7f00:1 is a private/);
    // Spellings the URL parser turns into 127.0.0.1.
    expect(destinationProblem('http://2130706433/', refuse)).toMatch(/127\.0\.0\.1 is a private/);
    expect(destinationProblem('http://0x7f.1/', refuse)).toMatch(/127\.0\.0\.1 is a private/);
  });

  it('allows a private literal address when the server allows private destinations', () => {
    expect(destinationProblem('http://10.0.0.5/hook', { allowPrivate: true })).toBeUndefined();
    expect(destinationProblem('http://[::1]:8080/', { allowPrivate: true })).toBeUndefined();
  });
});

describe('guardedLookup', () => {
  const resolveTo =
    (...addresses: string[]): Resolve =>
    async () =>
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

  type Answer = { error: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family: number | undefined };
  const lookup = (fn: LookupFunction, hostname: string, all: boolean) =>
    new Promise<Answer>((resolve) => {
      fn(hostname, all ? { all: true } : {}, (error, address, family) => resolve({ error, address, family }));
    });

  it('answers the first address, or all of them when Node asks for all', async () => {
    const fn = guardedLookup({
      allowPrivate: false,
      resolve: resolveTo('93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'),
    });
    expect(await lookup(fn, 'hooks.example.test', false)).toEqual({ error: null, address: '93.184.215.14', family: 4 });
    expect(await lookup(fn, 'hooks.example.test', true)).toEqual({
      error: null,
      address: [
        { address: '93.184.215.14', family: 4 },
        { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 },
      ],
      family: undefined,
    });
  });

  it('refuses a host if any of its addresses is private, naming the host and the address', async () => {
    const fn = guardedLookup({ allowPrivate: false, resolve: resolveTo('93.184.215.14', '10.0.0.7') });
    for (const all of [false, true]) {
      const { error } = await lookup(fn, 'hooks.example.test', all);
      expect(error?.code).toBe('ERR_WEBHOOK_PRIVATE_DESTINATION');
      expect(error?.message).toMatch(
        /^hooks\.example\.test resolves to 10\.0\.0\.7, a private address; .*PLINTH_WEBHOOKS_ALLOW_PRIVATE=1/,
      );
    }
  });

  it('lets private addresses through when allowed', async () => {
    const fn = guardedLookup({ allowPrivate: true, resolve: resolveTo('10.0.0.7') });
    expect(await lookup(fn, 'hooks.example.test', false)).toEqual({ error: null, address: '10.0.0.7', family: 4 });
  });

  it('resolves with the system resolver by default (localhost is refused)', async () => {
    const { error } = await lookup(guardedLookup({ allowPrivate: false }), 'localhost', true);
    expect(error?.code).toBe('ERR_WEBHOOK_PRIVATE_DESTINATION');
  });

  it('passes resolver failures on, and treats no addresses as not found', async () => {
    const failing: Resolve = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.test'), { code: 'ENOTFOUND' });
    };
    expect(
      (await lookup(guardedLookup({ allowPrivate: false, resolve: failing }), 'nowhere.test', false)).error?.code,
    ).toBe('ENOTFOUND');
    const empty = guardedLookup({ allowPrivate: false, resolve: resolveTo() });
    expect((await lookup(empty, 'nowhere.test', true)).error?.code).toBe('ENOTFOUND');
  });
});
