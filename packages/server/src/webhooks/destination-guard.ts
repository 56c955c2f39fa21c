import { promises as dns } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** Resolves a hostname to every address it has; tests inject one, the server uses the system resolver. */
export type Resolve = (hostname: string) => Promise<readonly { address: string; family: number }[]>;

const MAX_URL_LENGTH = 2048;

const HOW_TO_ALLOW =
  'webhooks go only to public addresses unless the server is started with webhooksAllowPrivate (PLINTH_WEBHOOKS_ALLOW_PRIVATE=1)';

// Loopback, private, link-local (cloud metadata at 169.254.169.254), CGNAT, benchmarking,
// multicast, reserved and broadcast: a server must not be made to reach these on a user's say-so.
const privateIPv4 = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4], // includes 255.255.255.255
] as const) {
  privateIPv4.addSubnet(network, prefix, 'ipv4');
}

// Unique-local, link-local, deprecated site-local (still routed inside some networks) and multicast.
// `::` and `::1` and the forms that carry an IPv4 address are handled in isPrivateIPv6.
const privateIPv6 = new BlockList();
for (const [network, prefix] of [
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  privateIPv6.addSubnet(network, prefix, 'ipv6');
}

/**
 * Whether a webhook must not be sent to this address (unless the server allows private
 * destinations). IPv6 forms that carry an IPv4 address (`::ffff:127.0.0.1`, `::ffff:7f00:1`,
 * `::127.0.0.1`, NAT64 `64:ff9b::a00:1`) are judged by that IPv4 address. Anything that is not
 * an IP address is refused.
 *
 * @example
 * ```ts
 * isPrivateAddress('169.254.169.254'); // true
 * isPrivateAddress('::ffff:10.0.0.1'); // true
 * isPrivateAddress('8.8.8.8'); // false
 * ```
 */
export function isPrivateAddress(address: string): boolean {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const version = isIP(bare);
  if (version === 4) return privateIPv4.check(bare, 'ipv4');
  if (version === 6) return isPrivateIPv6(bare.replace(/%.*$/, ''));
  return true;
}

function isPrivateIPv6(address: string): boolean {
  const groups = ipv6Groups(address);
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0, h = 0] = groups;
  const embeddedIPv4 = `${g >> 8}.${g & 0xff}.${h >> 8}.${h & 0xff}`;
  const zeroTo80 = a === 0 && b === 0 && c === 0 && d === 0 && e === 0;
  // `::` and `::1` fall here too: 0.0.0.0 and 0.0.0.1 are in 0.0.0.0/8.
  if (zeroTo80 && f === 0) return privateIPv4.check(embeddedIPv4, 'ipv4'); // IPv4-compatible ::a.b.c.d
  if (zeroTo80 && f === 0xffff) return privateIPv4.check(embeddedIPv4, 'ipv4'); // IPv4-mapped ::ffff:a.b.c.d
  if (a === 0x64 && b === 0xff9b && c === 0 && d === 0 && e === 0 && f === 0) {
    return privateIPv4.check(embeddedIPv4, 'ipv4'); // NAT64: the gateway connects to the IPv4 inside
  }
  return privateIPv6.check(address, 'ipv6');
}

/** The eight 16-bit groups of an address that `isIP` has already accepted as IPv6. */
function ipv6Groups(address: string): number[] {
  let text = address;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [p = 0, q = 0, r = 0, s = 0] = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((p << 8) | q).toString(16)}:${((r << 8) | s).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  if (rest === undefined) return headGroups.map((group) => Number.parseInt(group, 16));
  const restGroups = rest === '' ? [] : rest.split(':');
  const zeros = Array<string>(8 - headGroups.length - restGroups.length).fill('0');
  return [...headGroups, ...zeros, ...restGroups].map((group) => Number.parseInt(group, 16));
}

/**
 * What is wrong with a webhook endpoint URL, as a sentence for the person saving it, or
 * `undefined` if it may be saved. Synchronous: a hostname is not resolved here (it may point
 * elsewhere by the time a webhook is sent); `guardedLookup` checks it on every connection.
 *
 * @example
 * ```ts
 * destinationProblem('ftp://example.com/hook', { allowPrivate: false });
 * // 'url: the scheme ftp: is not supported; use an http:// or https:// URL'
 * destinationProblem('https://hooks.example.com/plinth', { allowPrivate: false }); // undefined
 * ```
 */
export function destinationProblem(url: string, options: { allowPrivate: boolean }): string | undefined {
  if (url.length > MAX_URL_LENGTH) {
    return `url: is ${url.length} characters long; the limit is ${MAX_URL_LENGTH}, so use a shorter endpoint URL`;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'url: is not a valid absolute URL; write it in full, like https://hooks.example.com/plinth';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return `url: the scheme ${parsed.protocol} is not supported; use an http:// or https:// URL`;
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return 'url: must not contain a username or password; receivers verify the webhook-signature header instead, so remove the credentials from the URL';
  }
  // The URL parser has already turned 2130706433, 0x7f.1 and 127.1 into 127.0.0.1.
  const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  if (isIP(host) !== 0 && !options.allowPrivate && isPrivateAddress(host)) {
    return `url: ${host} is a private address; ${HOW_TO_ALLOW}`;
  }
  return undefined;
}

/**
 * The error for a connection refused because `hostname` led to the private `address`; its
 * `code` is `'ERR_WEBHOOK_PRIVATE_DESTINATION'`.
 *
 * @example
 * ```ts
 * callback(privateDestinationError('hooks.example.com', '10.0.0.7'), '', 4);
 * ```
 */
export function privateDestinationError(hostname: string, address: string): NodeJS.ErrnoException {
  const lead = hostname === address ? `${address} is` : `${hostname} resolves to ${address},`;
  const error: NodeJS.ErrnoException = new Error(`${lead} a private address; ${HOW_TO_ALLOW}`);
  error.code = 'ERR_WEBHOOK_PRIVATE_DESTINATION';
  return error;
}

const systemResolve: Resolve = (hostname) => dns.lookup(hostname, { all: true });

/**
 * A `lookup` for `http.request` that refuses a host if ANY of its addresses is private (unless
 * `allowPrivate`), so a host cannot slip one private address in among public ones.
 *
 * Node connects to exactly the address this function answers, and calls it for every new
 * connection, so the address checked is the address connected to: a DNS answer that changes
 * between a check and the connect (DNS rebinding) has nothing to slip through. Literal IP hosts
 * never reach a `lookup`; callers check those with `isPrivateAddress`.
 *
 * @example
 * ```ts
 * http.request(url, { method: 'POST', lookup: guardedLookup({ allowPrivate: false }) });
 * ```
 */
export function guardedLookup(options: { allowPrivate: boolean; resolve?: Resolve }): LookupFunction {
  const resolve = options.resolve ?? systemResolve;
  // `family` and `hints` in Node's options are ignored: every address is checked whatever
  // family Node would prefer, and Node picks among the allowed ones it is given.
  return (hostname, lookupOptions, callback) => {
    // Through `then` so a resolver that throws instead of rejecting still reaches the callback.
    Promise.resolve(hostname)
      .then(resolve)
      .then(
        (addresses) => {
          const first = addresses[0];
          if (first === undefined) {
            const error: NodeJS.ErrnoException = new Error(
              `${hostname} has no addresses; check the endpoint's hostname`,
            );
            error.code = 'ENOTFOUND';
            callback(error, '', 0);
            return;
          }
          if (!options.allowPrivate) {
            const refused = addresses.find((entry) => isPrivateAddress(entry.address));
            if (refused !== undefined) {
              callback(privateDestinationError(hostname, refused.address), '', 0);
              return;
            }
          }
          if (lookupOptions.all === true) {
            callback(
              null,
              addresses.map(({ address, family }) => ({ address, family })),
            );
          } else {
            callback(null, first.address, first.family);
          }
        },
        (error: NodeJS.ErrnoException) => callback(error, '', 0),
      );
  };
}
