// Capture-agent provisioning (concepts §4.14): creates or rotates an agent's sources and leases in
// one transaction and answers with the only copy of the raw tokens and the rendered configs.
import { monotonicFactory } from 'ulid';
import { DaemonError } from '../../errors/daemon-error.ts';
import {
  type CaptureAgentRow,
  claimBatch,
  getAgent,
  insertAgent,
  updateAgent,
} from '../../store/repos/capture-agents.ts';
import { appendAudit, getSource, insertSource, updateSource } from '../../store/repos/observations.ts';
import { agentView } from './capture-agents.ts';
import { renderAgentConfig } from './capture-config.ts';
import type { LeaseView, ProvisionRequest, ProvisionResponse } from './capture-schema.ts';
import type { ObservationsContext } from './context.ts';
import type { SourceKind } from './schema.ts';
import { sourceSettings } from './sources.ts';
import { newToken, tokenDigest } from './tokens.ts';

const ulid = monotonicFactory();
const DAY_MS = 24 * 3600_000;
export const CAPTURE_DEFAULTS = {
  token_ttl_ms: 30 * DAY_MS,
  heartbeat_interval_ms: 60_000,
  heartbeat_grace_ms: 120_000,
};

const captureError = (status: number, code: string, detail: string) =>
  new DaemonError(status, 'capture', code, detail);
const parse = <T>(s: string | null, dflt: T): T => (s ? (JSON.parse(s) as T) : dflt);

/** Source roles a profile may provision, with their kind and id suffix. */
const ROLES = {
  screen: { kind: 'screen_snapshot', suffix: 'screen', label: 'screen' },
  camera: { kind: 'webcam_snapshot', suffix: 'camera', label: 'camera' },
  system_audio: { kind: 'microphone_segment', suffix: 'system-audio', label: 'system audio' },
  microphone: { kind: 'microphone_segment', suffix: 'microphone', label: 'microphone' },
} as const satisfies Record<string, { kind: SourceKind; suffix: string; label: string }>;
type Role = keyof typeof ROLES;
const PORTABLE_ROLES: readonly Role[] = ['microphone'];

interface Plan {
  machine_id: string;
  os_profile: string;
  roles: Role[];
  camera?: string;
  microphone?: string;
}

function plan(body: ProvisionRequest): Plan[] {
  const wanted = (Object.keys(ROLES) as Role[]).filter((r) => body.sources[r]);
  if (wanted.length === 0)
    throw captureError(
      400,
      'invalid_provision',
      'sources must enable at least one of screen, camera, system_audio, microphone',
    );
  const seen = new Set<string>();
  return body.agents.map((a) => {
    if (seen.has(a.machine_id))
      throw captureError(400, 'invalid_provision', `machine_id ${a.machine_id} is listed twice`);
    seen.add(a.machine_id);
    const os = a.os_profile ?? body.os_profile ?? 'macos';
    const unsupported = os === 'macos' ? [] : wanted.filter((r) => !PORTABLE_ROLES.includes(r));
    if (unsupported.length)
      throw captureError(
        400,
        'unsupported_capture_source',
        `the ${os} profile supports microphone capture only, not ${unsupported.join(', ')} (agent ${a.machine_id})`,
      );
    return {
      machine_id: a.machine_id,
      os_profile: os,
      roles: wanted,
      camera: a.camera,
      microphone: a.microphone,
    };
  });
}

export async function provisionAgents(
  ctx: ObservationsContext,
  body: ProvisionRequest,
): Promise<ProvisionResponse> {
  const plans = plan(body);
  const ttl = body.token_ttl_ms ?? CAPTURE_DEFAULTS.token_ttl_ms;
  const interval = body.heartbeat_interval_ms ?? CAPTURE_DEFAULTS.heartbeat_interval_ms;
  const grace = body.heartbeat_grace_ms ?? CAPTURE_DEFAULTS.heartbeat_grace_ms;
  return ctx.store.write(async (tx) => {
    const lock = { lock: true, postgres: ctx.postgres };
    if (
      !(await claimBatch(
        tx.db,
        body.batch_id,
        plans.map((p) => p.machine_id),
        tx.now,
      ))
    )
      throw captureError(
        409,
        'batch_already_applied',
        `provisioning batch ${body.batch_id} was already applied; raw tokens are not replayable, so use a new batch_id to rotate`,
      );
    const out: ProvisionResponse['agents'] = [];
    for (const p of plans) {
      const previous = await getAgent(tx.db, p.machine_id, lock);
      const heartbeat = newToken('khb');
      const uploads: Record<string, string> = {};
      const newLeases: LeaseView[] = [];
      for (const role of p.roles) {
        const spec = ROLES[role];
        const sourceId = `${p.machine_id}-${spec.suffix}`;
        const token = newToken('kup');
        uploads[sourceId] = token;
        const existing = await getSource(tx.db, sourceId, lock);
        if (existing && existing.capture_machine_id !== p.machine_id)
          throw captureError(
            409,
            'source_conflict',
            `observation source ${sourceId} exists and is not owned by capture agent ${p.machine_id}`,
          );
        const version = (existing?.upload_token_version ?? 0) + 1;
        const tokenFields = {
          token_digest: tokenDigest(token),
          upload_token_version: version,
          token_issued_at_ms: tx.now,
          token_expires_at_ms: tx.now + ttl,
          previous_token_digest: null,
          previous_token_valid_until_ms: null,
          token_revoked_at_ms: null,
          disabled_at_ms: null,
          disabled_reason: null,
          updated_at_ms: tx.now,
        };
        const settings = sourceSettings({
          display_name: `${p.machine_id} ${spec.label}`,
          kind: spec.kind,
          retention_seconds: body.retention_seconds,
          max_active_observations: body.max_active_observations,
          max_active_bytes: body.max_active_bytes,
        });
        if (existing) await updateSource(tx.db, sourceId, tokenFields);
        else {
          await insertSource(tx.db, {
            source_id: sourceId,
            ...settings,
            ...tokenFields,
            capture_machine_id: p.machine_id,
            created_at_ms: tx.now,
          });
          await appendAudit(tx.db, tx.now, [
            {
              event: 'source_created',
              source_id: sourceId,
              machine_id: p.machine_id,
              detail: { kind: spec.kind, capture_owned: true },
            },
          ]);
        }
        newLeases.push({
          lease_id: `lease-${ulid().toLowerCase()}`,
          source_id: sourceId,
          token_version: version,
          issued_at_ms: tx.now,
          expires_at_ms: tx.now + ttl,
          state: 'active',
          revoked_at_ms: null,
          superseded_by_lease_id: null,
        });
      }
      // Every older lease ends now; a source dropped from the profile keeps no working token.
      const oldLeases = parse<LeaseView[]>(previous?.leases ?? null, []).map((l) =>
        l.state === 'active'
          ? {
              ...l,
              state: 'superseded' as const,
              revoked_at_ms: tx.now,
              superseded_by_lease_id: newLeases.find((n) => n.source_id === l.source_id)?.lease_id ?? null,
            }
          : l,
      );
      const owned = [
        ...new Set([...parse<string[]>(previous?.source_ids ?? null, []), ...Object.keys(uploads)]),
      ];
      for (const id of owned)
        if (!(id in uploads))
          await updateSource(tx.db, id, {
            token_digest: null,
            previous_token_digest: null,
            previous_token_valid_until_ms: null,
            token_revoked_at_ms: tx.now,
            updated_at_ms: tx.now,
          });
      const row: CaptureAgentRow = {
        machine_id: p.machine_id,
        batch_id: body.batch_id,
        os_profile: p.os_profile,
        status: 'active',
        source_ids: JSON.stringify(owned),
        leases: JSON.stringify([...oldLeases, ...newLeases]),
        heartbeat_token_digest: tokenDigest(heartbeat),
        heartbeat_token_version: (previous?.heartbeat_token_version ?? 0) + 1,
        heartbeat_interval_ms: interval,
        heartbeat_grace_ms: grace,
        last_heartbeat_at_ms: previous?.last_heartbeat_at_ms ?? null,
        heartbeat_deadline_ms: tx.now + interval + grace,
        heartbeat_state: 'pending',
        heartbeat_missing_since_ms: null,
        last_heartbeat_agent_version: previous?.last_heartbeat_agent_version ?? null,
        last_heartbeat_observed_source_ids: previous?.last_heartbeat_observed_source_ids ?? null,
        last_heartbeat_unobserved_source_ids: previous?.last_heartbeat_unobserved_source_ids ?? null,
        revoked_at_ms: null,
        revoke_reason: null,
        created_at_ms: previous?.created_at_ms ?? tx.now,
        updated_at_ms: tx.now,
      };
      if (previous) await updateAgent(tx.db, p.machine_id, row);
      else await insertAgent(tx.db, row);
      await appendAudit(tx.db, tx.now, [
        {
          event: 'agent_provisioned',
          machine_id: p.machine_id,
          detail: {
            batch_id: body.batch_id,
            os_profile: p.os_profile,
            source_ids: Object.keys(uploads),
            rotated: previous !== undefined,
            heartbeat_token_version: row.heartbeat_token_version,
          },
        },
      ]);
      out.push({
        machine_id: p.machine_id,
        os_profile: p.os_profile,
        source_ids: Object.keys(uploads),
        heartbeat_token: heartbeat,
        upload_tokens: uploads,
        config_toml: renderAgentConfig(body, p, row, uploads, heartbeat),
        agent: agentView(row),
      });
    }
    return { batch_id: body.batch_id, agents: out };
  });
}
