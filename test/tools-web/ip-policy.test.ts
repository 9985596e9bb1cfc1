import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forbiddenAddressReason, parseIPv6 } from '../../src/tools/web/ip-policy.ts';

const FORBIDDEN: Array<[string, RegExp]> = [
  ['127.0.0.1', /loopback/],
  ['127.255.255.254', /loopback/],
  ['0.0.0.0', /unspecified/],
  ['10.1.2.3', /private/],
  ['172.16.0.1', /private/],
  ['172.31.255.255', /private/],
  ['192.168.1.1', /private/],
  ['169.254.169.254', /metadata/],
  ['169.254.1.1', /link-local/],
  ['100.64.0.1', /carrier-grade NAT/],
  ['100.127.255.255', /carrier-grade NAT/],
  ['100.100.100.200', /metadata/],
  ['224.0.0.1', /multicast/],
  ['239.255.255.250', /multicast/],
  ['255.255.255.255', /broadcast/],
  ['192.0.2.5', /documentation/],
  ['198.18.0.1', /benchmarking/],
  ['::', /unspecified/],
  ['::1', /loopback/],
  ['[::1]', /loopback/],
  ['fe80::1', /link-local/],
  ['fe80::1%eth0', /link-local/],
  ['fc00::1', /unique-local/],
  ['fd12:3456::1', /unique-local/],
  ['fd00:ec2::254', /metadata/],
  ['ff02::1', /multicast/],
  ['::ffff:127.0.0.1', /loopback.*IPv4-mapped/],
  ['::ffff:7f00:1', /loopback.*IPv4-mapped/],
  ['::ffff:10.0.0.1', /private.*IPv4-mapped/],
  ['::ffff:169.254.169.254', /metadata/],
  ['::127.0.0.1', /loopback.*IPv4-compatible/],
  ['64:ff9b::7f00:1', /loopback.*NAT64/],
  ['2002:7f00:1::', /loopback.*6to4/],
  ['2002:a00:1::1', /private.*6to4/],
  ['2001:db8::1', /documentation/],
  ['2001:0::1', /Teredo/],
  ['100::1', /not a global unicast/],
];

const ALLOWED = [
  '8.8.8.8',
  '1.1.1.1',
  '93.184.216.34',
  '172.32.0.1',
  '100.128.0.1',
  '2606:4700::1111',
  '::ffff:8.8.8.8',
];

test('ip policy: loopback, private, link-local, CGNAT, ULA, multicast, mapped and metadata addresses are refused', () => {
  for (const [address, reason] of FORBIDDEN) {
    const got = forbiddenAddressReason(address);
    assert.ok(got, `${address} must be refused`);
    assert.match(got, reason, `${address}: ${got}`);
  }
});

test('ip policy: public unicast addresses are allowed', () => {
  for (const address of ALLOWED) assert.equal(forbiddenAddressReason(address), null, address);
});

test('ip policy: non-addresses are refused, IPv6 spellings parse to the same groups', () => {
  assert.equal(forbiddenAddressReason('example.com'), 'not an IP address');
  assert.deepEqual(parseIPv6('::ffff:127.0.0.1'), [0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]);
  assert.deepEqual(parseIPv6('1:2:3:4:5:6:7:8'), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(parseIPv6('1::'), [1, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(parseIPv6('1:::2'), null);
  assert.equal(parseIPv6('1:2:3:4:5:6:7:8:9'), null);
});
