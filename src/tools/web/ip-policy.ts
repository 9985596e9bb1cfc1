// Which IP addresses the web tools may connect to. Anything that is not plainly a public unicast
// address is refused: an agent must not be usable to reach the daemon's host, its private
// network, or a cloud metadata service (SSRF).
import { isIPv4, isIPv6 } from 'node:net';

type Range4 = [base: number, bits: number, reason: string];

const V4_RANGES: Range4[] = [
  [ip4(0, 0, 0, 0), 8, 'an unspecified ("this network") address'],
  [ip4(10, 0, 0, 0), 8, 'a private address (10.0.0.0/8)'],
  [ip4(100, 64, 0, 0), 10, 'a carrier-grade NAT address (100.64.0.0/10)'],
  [ip4(127, 0, 0, 0), 8, 'a loopback address'],
  [ip4(169, 254, 0, 0), 16, 'a link-local address (169.254.0.0/16)'],
  [ip4(172, 16, 0, 0), 12, 'a private address (172.16.0.0/12)'],
  [ip4(192, 0, 0, 0), 24, 'an IETF protocol-assignment address (192.0.0.0/24)'],
  [ip4(192, 0, 2, 0), 24, 'a documentation address'],
  [ip4(192, 88, 99, 0), 24, 'a 6to4 relay address'],
  [ip4(192, 168, 0, 0), 16, 'a private address (192.168.0.0/16)'],
  [ip4(198, 18, 0, 0), 15, 'a benchmarking address (198.18.0.0/15)'],
  [ip4(198, 51, 100, 0), 24, 'a documentation address'],
  [ip4(203, 0, 113, 0), 24, 'a documentation address'],
  [ip4(224, 0, 0, 0), 4, 'a multicast address'],
  [ip4(240, 0, 0, 0), 4, 'a reserved or broadcast address'],
];

// Named separately so the refusal says what the address really is.
const METADATA_V4 = new Set(['169.254.169.254', '169.254.170.2', '100.100.100.200', '192.0.0.192']);
const METADATA_V6 = new Set(['fd00:ec2:0:0:0:0:0:254']);

/** Why connecting to `address` is refused, or null when it is a public unicast address. */
export function forbiddenAddressReason(address: string): string | null {
  const bare = address.replace(/^\[|\]$/g, '');
  if (isIPv4(bare)) return forbiddenV4(parseIPv4(bare)!, bare);
  if (isIPv6(bare)) return forbiddenV6(parseIPv6(bare)!);
  return 'not an IP address';
}

function forbiddenV4(n: number, text: string): string | null {
  if (METADATA_V4.has(text)) return 'a cloud metadata service address';
  for (const [base, bits, reason] of V4_RANGES) {
    if (inRange4(n, base, bits)) return reason;
  }
  return null;
}

function forbiddenV6(h: number[]): string | null {
  const text = h.map((x) => x.toString(16)).join(':');
  if (METADATA_V6.has(text)) return 'a cloud metadata service address';
  const zeros = (from: number, to: number): boolean => h.slice(from, to).every((x) => x === 0);
  const v4 = (hi: number, lo: number): number => ((h[hi]! << 16) | h[lo]!) >>> 0;
  if (zeros(0, 8)) return 'the unspecified address';
  if (zeros(0, 7) && h[7] === 1) return 'a loopback address';
  // IPv4 embedded in IPv6: judge the IPv4 address the packets really go to.
  if (zeros(0, 5) && h[5] === 0xffff) return embedded('IPv4-mapped', v4(6, 7));
  if (zeros(0, 6)) return embedded('IPv4-compatible', v4(6, 7));
  if (h[0] === 0x64 && h[1] === 0xff9b && zeros(2, 6)) return embedded('NAT64', v4(6, 7));
  if (h[0] === 0x64 && h[1] === 0xff9b && h[2] === 1) return 'a local-use NAT64 address';
  if (h[0] === 0x2002) return embedded('6to4', v4(1, 2));
  if ((h[0]! & 0xfe00) === 0xfc00) return 'a unique-local address (fc00::/7)';
  if ((h[0]! & 0xffc0) === 0xfe80) return 'a link-local address (fe80::/10)';
  if ((h[0]! & 0xffc0) === 0xfec0) return 'a site-local address (fec0::/10)';
  if ((h[0]! & 0xff00) === 0xff00) return 'a multicast address';
  if ((h[0]! & 0xe000) !== 0x2000) return 'not a global unicast address (outside 2000::/3)';
  if (h[0] === 0x2001 && h[1] === 0) return 'a Teredo tunnel address';
  if (h[0] === 0x2001 && h[1] === 0xdb8) return 'a documentation address';
  if (h[0] === 0x2001 && h[1] === 2 && h[2] === 0) return 'a benchmarking address';
  if (h[0] === 0x2001 && (h[1]! & 0xfff0) === 0x10) return 'an ORCHID address';
  if (h[0] === 0x3fff && (h[1]! & 0xf000) === 0) return 'a documentation address';
  return null;
}

function embedded(kind: string, n: number): string | null {
  const text = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  const inner = forbiddenV4(n, text);
  return inner ? `${inner} (${kind} IPv6 form of ${text})` : null;
}

export function parseIPv4(s: string): number | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    n = n * 256 + Number(p);
  }
  return n >>> 0;
}

/** Eight 16-bit groups; accepts `::`, an embedded dotted IPv4 tail and a `%zone` suffix. */
export function parseIPv6(input: string): number[] | null {
  let s = input.replace(/^\[|\]$/g, '');
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    // Rewrite a dotted IPv4 tail as two hex groups so one parser handles both spellings.
    const v4 = parseIPv4(s.slice(lastColon + 1));
    if (v4 === null) return null;
    s = `${s.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const group = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const left = group(halves[0]!);
  const right = halves.length === 2 ? group(halves[1]!) : [];
  if (!left || !right) return null;
  const explicit = left.length + right.length;
  if (halves.length === 1 && explicit !== 8) return null;
  if (halves.length === 2 && explicit > 7) return null;
  return [...left, ...new Array<number>(8 - explicit).fill(0), ...right];
}

function ip4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function inRange4(n: number, base: number, bits: number): boolean {
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (n & mask) >>> 0 === base;
}
