// The `external` connector kind's settings (api-collab §6.7): parsing and the validation rules —
// base_url shape, private-network refusal for remote sidecars, loopback-only child processes,
// explicit unauthenticated ingress, and credential slots that must already hold a non-empty
// generic secret (fail closed).
import { isIP } from 'node:net';
import { z } from 'zod';
import { DaemonError } from '../../errors/daemon-error.ts';
import type { SecretStore } from '../../secrets/secret-store.ts';
import { forbiddenAddressReason } from '../../tools/web/ip-policy.ts';
import { isLocalHostName } from '../../tools/web/target-policy.ts';

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export const ChildProcessSettings = z
  .object({
    command: z.string().min(1).max(4096),
    args: z.array(z.string().max(4096)).max(64).default([]),
    env: z.record(z.string().regex(ENV_KEY), z.string().max(8192)).default({}),
    credential_slots: z.record(z.string().regex(ENV_KEY), z.string().min(1).max(256)).default({}),
    working_dir: z.string().min(1).max(4096).nullable().optional(),
  })
  .passthrough();
export type ChildProcessSettings = z.infer<typeof ChildProcessSettings>;

/** The settings this feature reads; other keys (session_policy, reply targets…) belong to the core. */
export const ExternalSettings = z
  .object({
    platform: z.string().max(128).nullable().optional(),
    mode: z.enum(['remote_http', 'child_process']).default('remote_http'),
    base_url: z.string().min(1).max(2048),
    allow_private_network: z.boolean().default(false),
    allow_unauthenticated_ingress: z.boolean().default(false),
    fixed_session_id: z.string().min(1).max(256).nullable().optional(),
    include_self_output: z.boolean().default(false),
    additional_reply_targets: z.array(z.object({ plugin: z.string(), address: z.string() })).default([]),
    additional_binding_keys: z.array(z.string().min(1).max(512)).max(32).default([]),
    ingress_events_per_second: z.number().positive().optional(),
    child_process: ChildProcessSettings.nullable().optional(),
  })
  .passthrough();
export type ExternalSettings = z.infer<typeof ExternalSettings>;

export const SECRET_FIELDS = ['shared_token'] as const;

const invalid = (detail: string) => new DaemonError(400, 'connectors', 'invalid_connector_config', detail);

/** Parses stored settings (already validated when written). */
export function parseSettings(settings: Record<string, unknown>): ExternalSettings {
  const r = ExternalSettings.safeParse(settings);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw invalid(`external connector: ${issue.path.join('.') || 'settings'}: ${issue.message}`);
  }
  return r.data;
}

const LOOPBACK_NAMES = new Set(['localhost', 'ip6-localhost', 'ip6-loopback']);

export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (LOOPBACK_NAMES.has(bare)) return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || /^::ffff:127\./.test(bare);
  return false;
}

/** The base_url rules that need no DNS (the network client checks every resolved address). */
export function checkBaseUrl(s: ExternalSettings): URL {
  let url: URL;
  try {
    url = new URL(s.base_url);
  } catch {
    throw invalid('base_url must be an absolute http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw invalid('base_url must use http:// or https://');
  if (url.username !== '' || url.password !== '')
    throw invalid('base_url must not carry credentials (user:password@); use shared_token');
  if (s.mode === 'child_process') {
    if (!isLoopbackHost(url.hostname))
      throw invalid('a child_process connector needs a loopback base_url (127.0.0.1, [::1] or localhost)');
    if (
      (url.pathname !== '/' && url.pathname !== '') ||
      url.search !== '' ||
      url.hash !== '' ||
      s.base_url.includes('#')
    )
      throw invalid('a child_process base_url has no path, query or fragment');
    if (!s.child_process) throw invalid('mode child_process needs a child_process section with a command');
    return url;
  }
  if (url.hash !== '' || s.base_url.includes('#')) throw invalid('base_url must not have a fragment');
  if (!s.allow_private_network) {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const reason = isIP(host)
      ? forbiddenAddressReason(host)
      : isLocalHostName(host)
        ? 'a local or metadata host name'
        : null;
    if (reason)
      throw invalid(
        `remote_http base_url ${url.host} is ${reason}; set allow_private_network=true for a trusted local sidecar`,
      );
  }
  return url;
}

/**
 * Every rule of §6.7. `secretsConfigured` names the secret fields that have a source; credential
 * slots are read from the secret store so a missing, empty or provider slot refuses the config.
 */
export async function validateExternal(
  raw: Record<string, unknown>,
  secretsConfigured: ReadonlySet<string>,
  secrets: SecretStore,
): Promise<ExternalSettings> {
  const s = parseSettings(raw);
  checkBaseUrl(s);
  if (!secretsConfigured.has('shared_token') && !s.allow_unauthenticated_ingress)
    throw invalid(
      'an external connector without shared_token needs allow_unauthenticated_ingress=true, set explicitly',
    );
  if (s.mode === 'remote_http' && s.child_process)
    throw invalid('child_process settings are only for mode child_process');
  if (s.fixed_session_id !== undefined && s.fixed_session_id !== null && s.fixed_session_id.trim() === '')
    throw invalid('fixed_session_id must not be blank');
  for (const [envKey, slot] of Object.entries(s.child_process?.credential_slots ?? {})) {
    await checkCredentialSlot(secrets, envKey, slot);
  }
  return s;
}

/** Fails closed: the slot exists, is a generic secret (not a provider credential), and is not empty. */
export async function checkCredentialSlot(secrets: SecretStore, envKey: string, slot: string): Promise<void> {
  const fail = (why: string) =>
    invalid(`credential_slots.${envKey}: secret slot ${slot.slice(0, 120)} ${why}`);
  let status: Awaited<ReturnType<SecretStore['status']>>;
  try {
    status = await secrets.status(slot);
  } catch {
    throw fail('cannot be read (is the secret store unlocked?)');
  }
  if (!status) throw fail('does not exist');
  if (status.provider !== 'generic')
    throw fail(`is a ${status.provider} provider credential, not a generic secret`);
  let value: string;
  try {
    value = await secrets.getSecretValue(slot);
  } catch {
    throw fail('has no single secret value');
  }
  if (value.length === 0) throw fail('is empty');
}

/**
 * What connector views show (§6.2): `child_process` with the names of its `env` and
 * `credential_slots` (`env_keys`, `credential_env_keys`), never their values or slot names.
 */
export function viewSettings(settings: Record<string, unknown>): Record<string, unknown> {
  const shown = { ...settings, allow_private_network: settings.allow_private_network === true };
  const cp = settings.child_process as Record<string, unknown> | null | undefined;
  if (!cp || typeof cp !== 'object') return shown;
  const { env, credential_slots, ...rest } = cp;
  const keys = (v: unknown) => (v && typeof v === 'object' ? Object.keys(v).sort() : []);
  return {
    ...shown,
    child_process: { ...rest, env_keys: keys(env), credential_env_keys: keys(credential_slots) },
  };
}
