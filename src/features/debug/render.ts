// What an artifact holds at each capture level (docs/decisions.md #150):
//   on        the structure only: keys, roles, names, numbers; every other text is replaced by its
//             size and a digest, so nothing said by the user, the model or a tool is stored;
//   redacted  the content, with credentials removed (the daemon's secret values, the operator's
//             KHEISH_DEBUG_REDACT_TOKENS, values under credential-named keys, known token shapes)
//             and personal data (e-mail addresses, card and SSN-like numbers, inline media) masked;
//   full      the content as sent and received, credentials still removed.
// When the operator's token file cannot be read, text fails closed to a marker.
import { createHash } from 'node:crypto';
import { isSecretKey, maskSecrets, REDACTED } from '../../engine/trace-redact.ts';
import { maskPersonalData, maskTokenShapes } from '../../secrets/redact-text.ts';

export type CaptureLevel = 'on' | 'redacted' | 'full';

export { REDACTED };
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
