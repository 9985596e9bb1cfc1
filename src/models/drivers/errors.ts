// Maps whatever the AI SDK or the network throws into one ModelCallError, so the engine can decide
// between retry, fallback and failure without knowing any provider.

import { APICallError } from 'ai';
import { retryAfterMs } from '../../errors/retry-after.ts';
import { ModelCallError } from '../driver.ts';

/** 408 (timeout), 409 (conflict: OpenAI uses it for transient lock errors), 429 and every 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

type HeaderBag = Record<string, string | undefined> | Headers | undefined;

function header(headers: HeaderBag, name: string): string | undefined {
  if (!headers) return undefined;
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

/**
 * `retry-after-ms` (OpenAI, fractional milliseconds) wins over `retry-after` (seconds or an
 * HTTP date). Anything unparsable or negative is ignored rather than guessed.
 */
export function parseRetryAfterMs(headers: HeaderBag, now: number = Date.now()): number | null {
  const ms = header(headers, 'retry-after-ms');
  if (ms !== undefined && ms.trim() !== '') {
    const n = Number(ms);
    if (Number.isFinite(n) && n >= 0) return Math.ceil(n);
  }
  return retryAfterMs(header(headers, 'retry-after'), now);
}

// AI SDK error classes are matched by name: provider packages may bundle their own copy of
// @ai-sdk/provider, so instanceof is not reliable across them.
const MALFORMED_OUTPUT = new Set([
  'AI_JSONParseError',
  'AI_TypeValidationError',
  'AI_EmptyResponseBodyError',
  'AI_InvalidResponseDataError',
  'AI_NoContentGeneratedError',
  'AI_NoOutputGeneratedError',
  'AI_InvalidToolInputError',
]);

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

function isNetworkError(err: unknown): boolean {
  for (let e: any = err, depth = 0; e && depth < 5; e = e.cause, depth++) {
    if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
    if (e instanceof TypeError && /fetch failed|terminated|network/i.test(e.message)) return true;
  }
  return false;
}

/** A provider error object carried inside the stream (`{type:'error', error:{...}}`). */
function streamErrorStatus(err: any): number | null {
  if (typeof err?.statusCode === 'number') return err.statusCode;
  switch (err?.type ?? err?.error?.type ?? err?.code) {
    case 'rate_limit_error':
    case 'rate_limit_exceeded':
      return 429;
    case 'overloaded_error':
      return 529;
    case 'api_error':
    case 'server_error':
      return 500;
    default:
      return null;
  }
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  const e = err as any;
  return String(e?.message ?? e?.error?.message ?? JSON.stringify(err));
}

export function toModelCallError(err: unknown, provider: string): ModelCallError {
  if (err instanceof ModelCallError) return err;
  const prefix = `${provider}: `;
  if (APICallError.isInstance(err)) {
    const status = err.statusCode ?? null;
    if (status !== null && status < 300) {
      // A 2xx whose body could not be read to the end: the stream broke after the headers.
      const cause = err.cause ? `: ${messageOf(err.cause)}` : '';
      return new ModelCallError(`${prefix}response stream broken${cause}`, { status: null, retryable: true });
    }
    return new ModelCallError(prefix + err.message, {
      status,
      // No status = the request never got an answer (refused, reset, DNS): worth another try.
      retryable: status === null ? true : isRetryableStatus(status),
      retryAfterMs: parseRetryAfterMs(err.responseHeaders),
    });
  }
  const name = (err as any)?.name;
  if (typeof name === 'string' && MALFORMED_OUTPUT.has(name))
    return new ModelCallError(`${prefix}malformed response stream: ${messageOf(err)}`, {
      status: null,
      retryable: true,
    });
  if (isNetworkError(err))
    return new ModelCallError(`${prefix}network error: ${messageOf(err)}`, { status: null, retryable: true });
  const e = err as { statusCode?: unknown; isRetryable?: unknown } | null;
  const classified = typeof e?.statusCode === 'number' || typeof e?.isRetryable === 'boolean';
  if (e !== null && typeof e === 'object' && (classified || !(err instanceof Error))) {
    // Provider errors reported inside the stream (Anthropic `event: error`, OpenAI `error` /
    // `response.failed`, Gemini `{error}` chunks). Our status rule wins over the provider's flag.
    const status = streamErrorStatus(err);
    const flagged = e.isRetryable;
    const retryable =
      status !== null ? isRetryableStatus(status) : typeof flagged === 'boolean' ? flagged : true;
    return new ModelCallError(prefix + messageOf(err), { status, retryable });
  }
  // Anything else is a bug or a configuration problem (missing key, unsupported setting):
  // retrying the same request would fail the same way.
  return new ModelCallError(prefix + messageOf(err), { status: null, retryable: false });
}
