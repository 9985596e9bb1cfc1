// Capture agents (concepts §4.14): provisioning (the only response with raw tokens), heartbeats on
// a per-agent token, the daemon-materialized `missing` state with its alert, and revocation that
// is idempotent and convergent (every historically owned source is disabled again on each call).
import { DaemonError } from '../../errors/daemon-error.ts';
import {
  type CaptureAgentRow,
  getAgent,
  listAgents,
  markMissing,
  overdueAgents,
  updateAgent,
} from '../../store/repos/capture-agents.ts';
import { appendAudit, getSource, updateSource } from '../../store/repos/observations.ts';
import { provisionAgents } from './capture-provision.ts';
import type {
  CaptureAgentView,
  CaptureAlertView,
  LeaseView,
  ProvisionRequest,
  ProvisionResponse,
} from './capture-schema.ts';
import type { ObservationsContext } from './context.ts';
import { digestMatches, heartbeatUnauthorized, sanitizeReason } from './tokens.ts';

const captureError = (status: number, code: string, detail: string) =>
  new DaemonError(status, 'capture', code, detail);
export const agentNotFound = (id: string) =>
  captureError(404, 'capture_agent_not_found', `capture agent ${id} was not found`);

const parse = <T>(s: string | null, dflt: T): T => (s ? (JSON.parse(s) as T) : dflt);

export function agentView(r: CaptureAgentRow): CaptureAgentView {
  return {
    machine_id: r.machine_id,
    batch_id: r.batch_id,
    os_profile: r.os_profile,
    status: r.status === 'revoked' ? 'revoked' : 'active',
    source_ids: parse<string[]>(r.source_ids, []),
    leases: parse<LeaseView[]>(r.leases, []),
    heartbeat_token_version: r.heartbeat_token_version,
    heartbeat_interval_ms: r.heartbeat_interval_ms,
    heartbeat_grace_ms: r.heartbeat_grace_ms,
    last_heartbeat_at_ms: r.last_heartbeat_at_ms,
    heartbeat_deadline_ms: r.heartbeat_deadline_ms,
    heartbeat_state: r.heartbeat_state as CaptureAgentView['heartbeat_state'],
    heartbeat_missing_since_ms: r.heartbeat_missing_since_ms,
    last_heartbeat_agent_version: r.last_heartbeat_agent_version,
    last_heartbeat_observed_source_ids: parse<string[]>(r.last_heartbeat_observed_source_ids, []),
    last_heartbeat_unobserved_source_ids: parse<string[]>(r.last_heartbeat_unobserved_source_ids, []),
    revoked_at_ms: r.revoked_at_ms,
    revoke_reason: r.revoke_reason,
    created_at_ms: r.created_at_ms,
    updated_at_ms: r.updated_at_ms,
  };
}

export class CaptureAgents {
  private readonly ctx: ObservationsContext;
  constructor(ctx: ObservationsContext) {
    this.ctx = ctx;
  }

  provision(body: ProvisionRequest): Promise<ProvisionResponse> {
    return provisionAgents(this.ctx, body);
  }

  async list(): Promise<CaptureAgentView[]> {
    await this.sweepMissing();
    return (await listAgents(this.ctx.store.db)).map(agentView);
  }

  async get(machineId: string): Promise<CaptureAgentView> {
    await this.sweepMissing();
    const r = await getAgent(this.ctx.store.db, machineId);
    if (!r) throw agentNotFound(machineId);
    return agentView(r);
  }

  async alerts(): Promise<CaptureAlertView[]> {
    await this.sweepMissing();
    return (await listAgents(this.ctx.store.db))
      .filter((a) => a.status === 'active' && a.heartbeat_state === 'missing')
      .map((a) => ({
        alert_id: `missing_heartbeat:${a.machine_id}:${a.heartbeat_missing_since_ms}`,
        kind: 'missing_heartbeat' as const,
        machine_id: a.machine_id,
        since_ms: a.heartbeat_missing_since_ms ?? a.heartbeat_deadline_ms,
        heartbeat_deadline_ms: a.heartbeat_deadline_ms,
        last_heartbeat_at_ms: a.last_heartbeat_at_ms,
      }));
  }

  /** Active agents past their deadline become `missing`, audited once per transition. */
  async sweepMissing(): Promise<number> {
    const due = await overdueAgents(this.ctx.store.db, Date.now());
    if (due.length === 0) return 0;
    return this.ctx.store.write(async (tx) => {
      let n = 0;
      for (const id of due) {
        if (!(await markMissing(tx.db, id, tx.now))) continue;
        n++;
        await appendAudit(tx.db, tx.now, [{ event: 'agent_heartbeat_missing', machine_id: id, detail: {} }]);
      }
      return n;
    });
  }

  async heartbeat(
    machineId: string,
    token: string | null,
    body: { observed_source_ids?: string[]; agent_version?: string } = {},
  ): Promise<CaptureAgentView> {
    return this.ctx.store.write(async (tx) => {
      const a = await getAgent(tx.db, machineId, { lock: true, postgres: this.ctx.postgres });
      if (a?.status !== 'active' || token === null || !digestMatches(token, a.heartbeat_token_digest))
        throw heartbeatUnauthorized();
      const current = parse<LeaseView[]>(a.leases, [])
        .filter((l) => l.state === 'active')
        .map((l) => l.source_id);
      const observed = [...new Set(body.observed_source_ids ?? [])];
      const foreign = observed.filter((s) => !current.includes(s));
      if (foreign.length)
        throw captureError(
          400,
          'invalid_heartbeat',
          `observed_source_ids not owned by ${machineId}: ${foreign.join(', ')}`,
        );
      const version = body.agent_version?.replace(/[^\x20-\x7e]/g, '').slice(0, 128) || null;
      const patch: Partial<CaptureAgentRow> = {
        last_heartbeat_at_ms: tx.now,
        heartbeat_deadline_ms: tx.now + a.heartbeat_interval_ms + a.heartbeat_grace_ms,
        heartbeat_state: 'healthy',
        heartbeat_missing_since_ms: null,
        last_heartbeat_agent_version: version,
        last_heartbeat_observed_source_ids: JSON.stringify(observed),
        last_heartbeat_unobserved_source_ids: JSON.stringify(current.filter((s) => !observed.includes(s))),
        updated_at_ms: tx.now,
      };
      await updateAgent(tx.db, machineId, patch);
      const records = [
        {
          event: 'agent_heartbeat',
          machine_id: machineId,
          detail: { agent_version: version, observed_source_ids: observed },
        },
      ];
      if (a.heartbeat_state === 'missing')
        records.push({
          event: 'agent_recovered',
          machine_id: machineId,
          detail: { missing_since_ms: a.heartbeat_missing_since_ms, recovered_at_ms: tx.now } as never,
        });
      await appendAudit(tx.db, tx.now, records);
      return agentView({ ...a, ...patch });
    });
  }

  /** Idempotent and convergent: each call disables every source the agent ever owned. */
  async revoke(machineId: string, reason?: string): Promise<CaptureAgentView> {
    return this.ctx.store.write(async (tx) => {
      const a = await getAgent(tx.db, machineId, { lock: true, postgres: this.ctx.postgres });
      if (!a) throw agentNotFound(machineId);
      const already = a.status === 'revoked';
      let repaired = 0;
      for (const id of parse<string[]>(a.source_ids, [])) {
        const s = await getSource(tx.db, id);
        if (!s || (s.disabled_at_ms !== null && s.token_digest === null && s.previous_token_digest === null))
          continue;
        repaired++;
        await updateSource(tx.db, id, {
          token_digest: null,
          previous_token_digest: null,
          previous_token_valid_until_ms: null,
          token_revoked_at_ms: s.token_revoked_at_ms ?? tx.now,
          disabled_at_ms: s.disabled_at_ms ?? tx.now,
          disabled_reason: 'capture_agent_revoked',
          updated_at_ms: tx.now,
        });
      }
      const leases = parse<LeaseView[]>(a.leases, []).map((l) =>
        l.state === 'active' ? { ...l, state: 'revoked' as const, revoked_at_ms: tx.now } : l,
      );
      const patch: Partial<CaptureAgentRow> = {
        status: 'revoked',
        heartbeat_state: 'revoked',
        heartbeat_token_digest: null,
        leases: JSON.stringify(leases),
        revoked_at_ms: a.revoked_at_ms ?? tx.now,
        revoke_reason: a.revoke_reason ?? sanitizeReason(reason, 'operator_revoked'),
        updated_at_ms: tx.now,
      };
      await updateAgent(tx.db, machineId, patch);
      await appendAudit(tx.db, tx.now, [
        {
          event: 'agent_revoked',
          machine_id: machineId,
          detail: { already_revoked: already, sources_disabled: repaired, reason: patch.revoke_reason },
        },
      ]);
      return agentView({ ...a, ...patch });
    });
  }
}
