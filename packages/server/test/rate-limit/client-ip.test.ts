import { describe, expect, it } from 'vitest';
import { addressRange, clientIp, unknownClientIp } from '../../src/rate-limit/client-ip.js';

const proxy = '10.0.0.5';

/** A request carrying the given headers; repeated names are sent as separate header lines. */
const requestWith = (headers: [string, string][] = []) => {
  const init = new Headers();
  for (const [name, value] of headers) init.append(name, value);
  return new Request('http://plinth.test/v1/auth/sign-in', { headers: init });
};

describe('clientIp', () => {
  describe('with no trusted proxy header configured', () => {
    it('uses the socket address and ignores every forwarding header a client sends', () => {
      const request = requestWith([
        ['x-forwarded-for', '203.0.113.7'],
        ['cf-connecting-ip', '203.0.113.8'],
        ['x-real-ip', '203.0.113.9'],
      ]);
      expect(clientIp(request, '198.51.100.20')).toBe('198.51.100.20');
      expect(clientIp(request, '198.51.100.20', '')).toBe('198.51.100.20');
    });

    it('turns IPv4-mapped IPv6 socket addresses into plain IPv4, so one client has one address', () => {
      expect(clientIp(requestWith(), '::ffff:198.51.100.20')).toBe('198.51.100.20');
      expect(clientIp(requestWith(), '2001:DB8::1')).toBe('2001:db8::1');
    });

    it('answers "unknown" when there is no socket address at all', () => {
      expect(clientIp(requestWith(), undefined)).toBe(unknownClientIp);
      expect(clientIp(requestWith(), '')).toBe(unknownClientIp);
    });
  });

  describe('with X-Forwarded-For configured', () => {
    it('takes the right-most entry, the one the trusted proxy appended', () => {
      const request = requestWith([['x-forwarded-for', '203.0.113.7']]);
      expect(clientIp(request, proxy, 'x-forwarded-for')).toBe('203.0.113.7');
    });

    it('ignores entries a client forged to the left of it', () => {
      const forged = requestWith([['x-forwarded-for', '1.1.1.1, 8.8.8.8 ,  203.0.113.7']]);
      expect(clientIp(forged, proxy, 'x-forwarded-for')).toBe('203.0.113.7');
      // A forged header line and the proxy's own arrive joined; the proxy's still comes last.
      const twoLines = requestWith([
        ['x-forwarded-for', '1.1.1.1'],
        ['x-forwarded-for', '203.0.113.7'],
      ]);
      expect(clientIp(twoLines, proxy, 'x-forwarded-for')).toBe('203.0.113.7');
    });

    it('matches the header name case-insensitively and accepts IPv6 entries', () => {
      const request = requestWith([['X-Forwarded-For', '1.1.1.1, 2001:db8::42']]);
      expect(clientIp(request, proxy, 'X-Forwarded-For')).toBe('2001:db8::42');
    });

    it.each([
      ['missing', undefined],
      ['empty', ''],
      ['a trailing comma', '203.0.113.7,'],
      ['"unknown"', 'unknown'],
      ['a host name', 'attacker.example'],
      ['an address with a port', '203.0.113.7:443'],
      ['an out-of-range octet', '203.0.113.256'],
      ['an obfuscated address', '0x7f.1'],
      ['a valid address to the left of a bad one', '203.0.113.7, nonsense'],
    ])('falls back to the socket address when the right-most entry is %s', (_, value) => {
      const request = requestWith(value === undefined ? [] : [['x-forwarded-for', value]]);
      expect(clientIp(request, proxy, 'x-forwarded-for')).toBe(proxy);
    });
  });

  describe('with a single-value header configured', () => {
    it('reads cf-connecting-ip and still ignores X-Forwarded-For', () => {
      const request = requestWith([
        ['cf-connecting-ip', '203.0.113.7'],
        ['x-forwarded-for', '6.6.6.6'],
      ]);
      expect(clientIp(request, proxy, 'cf-connecting-ip')).toBe('203.0.113.7');
      expect(clientIp(requestWith([['x-forwarded-for', '6.6.6.6']]), proxy, 'cf-connecting-ip')).toBe(proxy);
    });
  });
});

describe('addressRange', () => {
  it('keeps IPv4 addresses and placeholders as they are', () => {
    expect(addressRange('203.0.113.7')).toBe('203.0.113.7');
    expect(addressRange(unknownClientIp)).toBe(unknownClientIp);
  });

  it.each([
    ['2001:db8:0:1:aaaa::1', '2001:db8:0:1::/64'],
    ['2001:db8:0:1:ffff:ffff:ffff:ffff', '2001:db8:0:1::/64'],
    ['2001:0db8:0000:0001::', '2001:db8:0:1::/64'],
    ['2001:db8::', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
    ['1:2:3:4:5:6:192.0.2.1', '1:2:3:4::/64'],
  ])('groups IPv6 %s into its /64, %s', (ip, range) => {
    expect(addressRange(ip)).toBe(range);
  });

  it('separates different /64s', () => {
    expect(addressRange('2001:db8:0:1::1')).not.toBe(addressRange('2001:db8:0:2::1'));
  });
});
