// The few Slack Web API methods the connector calls (chat.postMessage and the external upload
// pair), and how their answers map onto the delivery queue: HTTP 429 and `ratelimited` retry after
// the advertised delay; auth and channel errors are terminal; transient platform errors retry.
import { capRetryAfter, parseRetryAfter } from '../shared/retry-after.ts';
import { callApi, readBounded, WireError } from '../shared/wire-client.ts';

export type SlackCall =
  | { ok: true; body: any }
  | { ok: false; retry: boolean; error: string; retry_after_ms?: number };

/** Errors that can succeed later without anyone changing anything. */
const TRANSIENT = new Set([
  'ratelimited',
  'rate_limited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'team_added_to_org',
]);

function fromWireError(err: unknown): SlackCall {
  if (err instanceof WireError) {
    if (err.kind === 'aborted') throw err;
    return { ok: false, retry: err.kind !== 'redirect', error: `slack_${err.kind}` };
  }
  throw err;
}

function fromResponse(status: number, headers: Headers, json: any): SlackCall {
  if (status === 429) {
    const after = parseRetryAfter(headers.get('retry-after'));
    return {
      ok: false,
      retry: true,
      error: 'slack_rate_limited',
      ...(after !== null ? { retry_after_ms: capRetryAfter(after) } : {}),
    };
  }
  if (status >= 500) return { ok: false, retry: true, error: `slack_http_${status}` };
  if (status < 200 || status >= 300 || json === null || typeof json !== 'object')
    return { ok: false, retry: status === 408, error: `slack_http_${status}` };
  if (json.ok === true) return { ok: true, body: json };
  const error =
    typeof json.error === 'string' && /^[a-z0-9_]{1,64}$/.test(json.error) ? json.error : 'unknown_error';
  if (TRANSIENT.has(error)) {
    const after = parseRetryAfter(headers.get('retry-after'));
    return {
      ok: false,
      retry: true,
      error: `slack_${error}`,
      ...(after !== null ? { retry_after_ms: capRetryAfter(after) } : {}),
    };
  }
  return { ok: false, retry: false, error: `slack_${error}` };
}

export class SlackWebApi {
  private readonly base: string;
  private readonly token: string;
  private readonly signal: AbortSignal | undefined;
  constructor(base: string, token: string, signal?: AbortSignal) {
    this.base = base;
    this.token = token;
    this.signal = signal;
  }

  /** A JSON method call (chat.postMessage). */
  async json(method: string, body: Record<string, unknown>): Promise<SlackCall> {
    try {
      const r = await callApi(
        `${this.base}/${method}`,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${this.token}`,
            'content-type': 'application/json; charset=utf-8',
          },
          body: JSON.stringify(body),
        },
        { signal: this.signal },
      );
      return fromResponse(r.status, r.headers, r.json);
    } catch (err) {
      return fromWireError(err);
    }
  }

  /** A form-encoded method call (the upload methods take no JSON body). */
  async form(method: string, fields: Record<string, string>): Promise<SlackCall> {
    try {
      const r = await callApi(
        `${this.base}/${method}`,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${this.token}` },
          body: new URLSearchParams(fields),
        },
        { signal: this.signal },
      );
      return fromResponse(r.status, r.headers, r.json);
    } catch (err) {
      return fromWireError(err);
    }
  }

  /** The bytes to the upload URL Slack handed out (no token: the URL itself authorizes). */
  async upload(url: string, bytes: Uint8Array, fileName: string): Promise<SlackCall> {
    try {
      const form = new FormData();
      form.append('file', new Blob([bytes as Uint8Array<ArrayBuffer>]), fileName);
      const res = await fetch(url, {
        method: 'POST',
        body: form,
        redirect: 'manual',
        signal: this.signal
          ? AbortSignal.any([this.signal, AbortSignal.timeout(120_000)])
          : AbortSignal.timeout(120_000),
      });
      await readBounded(res, 64 * 1024).catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return { ok: true, body: null };
      return fromResponse(res.status, res.headers, null);
    } catch (_err) {
      if (this.signal?.aborted) throw new WireError('aborted', 'the request was cancelled');
      return { ok: false, retry: true, error: 'slack_upload_failed' };
    }
  }
}
