// One JSON POST to a reply URL for the http output plugin (api-collab §6.4): the host is resolved
// once and the connection pinned to the vetted addresses (the web tools' SSRF guard refuses
// private and local ones unless the route allows the private network), no proxy from the
// environment, no redirect followed, a bounded response read. Errors never carry the URL.
import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { withTraceparent } from '../../telemetry/tracing.ts';
import { checkUrl, type VettedTarget, vetTarget, WebPolicyError } from '../../tools/web/target-policy.ts';

export interface PostResult {
  status: number;
  headers: Record<string, string>;
}

const MAX_RESPONSE_BYTES = 64 * 1024;

export async function postJson(
  rawUrl: string,
  body: Buffer,
  headers: Record<string, string>,
  opts: { allowPrivateNetwork: boolean; timeoutMs: number },
  outer: AbortSignal,
): Promise<PostResult> {
  const deadline = AbortSignal.timeout(opts.timeoutMs);
  const signal = AbortSignal.any([outer, deadline]);
  try {
    const target = opts.allowPrivateNetwork ? await resolveAny(rawUrl) : await vetTarget(rawUrl, {}, signal);
    return await send(target, body, headers, signal);
  } catch (e) {
    if (outer.aborted) throw outer.reason;
    if (e instanceof WebPolicyError) throw e;
    if (deadline.aborted) throw new WebPolicyError('timeout', `timed out after ${opts.timeoutMs} ms`);
    const err = e as NodeJS.ErrnoException;
    // Refused before anything was sent: safe to try again whatever the receiver does with repeats.
    if (err.code === 'ECONNREFUSED')
      throw new WebPolicyError('connection_refused', 'the connection was refused');
    throw new WebPolicyError('network_error', `request failed: ${err.code ?? 'connection error'}`);
  }
}

/** `allow_private_network`: the URL checks without the address policy (still one resolution, pinned). */
async function resolveAny(raw: string): Promise<VettedTarget> {
  const url = checkUrl(raw);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  if (isIP(host)) return { url, host, port, addresses: [{ address: host, family: isIP(host) }] };
  let addresses: Array<{ address: string; family: number }>;
  try {
    addresses = await lookup(host, { all: true, order: 'verbatim' });
  } catch {
    throw new WebPolicyError('dns_failure', 'the reply host could not be resolved');
  }
  if (addresses.length === 0)
    throw new WebPolicyError('dns_failure', 'the reply host resolved to no addresses');
  return { url, host, port, addresses };
}

function send(t: VettedTarget, body: Buffer, headers: Record<string, string>, signal: AbortSignal) {
  const pinned: LookupFunction = (_host, options, callback) => {
    if (options.all) callback(null, t.addresses);
    else callback(null, t.addresses[0]!.address, t.addresses[0]!.family);
  };
  const mod = t.url.protocol === 'https:' ? https : http;
  return new Promise<PostResult>((resolve, reject) => {
    const req = mod.request(
      {
        protocol: t.url.protocol,
        host: t.host,
        port: t.port,
        path: `${t.url.pathname}${t.url.search}`,
        method: 'POST',
        // No pooled socket and no proxy from the environment.
        agent: false,
        lookup: pinned,
        signal,
        headers: { ...withTraceparent(headers), 'content-length': String(body.length) },
      },
      (res) => {
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers))
          if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
        // The answer's body is not used: read a bounded amount so the socket closes cleanly.
        let seen = 0;
        res.on('data', (chunk: Buffer) => {
          seen += chunk.length;
          if (seen > MAX_RESPONSE_BYTES) res.destroy();
        });
        res.on('error', () => resolve({ status: res.statusCode ?? 0, headers: out }));
        res.on('close', () => resolve({ status: res.statusCode ?? 0, headers: out }));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: out }));
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}
