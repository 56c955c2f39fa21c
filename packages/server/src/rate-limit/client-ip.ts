import { isIP } from 'node:net';

/** What {@link clientIp} answers when it knows no address at all (no socket, e.g. `app.request` in tests). */
export const unknownClientIp = 'unknown';

/**
 * The client's IP address for rate limiting.
 *
 * With no `trustedProxyHeader` configured it is the socket's remote address, always: any
 * `X-Forwarded-For` a client sends is ignored, since believing it would let every request claim
 * a fresh address and walk past every per-IP limit.
 *
 * With a header configured (`x-forwarded-for` behind a load balancer, `cf-connecting-ip` behind
 * Cloudflare, `x-real-ip` behind nginx), the server must be reachable only through that proxy,
 * and the address comes from the header's right-most entry. That is the one the trusted proxy
 * wrote: each proxy appends the address it received the request from, so with one trusted hop
 * the last entry is the real peer, while everything to its left arrived from the client and may
 * be forged. (Single-value headers the proxy overwrites have one entry, so the same rule reads
 * them too.) Deployments with several trusted hops should have the outermost proxy set a
 * single-value header and configure that one.
 *
 * An entry that is not a bare IP address (missing, empty, `unknown`, with a port) falls back to
 * the socket's address: that is the proxy's, so such clients share one bucket, which is
 * stricter, never looser. IPv4-mapped IPv6 (`::ffff:203.0.113.7`, as dual-stack sockets report
 * IPv4 peers) becomes plain IPv4, so one client has one address.
 *
 * @example
 * ```ts
 * clientIp(request, '10.0.0.5'); // '10.0.0.5', whatever X-Forwarded-For says
 * clientIp(request, '10.0.0.5', 'x-forwarded-for'); // with 'X-Forwarded-For: 6.6.6.6, 203.0.113.7' → '203.0.113.7'
 * ```
 */
export function clientIp(request: Request, remoteAddress: string | undefined, trustedProxyHeader?: string): string {
  const socketAddress = normaliseIp(remoteAddress) ?? (remoteAddress || unknownClientIp);
  if (!trustedProxyHeader) return socketAddress;
  // Repeated headers arrive joined with ", ", so the right-most entry of the last one wins here too.
  const header = request.headers.get(trustedProxyHeader);
  const rightMost = header?.split(',').at(-1);
  return normaliseIp(rightMost) ?? socketAddress;
}

/** The address in canonical-enough form, or undefined when it is not an IP address. */
function normaliseIp(value: string | undefined): string | undefined {
  const candidate = value?.trim();
  if (!candidate || isIP(candidate) === 0) return undefined;
  const mappedIPv4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(candidate)?.[1];
  return (mappedIPv4 ?? candidate).toLowerCase();
}

/**
 * The part of an address one client controls: an IPv4 address is itself; an IPv6 address is its
 * /64, because one subscriber is routinely given a whole /64 and can pick any of its 2^64
 * addresses per request. Keying IPv6 by full address would make per-IP limits per-request.
 *
 * @example
 * ```ts
 * addressRange('203.0.113.7'); // '203.0.113.7'
 * addressRange('2001:db8:0:1:aaaa::1'); // '2001:db8:0:1::/64'
 * addressRange('unknown'); // 'unknown'
 * ```
 */
export function addressRange(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const groups = expandIPv6(ip);
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (zone ids and embedded IPv4 allowed). */
function expandIPv6(ip: string): number[] {
  let address = ip.split('%')[0] ?? ip;
  const embeddedIPv4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (embeddedIPv4) {
    const [a, b, c, d] = embeddedIPv4.slice(1).map(Number) as [number, number, number, number];
    address = `${address.slice(0, embeddedIPv4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = address.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16)));
  const headGroups = parse(head);
  const tailGroups = tail === undefined ? [] : parse(tail);
  const zeros = new Array<number>(8 - headGroups.length - tailGroups.length).fill(0);
  return [...headGroups, ...zeros, ...tailGroups];
}
