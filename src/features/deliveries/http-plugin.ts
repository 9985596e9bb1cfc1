// The `http` output plugin (api-collab §6.4 "Output delivery by the HTTP plugin"): a JSON POST of
// the output to a reply URL with `Idempotency-Key: kheish:<delivery_id>`. 2xx delivers; 429 and
// 5xx (and 408) retry, honouring Retry-After in seconds or as an HTTP date; any other 4xx is
// terminal. Address: canonical JSON `{"url", "headers"?, "allow_private_network"?}`, or a bare URL.

import { checkReplyHeaders } from '../../config/http-reply-headers.ts';
import { canonicalJson } from '../../engine/output-contract.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import { checkUrl, WebPolicyError } from '../../tools/web/target-policy.ts';
import { postJson } from './http-post.ts';
import type { DeliveryItem, DeliveryOutcome, OutputPlugin, ReplyHandle } from './port.ts';
import { parseRetryAfter } from './settings.ts';

export const invalidTarget = (detail: string) =>
  new DaemonError(400, 'deliveries', 'invalid_reply_target', detail);

export interface HttpAddress {
  url: string;
  headers?: Record<string, string>;
  allow_private_network?: boolean;
  /** false: the receiver does not honour Idempotency-Key, so an attempt cut off by a crash waits for an operator. */
  receiver_deduplicates?: boolean;
}

/** Checks and canonicalizes an http reply route; throws 400 `deliveries/invalid_reply_target`. */
export function normalizeHttpAddress(input: Record<string, unknown>): HttpAddress {
  const url = input.url;
  if (typeof url !== 'string' || url.trim() === '') throw invalidTarget('an http reply target needs a url');
  let parsed: URL;
  try {
    parsed = checkUrl(url.trim());
  } catch (e) {
    throw invalidTarget(
      `the http reply target url is not usable: ${(e as WebPolicyError).code ?? 'invalid_url'}`,
    );
  }
  const out: HttpAddress = { url: parsed.href };
  if (input.headers !== undefined && input.headers !== null) {
    const headers = checkReplyHeaders(input.headers, invalidTarget);
    if (Object.keys(headers).length > 0) out.headers = headers;
  }
  if (input.allow_private_network !== undefined && typeof input.allow_private_network !== 'boolean')
    throw invalidTarget('allow_private_network must be a boolean');
  if (input.allow_private_network === true) out.allow_private_network = true;
  if (input.receiver_deduplicates !== undefined && typeof input.receiver_deduplicates !== 'boolean')
    throw invalidTarget('receiver_deduplicates must be a boolean');
  if (input.receiver_deduplicates === false) out.receiver_deduplicates = false;
  const known = new Set(['url', 'headers', 'allow_private_network', 'receiver_deduplicates']);
  const unknown = Object.keys(input).filter((k) => !known.has(k));
  if (unknown.length > 0) throw invalidTarget(`unknown http reply target field(s): ${unknown.join(', ')}`);
  return out;
}

function parseAddress(address: string): HttpAddress {
  // A bare URL is an address too (connector defaults may give one).
  if (!address.trim().startsWith('{')) return normalizeHttpAddress({ url: address });
  let value: unknown;
  try {
    value = JSON.parse(address);
  } catch {
    throw invalidTarget('an http reply address is a JSON object with a url');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidTarget('an http reply address is a JSON object with a url');
  return normalizeHttpAddress(value as Record<string, unknown>);
}

/** The JSON body POSTed to a reply URL (docs/decisions.md #284). */
export function httpBody(item: DeliveryItem): Buffer {
  return Buffer.from(
    JSON.stringify({
      delivery_id: item.delivery_id,
      attempt: item.attempt,
      run_id: item.run_id,
      session_id: item.session_id,
      content: item.content,
      parts: item.parts,
      artifacts: item.artifacts,
      metadata: item.metadata,
    }),
  );
}

export function createHttpPlugin(opts: { timeoutMs: () => number }): OutputPlugin {
  return {
    plugin: 'http',
    receiverDeduplicates: true,
    async validateAddress(address) {
      parseAddress(address);
    },
    deduplicates(target) {
      try {
        return parseAddress(target.address).receiver_deduplicates !== false;
      } catch {
        return true;
      }
    },
    fromStructured(request): ReplyHandle | null {
      if (request.type !== 'http') return null;
      const { type: _type, ...rest } = request;
      return { plugin: 'http', address: canonicalJson(normalizeHttpAddress(rest)) };
    },
    async deliver(item, ctx): Promise<DeliveryOutcome> {
      let target: HttpAddress;
      try {
        target = parseAddress(item.target.address);
      } catch {
        return { status: 'terminal', error_code: 'invalid_reply_target' };
      }
      try {
        const res = await postJson(
          target.url,
          httpBody(item),
          {
            ...target.headers,
            'user-agent': 'kheish-daemon/0.1 (deliveries)',
            'content-type': 'application/json',
            'idempotency-key': `kheish:${item.delivery_id}`,
          },
          { allowPrivateNetwork: target.allow_private_network === true, timeoutMs: opts.timeoutMs() },
          ctx.signal,
        );
        if (res.status >= 200 && res.status < 300)
          return { status: 'delivered', detail: { http_status: res.status } };
        if (res.status === 429 || res.status === 408 || res.status >= 500) {
          const retryAfter = parseRetryAfter(res.headers['retry-after']);
          return {
            status: 'retry',
            error_code: `http_${res.status}`,
            ...(retryAfter === undefined ? {} : { retry_after_ms: retryAfter }),
          };
        }
        return { status: 'terminal', error_code: `http_${res.status}` };
      } catch (e) {
        if (ctx.signal.aborted) throw e;
        const code = e instanceof WebPolicyError ? e.code : 'network_error';
        // An address the policy refuses will not become acceptable by waiting.
        const terminal = [
          'forbidden_target',
          'invalid_url',
          'unsupported_scheme',
          'url_credentials',
        ].includes(code);
        if (terminal) return { status: 'terminal', error_code: code };
        // Cut off mid-request: the receiver may have it. Only one that deduplicates gets it again.
        const mayHaveArrived = code === 'timeout' || code === 'network_error';
        if (mayHaveArrived && target.receiver_deduplicates === false)
          return { status: 'terminal', error_code: 'outcome_unknown' };
        return { status: 'retry', error_code: code };
      }
    },
  };
}
