// Connector secrets (api-collab §6.3): `ConnectorSecretInput` is write-only. A `value` goes to the
// secret store (the slot named by `secret_ref`, else `connectors.<kind>.<name>.<field>`) and only
// the slot id is kept with the connector; `env` names an environment variable and excludes the
// other two. Resolution tries the slot, then the environment, then an inline value (file only).
import type { SecretBinding } from '../../config/connectors-file.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import type { SecretStore } from '../../secrets/secret-store.ts';
import { ConnectorSecretInput } from './schema.ts';

const invalid = (detail: string) => new DaemonError(400, 'connectors', 'invalid_connector_secret', detail);

export const defaultSlotId = (kind: string, name: string, field: string) =>
  `connectors.${kind}.${name}.${field}`;

/** A planned secret change: the binding to keep, and a slot value to write once all checks passed. */
export interface SecretChange {
  binding: SecretBinding | null;
  write?: { slot_id: string; value: string };
}

/** Checks one `ConnectorSecretInput` (or null to clear the field) without writing anything. */
export async function planSecret(
  store: SecretStore,
  kind: string,
  name: string,
  field: string,
  raw: unknown,
): Promise<SecretChange> {
  if (raw === null) return { binding: null };
  const parsed = ConnectorSecretInput.safeParse(raw);
  if (!parsed.success)
    throw invalid(
      `${field} must be a ConnectorSecretInput object {value?, secret_ref?, env?}; secret values are never given as plain strings`,
    );
  const input = parsed.data;
  if (input.env !== undefined && (input.value !== undefined || input.secret_ref !== undefined))
    throw invalid(`${field}: env cannot be combined with value or secret_ref`);
  if (input.env !== undefined) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(input.env))
      throw invalid(`${field}: env must name an environment variable (letters, digits, underscore)`);
    return { binding: { env: input.env } };
  }
  if (input.value !== undefined) {
    if (input.value.trim() === '') throw invalid(`${field}: an empty secret is not accepted`);
    const slot = input.secret_ref ?? defaultSlotId(kind, name, field);
    if (slot.trim() === '') throw invalid(`${field}: secret_ref must not be empty`);
    if (!store.writable)
      throw new DaemonError(
        409,
        'connectors',
        'secret_store_unavailable',
        `${field}: the secret store is not available to keep the value; configure a master key or use env`,
      );
    return { binding: { secret_ref: slot }, write: { slot_id: slot, value: input.value } };
  }
  if (input.secret_ref !== undefined) {
    if (input.secret_ref.trim() === '') throw invalid(`${field}: secret_ref must not be empty`);
    let exists = false;
    try {
      exists = (await store.status(input.secret_ref)) !== undefined;
    } catch {
      exists = false;
    }
    if (!exists) throw invalid(`${field}: secret slot ${input.secret_ref} does not exist`);
    return { binding: { secret_ref: input.secret_ref } };
  }
  throw invalid(`${field}: give value, secret_ref or env`);
}

/** The redacted view of a secret field: never its value. */
export function secretMeta(b: SecretBinding | undefined) {
  if (!b) return { configured: false, source: null, secret_ref: null, env: null };
  const source = b.secret_ref !== undefined ? 'secret_ref' : b.env !== undefined ? 'env' : 'inline';
  return { configured: true, source, secret_ref: b.secret_ref ?? null, env: b.env ?? null };
}

/** The value by precedence: slot, environment, inline; null when none yields a non-empty value. */
export async function resolveSecret(
  store: SecretStore,
  b: SecretBinding | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | null> {
  if (!b) return null;
  if (b.secret_ref !== undefined) {
    try {
      const v = await store.getSecretValue(b.secret_ref);
      if (v !== '') return v;
    } catch {
      // A missing or unreadable slot falls through to the next source.
    }
  }
  if (b.env !== undefined) {
    const v = env[b.env];
    if (v !== undefined && v !== '') return v;
  }
  return b.inline !== undefined && b.inline !== '' ? b.inline : null;
}
