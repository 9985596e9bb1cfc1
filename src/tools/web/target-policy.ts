// Vets one URL before the web tools connect: scheme, credentials, host name, and every address
// the name resolves to. The vetted addresses are what the connection is pinned to, so a second
// DNS answer (rebinding) can never be used.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { forbiddenAddressReason } from './ip-policy.ts';

export interface ResolvedAddress {
  address: string;
  family: number;
}

export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

/** Live ToolRuntimeLimits, read at every call; they can only lower the configured caps. */
export interface RuntimeLimitsView {
  max_timeout_ms?: number;
  max_output_bytes?: number;
}

export interface TargetPolicyOptions {
  /** DNS resolver; defaults to the system resolver (all addresses). Tests inject a stub. */
  resolve?: Resolver;
  /**
   * TEST ONLY — never derived from user or model input. `true` lifts the address policy
   * entirely; a list of `ip:port` / `[ipv6]:port` strings exempts exactly those sockets (loopback
   * fixture servers) while everything else stays refused.
   */
  allowPrivateTargetsForTests?: boolean | string[];
  /**
   * An operator's explicit opt-in for one configured target (an external sidecar's
   * `allow_private_network`, or a loopback child process): the address policy does not apply.
   */
  allowPrivateNetwork?: boolean;
  limits?: () => RuntimeLimitsView;
}

export interface VettedTarget {
  url: URL;
  /** Host name as the server should see it (no IPv6 brackets). */
  host: string;
  port: number;
  /** Addresses the connection may use: resolved once, all checked. */
  addresses: ResolvedAddress[];
}

/** A refusal the model should read verbatim; `code` is stable for tests and audit. */
export class WebPolicyError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'WebPolicyError';
    this.code = code;
  }
}

const FORBIDDEN_NAMES = new Set([
  'localhost',
  'localhost.localdomain',
  'ip6-localhost',
  'ip6-loopback',
  'metadata',
  'metadata.goog',
  'metadata.google.internal',
  'instance-data',
]);
// Reserved or local-only name spaces: they never name a public service.
const FORBIDDEN_SUFFIXES = ['.localhost', '.local', '.localdomain', '.internal', '.home.arpa'];

/** Parses and checks everything that does not need DNS. */
export function checkUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebPolicyError('invalid_url', `not a valid absolute URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WebPolicyError(
      'unsupported_scheme',
      `only http and https URLs are allowed, not ${url.protocol.replace(/:$/, '')}`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new WebPolicyError(
      'url_credentials',
      'URLs with embedded credentials (user:password@) are refused',
    );
  }
  if (url.hostname === '') throw new WebPolicyError('invalid_url', 'the URL has no host');
  return url;
}

export async function vetTarget(
  raw: string,
  policy: TargetPolicyOptions,
  signal: AbortSignal,
): Promise<VettedTarget> {
  const url = checkUrl(raw);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  const testAll = policy.allowPrivateTargetsForTests === true || policy.allowPrivateNetwork === true;
  const exempt = (address: string): boolean =>
    testAll ||
    (Array.isArray(policy.allowPrivateTargetsForTests) &&
      policy.allowPrivateTargetsForTests.includes(
        `${isIP(address) === 6 ? `[${address}]` : address}:${port}`,
      ));

  if (isIP(host)) {
    const reason = exempt(host) ? null : forbiddenAddressReason(host);
    if (reason) throw refused(raw, url, `${host} is ${reason}`);
    return { url, host, port, addresses: [{ address: host, family: isIP(host) }] };
  }
  if (!testAll && isLocalHostName(host)) {
    throw refused(raw, url, `${host} is a local or metadata host name`);
  }
  const answers = await resolveWithSignal(policy.resolve ?? systemResolve, host, signal);
  if (answers.length === 0) throw new WebPolicyError('dns_failure', `${host} resolved to no addresses`);
  const addresses: ResolvedAddress[] = [];
  for (const a of answers) {
    const address = a.address.replace(/^\[|\]$/g, '');
    if (!isIP(address))
      throw new WebPolicyError('dns_failure', `${host} resolved to a non-address: ${address}`);
    // Every answer must pass: a mix of public and private answers is a rebinding setup.
    const reason = exempt(address) ? null : forbiddenAddressReason(address);
    if (reason) throw refused(raw, url, `${host} resolves to ${address}, ${reason}`);
    addresses.push({ address, family: isIP(address) });
  }
  return { url, host, port, addresses };
}

export function isLocalHostName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return FORBIDDEN_NAMES.has(name) || FORBIDDEN_SUFFIXES.some((s) => name.endsWith(s));
}

/** The smaller of a configured value and the live runtime limit, when one is set. */
export function capped(configured: number, limit: number | undefined): number {
  return limit !== undefined && limit > 0 ? Math.min(configured, limit) : configured;
}

function refused(raw: string, url: URL, why: string): WebPolicyError {
  // Show what the caller wrote and what it normalizes to (2130706433 -> 127.0.0.1).
  const shown = raw.length > 200 ? `${raw.slice(0, 200)}…` : raw;
  const origin = raw.startsWith(url.origin) ? '' : ` (host ${url.host})`;
  return new WebPolicyError(
    'forbidden_target',
    `refused ${shown}${origin}: ${why}; web tools only reach public internet addresses`,
  );
}

async function systemResolve(host: string): Promise<ResolvedAddress[]> {
  return lookup(host, { all: true, order: 'verbatim' });
}

async function resolveWithSignal(
  resolve: Resolver,
  host: string,
  signal: AbortSignal,
): Promise<ResolvedAddress[]> {
  signal.throwIfAborted();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([resolve(host), aborted]);
  } catch (e) {
    if (signal.aborted) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new WebPolicyError('dns_failure', `could not resolve ${host}${code ? ` (${code})` : ''}`);
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}
