// What a step trace may show of a tool call's arguments and output. Traces are durable, replayed
// to every stream reader and kept in the run's event list, so they carry a bounded, redacted view:
// values under secret-looking keys and every known secret value are replaced, and large strings are
// cut to a head that says how big the original was. The journal keeps the exact arguments.

export const REDACTED = '[redacted]';
/** Strings longer than this (in characters) are cut in arguments. */
export const ARG_STRING_MAX = 200;
/** A tool output preview keeps at most this many characters. */
export const OUTPUT_PREVIEW_MAX = 500;
const ARRAY_ITEMS_MAX = 20;
const DEPTH_MAX = 6;
/** Shorter secret values are not searched for: they would blank ordinary words. */
const SECRET_MIN_CHARS = 6;

const SECRET_WORDS = new Set([
  'token',
  'secret',
  'secrets',
  'password',
  'passwd',
  'passphrase',
  'pwd',
  'authorization',
  'auth',
  'bearer',
  'cookie',
  'credential',
  'credentials',
  'apikey',
]);
const SECRET_PAIRS = new Set(['apikey', 'privatekey', 'accesskey', 'secretkey', 'signingkey', 'sessionkey']);

/**
 * Whether a key's value is a credential whatever it looks like: one of its words (split on `_`,
 * `-`, `.`, spaces and camelCase) is a credential word, or two adjacent words make one (`api_key`,
 * `privateKey`). `max_tokens` is not one: `tokens` counts, `token` authenticates.
 */
export function isSecretKey(key: string): boolean {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  return words.some((w, i) => SECRET_WORDS.has(w) || SECRET_PAIRS.has(w + (words[i + 1] ?? '')));
}

export const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Replaces every occurrence of a known secret value (longest first, so no half is left). */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  const sorted = secrets.filter((s) => s.length >= SECRET_MIN_CHARS).sort((a, b) => b.length - a.length);
  for (const s of sorted) if (out.includes(s)) out = out.split(s).join(REDACTED);
  return out;
}

/** A string cut to `max` characters with the original size appended; unchanged when it fits. */
export function cutString(text: string, max: number): string {
  if (text.length <= max) return text;
  // Never end on half a surrogate pair.
  let head = text.slice(0, max);
  if (/[\uD800-\uDBFF]$/.test(head)) head = head.slice(0, -1);
  return `${head}…[cut: ${utf8Bytes(text)} bytes]`;
}

/**
 * The arguments as a trace shows them: secret keys and known secret values redacted, long strings
 * cut (with their size), long arrays shortened, deep nesting summarised.
 */
export function redactArguments(args: unknown, secrets: readonly string[] = []): unknown {
  return redactValue(args, secrets, 0);
}

function redactValue(value: unknown, secrets: readonly string[], depth: number): unknown {
  if (typeof value === 'string') return cutString(maskSecrets(value, secrets), ARG_STRING_MAX);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= DEPTH_MAX) return Array.isArray(value) ? `[${value.length} items]` : '{…}';
  if (Array.isArray(value)) {
    const kept = value.slice(0, ARRAY_ITEMS_MAX).map((v) => redactValue(v, secrets, depth + 1));
    if (value.length > ARRAY_ITEMS_MAX) kept.push(`…[${value.length - ARRAY_ITEMS_MAX} more items]`);
    return kept;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>))
    out[k] =
      isSecretKey(k) && v !== null && v !== undefined && v !== ''
        ? REDACTED
        : redactValue(v, secrets, depth + 1);
  return out;
}

/** A tool output as a trace shows it: its size, and a bounded preview with known secrets masked. */
export function outputPreview(
  content: string,
  secrets: readonly string[] = [],
): { output_bytes: number; output_preview: string; output_truncated: boolean } {
  const masked = maskSecrets(content, secrets);
  const preview = masked.length > OUTPUT_PREVIEW_MAX ? masked.slice(0, OUTPUT_PREVIEW_MAX) : masked;
  return {
    output_bytes: utf8Bytes(content),
    output_preview: /[\uD800-\uDBFF]$/.test(preview) ? preview.slice(0, -1) : preview,
    output_truncated: masked.length > OUTPUT_PREVIEW_MAX,
  };
}
