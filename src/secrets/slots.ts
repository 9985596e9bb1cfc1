// The shape of a secret slot: the write-only AuthSlotRecord callers send, and the AuthSlotStatus
// every read returns (ops-runtime §5.2). The status is computed from the record once, at write
// time, and kept in clear next to the encrypted state, so listing never needs the master key.
import { z } from 'zod';
import { secretErrors } from './errors.ts';

export const SLOT_ID_PATTERN = /^[A-Za-z0-9._-]+$/;
export const SLOT_ID_MAX = 256;
/** Serialized `state` limit: credentials are small; anything bigger is a mistake. */
export const STATE_MAX_BYTES = 64 * 1024;

export const PROVIDERS = ['generic', 'anthropic', 'google', 'open_ai', 'openrouter', 'xai'] as const;
export type SlotProvider = (typeof PROVIDERS)[number];
export const MODES = ['opaque_secret', 'api_key', 'oauth_account'] as const;
export type SlotMode = (typeof MODES)[number];

export const SlotIdSchema = z
  .string()
  .min(1)
  .max(SLOT_ID_MAX)
  .regex(SLOT_ID_PATTERN, 'slot ids use only letters, digits, ".", "_" and "-"');

/** `openai` is the CLI spelling; records use `open_ai` (spec AMBIG 13): both are accepted. */
export const ProviderSchema = z.enum([...PROVIDERS, 'openai']);

export const AuthSlotRecordSchema = z
  .object({
    slot_id: SlotIdSchema,
    provider: ProviderSchema,
    mode: z.enum(MODES),
    state: z.record(z.string(), z.unknown()),
    /** Accepted for wire compatibility; the daemon stamps its own time. */
    updated_at_ms: z.number().int().nonnegative().optional(),
  })
  .strict();
export type AuthSlotRecordInput = z.input<typeof AuthSlotRecordSchema>;

export interface AuthSlotStatus {
  slot_id: string;
  provider: string;
  mode: string;
  summary: string;
  updated_at_ms: number;
  details: Record<string, unknown>;
}

/** A validated record, provider normalized, ready to be encrypted. */
export interface NormalizedSlot {
  slot_id: string;
  provider: SlotProvider;
  mode: SlotMode;
  state: Record<string, unknown>;
}

export function assertSlotId(slotId: string): string {
  if (!SlotIdSchema.safeParse(slotId).success)
    throw secretErrors.invalidRef(
      `secret slot ids are 1-${SLOT_ID_MAX} characters of letters, digits, ".", "_" and "-" (e.g. openai.prod)`,
    );
  return slotId;
}

const nonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/**
 * Checks a record beyond its JSON shape: each mode's state must carry its secret. Messages name
 * fields, never values. Throws `runtime/invalid_secret_record`.
 */
export function normalizeRecord(input: unknown): NormalizedSlot {
  const parsed = AuthSlotRecordSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'record'}: ${i.message}`);
    throw secretErrors.invalidRecord(`invalid secret record: ${issues.join('; ')}`);
  }
  const rec = parsed.data;
  const state = { ...rec.state };
  const fail = (detail: string): never => {
    throw secretErrors.invalidRecord(`invalid secret record ${rec.slot_id}: ${detail}`);
  };
  if (rec.mode === 'api_key') {
    if (state.kind === undefined) state.kind = 'api_key';
    if (state.kind !== 'api_key') fail('state.kind must be "api_key" for mode api_key');
    if (!nonEmptyString(state.api_key)) fail('state.api_key must be a non-empty string');
    for (const field of ['organization', 'project'])
      if (state[field] !== undefined && typeof state[field] !== 'string')
        fail(`state.${field} must be a string`);
  } else if (rec.mode === 'opaque_secret') {
    if (!nonEmptyString(state.value)) fail('state.value must be a non-empty string');
  } else if (!nonEmptyString(state.access_token) && !nonEmptyString(state.refresh_token)) {
    fail('state of an oauth_account needs access_token or refresh_token');
  }
  if (Buffer.byteLength(JSON.stringify(state), 'utf8') > STATE_MAX_BYTES)
    fail(`state is larger than ${STATE_MAX_BYTES} bytes`);
  const provider = rec.provider === 'openai' ? 'open_ai' : rec.provider;
  return { slot_id: rec.slot_id, provider, mode: rec.mode, state };
}

/** The one value a slot stands for (API key, opaque value, access token), when there is one. */
export function primarySecret(state: Record<string, unknown>): string | undefined {
  for (const field of ['api_key', 'value', 'access_token'])
    if (nonEmptyString(state[field])) return state[field];
  return undefined;
}

// Below this length the last four characters would give away too much of the value.
const TAIL_MIN_LENGTH = 24;

/** e.g. `api_key ••••abcd`; short values show no tail at all. */
export function summarize(mode: SlotMode, state: Record<string, unknown>): string {
  if (mode === 'oauth_account') {
    const exp = typeof state.expires_at_ms === 'number' ? state.expires_at_ms : undefined;
    return exp === undefined ? 'oauth_account' : `oauth_account expires ${new Date(exp).toISOString()}`;
  }
  const secret = primarySecret(state) ?? '';
  return `${mode} ••••${secret.length >= TAIL_MIN_LENGTH ? secret.slice(-4) : ''}`;
}

// State fields that are not secret and help an operator; everything else stays encrypted only.
const PUBLIC_STATE_FIELDS = [
  'kind',
  'organization',
  'project',
  'expires_at_ms',
  'issuer',
  'resource',
  'scopes',
  'server_name',
  'last_refresh_at_ms',
  'last_refresh_outcome',
];

/** Redacted backend metadata shown in AuthSlotStatus.details. */
export function publicDetails(state: Record<string, unknown>): Record<string, unknown> {
  const details: Record<string, unknown> = {};
  for (const field of PUBLIC_STATE_FIELDS) if (state[field] !== undefined) details[field] = state[field];
  return details;
}
