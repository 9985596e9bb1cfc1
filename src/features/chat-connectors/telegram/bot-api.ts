// The Telegram Bot API methods the connector calls, and how their answers map onto retries: 429
// (HTTP or `error_code`) waits `parameters.retry_after` or Retry-After (capped); auth and chat
// errors are permanent; 5xx and network failures retry. The bot token is part of every URL, so no
// error message or log line ever carries a URL.
import { capRetryAfter, parseRetryAfter } from '../shared/retry-after.ts';
import { callApi, download, WireError } from '../shared/wire-client.ts';

export type TelegramCall =
  | { ok: true; result: any }
  | { ok: false; retry: boolean; error: string; retry_after_ms?: number; status: number };

function classify(status: number, headers: Headers, json: any): TelegramCall {
  const code = typeof json?.error_code === 'number' ? json.error_code : status;
  if (status >= 200 && status < 300 && json?.ok === true) return { ok: true, result: json.result };
  const params = json?.parameters ?? {};
  if (code === 429 || status === 429) {
    const fromBody = typeof params.retry_after === 'number' ? params.retry_after * 1000 : null;
    const after = fromBody ?? parseRetryAfter(headers.get('retry-after'));
    return {
      ok: false,
      retry: true,
      error: 'telegram_rate_limited',
      status: 429,
      ...(after !== null ? { retry_after_ms: capRetryAfter(after) } : {}),
    };
  }
  if (typeof params.migrate_to_chat_id === 'number')
    return { ok: false, retry: false, error: 'telegram_chat_migrated', status: code };
  if (code >= 500 || status >= 500)
    return { ok: false, retry: true, error: `telegram_http_${code}`, status: code };
  const description = typeof json?.description === 'string' ? json.description.toLowerCase() : '';
  if (code === 401) return { ok: false, retry: false, error: 'telegram_unauthorized', status: code };
  if (code === 403) return { ok: false, retry: false, error: 'telegram_forbidden', status: code };
  if (description.includes('chat not found'))
    return { ok: false, retry: false, error: 'telegram_chat_not_found', status: code };
  if (code === 409) return { ok: false, retry: true, error: 'telegram_conflict', status: code };
  if (json === null) return { ok: false, retry: status === 408, error: `telegram_http_${status}`, status };
  return {
    ok: false,
    retry: false,
    error: code === 400 ? 'telegram_bad_request' : `telegram_http_${code}`,
    status: code,
  };
}

export class TelegramBotApi {
  private readonly base: string;
  private readonly token: string;
  private readonly signal: AbortSignal | undefined;
  constructor(base: string, token: string, signal?: AbortSignal) {
    this.base = base;
    this.token = token;
    this.signal = signal;
  }

  /** A method call with a JSON body, or multipart form data (files). */
  async call(
    method: string,
    params: Record<string, unknown> | FormData,
    timeoutMs = 60_000,
  ): Promise<TelegramCall> {
    const init: RequestInit =
      params instanceof FormData
        ? { method: 'POST', body: params }
        : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params) };
    try {
      const r = await callApi(`${this.base}/bot${this.token}/${method}`, init, {
        signal: this.signal,
        timeoutMs,
      });
      return classify(r.status, r.headers, r.json);
    } catch (err) {
      if (err instanceof WireError) {
        if (err.kind === 'aborted') throw err;
        return { ok: false, retry: err.kind !== 'redirect', error: `telegram_${err.kind}`, status: 0 };
      }
      throw err;
    }
  }

  /** A file the Bot API names by `file_path` (from getFile). */
  async downloadFile(filePath: string, maxBytes: number): Promise<Uint8Array> {
    if (!/^[A-Za-z0-9._\-/]+$/.test(filePath) || filePath.split('/').includes('..'))
      throw new WireError('status', 'the Bot API returned an unusable file path');
    const got = await download(`${this.base}/file/bot${this.token}/${filePath}`, {}, maxBytes, {
      signal: this.signal,
    });
    return got.bytes;
  }
}
