// The one HTTP client the web tools use: GET only, no proxy, no cookies, every hop vetted by
// target-policy and connected to the vetted address itself (pinned), redirects followed by hand
// and re-vetted, body size capped (also after decompression), one overall deadline.
import type { IncomingMessage } from 'node:http';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import zlib from 'node:zlib';
import { looksBinary, refusedContentType } from './content.ts';
import type { TargetPolicyOptions, VettedTarget } from './target-policy.ts';
import { vetTarget, WebPolicyError } from './target-policy.ts';

export interface SafeFetchOptions extends TargetPolicyOptions {
  timeoutMs: number;
  maxBodyBytes: number;
  /** Hard ceiling 5, whatever is configured. */
  maxRedirects?: number;
  userAgent?: string;
  accept?: string;
  /** POST sends `body` (hooks); GET by default (the web tools). */
  method?: 'GET' | 'POST';
  body?: Buffer;
  /** Extra request headers (never a proxy or host header: those are the client's). */
  headers?: Record<string, string>;
  /** `refuse`: a redirect is an error instead of a hop (hook targets are exact endpoints). */
  redirects?: 'follow' | 'refuse';
}

export interface SafeFetchResult {
  url: string;
  final_url: string;
  redirects: number;
  status: number;
  headers: Record<string, string>;
  content_type: string | undefined;
  body: Buffer;
  truncated: boolean;
  /** The socket address actually connected to (always one of the vetted addresses). */
  remote_address: string | null;
}

export const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_HEADER_VALUE = 4096;
const DEFAULT_UA = 'kheish-daemon/0.1 (web tools)';

export async function safeFetch(
  raw: string,
  opts: SafeFetchOptions,
  outer: AbortSignal,
): Promise<SafeFetchResult> {
  const deadline = AbortSignal.timeout(opts.timeoutMs);
  const signal = AbortSignal.any([outer, deadline]);
  const maxRedirects = Math.min(opts.maxRedirects ?? MAX_REDIRECTS, MAX_REDIRECTS);
  try {
    let current = raw;
    for (let redirects = 0; ; redirects++) {
      const target = await vetHop(current, redirects, opts, signal);
      const res = await requestOnce(target, opts, signal);
      const location = res.headers.location;
      if (REDIRECT_STATUSES.has(res.statusCode ?? 0) && location) {
        res.destroy();
        if (opts.redirects === 'refuse')
          throw new WebPolicyError('redirect_refused', `the target answered with redirect ${res.statusCode}`);
        if (redirects >= maxRedirects) {
          throw new WebPolicyError(
            'too_many_redirects',
            `stopped after ${maxRedirects} redirects (at ${current})`,
          );
        }
        // The next hop goes through vetTarget again: scheme, credentials, name, DNS, addresses.
        current = resolveLocation(location, target.url);
        continue;
      }
      return await readResponse(raw, target, res, redirects, opts, signal);
    }
  } catch (e) {
    if (outer.aborted) throw outer.reason;
    if (e instanceof WebPolicyError) throw e;
    if (deadline.aborted) throw new WebPolicyError('timeout', `timed out after ${opts.timeoutMs} ms`);
    const err = e as NodeJS.ErrnoException;
    throw new WebPolicyError('network_error', `request failed: ${err.code ?? err.message}`);
  }
}

async function vetHop(url: string, redirects: number, opts: SafeFetchOptions, signal: AbortSignal) {
  try {
    return await vetTarget(url, opts, signal);
  } catch (e) {
    // Say that a redirect led here: the URL the caller gave was fine, the server sent us on.
    if (redirects > 0 && e instanceof WebPolicyError) {
      throw new WebPolicyError(e.code, `redirect ${redirects} was refused: ${e.message}`);
    }
    throw e;
  }
}

function resolveLocation(location: string, base: URL): string {
  try {
    return new URL(location, base).href;
  } catch {
    throw new WebPolicyError(
      'invalid_redirect',
      `redirect to an invalid location ${JSON.stringify(location)}`,
    );
  }
}

function requestOnce(t: VettedTarget, opts: SafeFetchOptions, signal: AbortSignal): Promise<IncomingMessage> {
  // Whatever name the socket layer asks about, it gets the vetted answer: no second DNS query.
  const pinned: LookupFunction = (_host, options, callback) => {
    if (options.all) callback(null, t.addresses);
    else callback(null, t.addresses[0]!.address, t.addresses[0]!.family);
  };
  const mod = t.url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      {
        protocol: t.url.protocol,
        host: t.host,
        port: t.port,
        path: `${t.url.pathname}${t.url.search}`,
        method: opts.method ?? 'GET',
        // A fresh agent per hop: no pooled socket from an earlier, differently vetted hop, and
        // no proxy from the environment.
        agent: false,
        lookup: pinned,
        signal,
        headers: {
          'user-agent': opts.userAgent ?? DEFAULT_UA,
          accept:
            opts.accept ?? 'text/html,application/xhtml+xml,application/json;q=0.9,text/*;q=0.8,*/*;q=0.1',
          'accept-encoding': 'gzip, deflate, br',
          ...opts.headers,
          ...(opts.body ? { 'content-length': String(opts.body.length) } : {}),
        },
      },
      resolve,
    );
    req.once('error', reject);
    req.end(opts.body);
  });
}

async function readResponse(
  requested: string,
  target: VettedTarget,
  res: IncomingMessage,
  redirects: number,
  opts: SafeFetchOptions,
  signal: AbortSignal,
): Promise<SafeFetchResult> {
  const contentType = res.headers['content-type'];
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > opts.maxBodyBytes) {
    res.destroy();
    throw new WebPolicyError(
      'body_too_large',
      `the response declares ${declared} bytes, more than the ${opts.maxBodyBytes}-byte limit`,
    );
  }
  const typeRefusal = refusedContentType(contentType);
  if (typeRefusal) {
    res.destroy();
    throw new WebPolicyError('binary_content', typeRefusal);
  }
  const remote = res.socket?.remoteAddress ?? null;
  const { body, truncated } = await readCapped(res, opts.maxBodyBytes, signal);
  if (!contentType && looksBinary(body)) {
    throw new WebPolicyError('binary_content', 'the response has no content type and its bytes are binary');
  }
  return {
    url: requested,
    final_url: target.url.href,
    redirects,
    status: res.statusCode ?? 0,
    headers: headerMap(res),
    content_type: contentType,
    body,
    truncated,
    remote_address: remote,
  };
}

async function readCapped(
  res: IncomingMessage,
  max: number,
  signal: AbortSignal,
): Promise<{ body: Buffer; truncated: boolean }> {
  const stream = decoded(res);
  const chunks: Buffer[] = [];
  let len = 0;
  let truncated = false;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      signal.throwIfAborted();
      const room = max - len;
      if (chunk.length > room) {
        chunks.push(chunk.subarray(0, room));
        len += room;
        truncated = true;
        break;
      }
      chunks.push(chunk);
      len += chunk.length;
    }
  } finally {
    stream.destroy();
    res.destroy();
  }
  return { body: Buffer.concat(chunks, len), truncated };
}

/** Decompresses when the server compressed; the cap applies to the decompressed bytes. */
function decoded(res: IncomingMessage): Readable {
  const enc = String(res.headers['content-encoding'] ?? '')
    .trim()
    .toLowerCase();
  const make =
    enc === 'gzip' || enc === 'x-gzip'
      ? zlib.createGunzip
      : enc === 'deflate'
        ? zlib.createInflate
        : enc === 'br'
          ? zlib.createBrotliDecompress
          : undefined;
  if (!make) {
    if (enc !== '' && enc !== 'identity') {
      res.destroy();
      throw new WebPolicyError('unsupported_encoding', `unsupported content encoding ${enc}`);
    }
    return res;
  }
  const out = make();
  pipeline(res, out, () => {
    // errors surface through iteration of `out`
  });
  return out;
}

function headerMap(res: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    // Cookies are the remote site's session state, useless to a model and sometimes sensitive.
    if (name === 'set-cookie' || value === undefined) continue;
    const text = Array.isArray(value) ? value.join(', ') : value;
    out[name] = text.length > MAX_HEADER_VALUE ? `${text.slice(0, MAX_HEADER_VALUE)}…` : text;
  }
  return out;
}
