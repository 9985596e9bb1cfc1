// The HTTP client of the chat platforms' APIs. Redirects are never followed (a redirect could carry
// a bot token's request elsewhere), answers are read up to a bound, every call has a deadline and
// honours the caller's AbortSignal. Errors never quote the URL: Telegram's carries the bot token.

export interface WireResponse {
  status: number;
  headers: Headers;
  /** The JSON body, or null when it is not JSON. */
  json: any;
}

export class WireError extends Error {
  /** `network`, `timeout`, `redirect`, `too_large`, `aborted`. */
  readonly kind: string;
  constructor(kind: string, message: string) {
    super(message);
    this.name = 'WireError';
    this.kind = kind;
  }
}

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_JSON_BYTES = 4 * 1024 * 1024;

function deadline(signal: AbortSignal | undefined, timeoutMs: number): AbortSignal {
  const t = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([signal, t]) : t;
}

async function send(
  url: string,
  init: RequestInit,
  signal: AbortSignal | undefined,
  timeoutMs: number,
): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, redirect: 'manual', signal: deadline(signal, timeoutMs) });
  } catch (err) {
    if (signal?.aborted) throw new WireError('aborted', 'the request was cancelled');
    const name = (err as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError')
      throw new WireError('timeout', `no answer within ${timeoutMs} ms`);
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw new WireError('network', `the request failed${cause ? ` (${cause})` : ''}`);
  }
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel().catch(() => undefined);
    throw new WireError('redirect', `the server answered a redirect (${res.status}), which is not followed`);
  }
  return res;
}

/** Reads at most `max` bytes of the body; more is an error (the stream is cancelled). */
export async function readBounded(res: Response, max: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? '');
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw new WireError('too_large', `the body is larger than ${max} bytes`);
  }
  if (!res.body) return new Uint8Array();
  const parts: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      throw new WireError('too_large', `the body is larger than ${max} bytes`);
    }
    parts.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** One API call answered with JSON (a non-JSON answer gives `json: null`). */
export async function callApi(
  url: string,
  init: RequestInit,
  opts: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<WireResponse> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const res = await send(url, init, opts.signal, timeoutMs);
  let bytes: Uint8Array;
  try {
    bytes = await readBounded(res, MAX_JSON_BYTES);
  } catch (err) {
    if (err instanceof WireError) throw err;
    throw new WireError('network', 'the answer was cut off');
  }
  let json: any = null;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, json };
}

/** Downloads a file of at most `maxBytes`; a non-2xx answer is an error with its status. */
export async function download(
  url: string,
  headers: Record<string, string>,
  maxBytes: number,
  opts: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<{ bytes: Uint8Array; contentType: string | null }> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const res = await send(url, { method: 'GET', headers }, opts.signal, timeoutMs);
  if (res.status < 200 || res.status >= 300) {
    await res.body?.cancel().catch(() => undefined);
    throw new WireError('status', `the file server answered ${res.status}`);
  }
  try {
    return { bytes: await readBounded(res, maxBytes), contentType: res.headers.get('content-type') };
  } catch (err) {
    if (err instanceof WireError) throw err;
    throw new WireError('network', 'the download was cut off');
  }
}
