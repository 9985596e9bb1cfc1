// What an artifact holds at each capture level (docs/decisions.md #150):
//   on        the structure only: keys, roles, names, numbers; every other text is replaced by its
//             size and a digest, so nothing said by the user, the model or a tool is stored;
//   redacted  the content, with credentials removed (the daemon's secret values, the operator's
//             KHEISH_DEBUG_REDACT_TOKENS, values under credential-named keys, known token shapes)
//             and personal data (e-mail addresses, card and SSN-like numbers, inline media) masked;
//   full      the content as sent and received, credentials still removed.
// When the operator's token file cannot be read, text fails closed to a marker.
import { createHash } from 'node:crypto';
import { isSecretKey, maskSecrets } from '../../engine/trace-redact.ts';

export type CaptureLevel = 'on' | 'redacted' | 'full';

export const REDACTED = '[redacted]';
export const CONFIG_ERROR_MARKER = '[redacted:debug-redaction-config-error]';

export interface RenderContext {
  level: CaptureLevel;
  /** The daemon's credential values (secret slots, provider keys). */
  secrets: readonly string[];
  /** The operator's tokens, or null when their file is unreadable (fail closed). */
  tokens: readonly string[] | null;
}

/** Strings kept as they are at `on`: they name things, they say nothing. */
const STRUCTURAL_KEYS = new Set([
  'role',
  'name',
  'type',
  'model',
  'route_id',
  'purpose',
  'stop_reason',
  'provider_stop_reason',
  'finish_reason',
  'method',
  'url',
  'event',
  'id',
  'tool_call_id',
  'tool_choice',
  'reasoning_effort',
  'kind',
  'level',
  'content-type',
]);

const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

function summary(text: string): string {
  return `[text chars=${text.length} sha256=${digest(text)}]`;
}

/** Below these keys everything is content (tool call arguments): `on` keeps no string of it. */
const CONTENT_KEYS = new Set(['arguments', 'input', 'args']);

/** The value as the level lets it be stored (a new value; the input is not changed). */
export function renderValue(value: unknown, ctx: RenderContext): unknown {
  return walk(value, ctx, null, false);
}

function walk(value: unknown, ctx: RenderContext, key: string | null, content: boolean): unknown {
  if (typeof value === 'string') {
    if (key !== null && isSecretKey(key) && value !== '') return REDACTED;
    if (ctx.level !== 'on') return scrub(value, ctx);
    const structural = !content && key !== null && STRUCTURAL_KEYS.has(key.toLowerCase());
    return structural ? scrub(value, ctx) : summary(value);
  }
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => walk(v, ctx, null, content));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>))
    out[k] = walk(v, ctx, k, content || CONTENT_KEYS.has(k));
  return out;
}

/** Credentials out of a text; at `redacted` personal data and inline media too. */
export function scrub(text: string, ctx: RenderContext): string {
  if (ctx.tokens === null) return CONFIG_ERROR_MARKER;
  let out = maskSecrets(text, ctx.secrets);
  // The operator named these tokens: any length counts, longest first.
  for (const t of [...ctx.tokens].sort((a, b) => b.length - a.length))
    if (out.includes(t)) out = out.split(t).join(REDACTED);
  out = maskTokenShapes(out);
  if (ctx.level === 'redacted') out = maskPersonalData(out);
  return out;
}

const TOKEN_SHAPES: RegExp[] = [
  // Provider and platform keys by prefix.
  /(?<![\w-])(?:sk-ant-|sk-proj-|sk-|ghp_|gho_|github_pat_|xox[abprs]-|AKIA)[A-Za-z0-9_-]{8,}/g,
  // JWTs.
  /(?<![\w-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
];
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
const PEM = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g;
const SECRET_QUERY =
  /([?&](?:key|api_key|apikey|token|access_token|sig|signature|secret|password)=)[^&\s"'<>]+/gi;
const ASSIGNMENT = /\b([A-Za-z][A-Za-z0-9_.-]*)(\s*[=:]\s*)("?)([^\s"',;]{6,})\3/g;

export function maskTokenShapes(text: string): string {
  let out = text;
  for (const re of TOKEN_SHAPES) out = out.replace(re, REDACTED);
  out = out.replace(BEARER, (_m, scheme: string) => `${scheme} ${REDACTED}`);
  out = out.replace(PEM, '[redacted:private-key]');
  out = out.replace(SECRET_QUERY, (_m, head: string) => `${head}${REDACTED}`);
  // `API_KEY=...`, `password: ...` in free text.
  out = out.replace(ASSIGNMENT, (m, name: string, sep: string, q: string) =>
    isSecretKey(name) ? `${name}${sep}${q}${REDACTED}${q}` : m,
  );
  return out;
}

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const SSN = /\b\d{3}-\d{2}-\d{4}\b/g;
const CARD = /\b(?:\d[ -]?){12,18}\d\b/g;
const DATA_URL = /data:((?:image|audio|video)\/[\w.+-]+);base64,([A-Za-z0-9+/=]+)/g;
const LONG_BASE64 = /[A-Za-z0-9+/]{512,}={0,2}/g;

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export function maskPersonalData(text: string): string {
  return text
    .replace(
      DATA_URL,
      (_m, type: string, b64: string) =>
        `[redacted:${type} base64 chars=${b64.length} sha256=${digest(b64)}]`,
    )
    .replace(LONG_BASE64, (m) => `[redacted:base64 chars=${m.length} sha256=${digest(m)}]`)
    .replace(EMAIL, '[redacted:email]')
    .replace(SSN, '[redacted:ssn]')
    .replace(CARD, (m) => {
      const digits = m.replace(/\D/g, '');
      return digits.length >= 13 && digits.length <= 19 && luhn(digits) ? '[redacted:card]' : m;
    });
}
