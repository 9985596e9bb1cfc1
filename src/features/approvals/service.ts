// Approval resolution: atomic per run, compare-and-set on the run's waiting state, idempotent for
// a repeated identical batch. When nothing is left pending the run moves back to `running` and its
// executor resumes the exact suspended batch.

import type { Engine } from '../../engine/engine.ts';
import { redactArguments } from '../../engine/trace-redact.ts';
import { appendTraces, type Trace } from '../../engine/traces.ts';
import { approvalRequestView, buildRunView, buildSessionView } from '../../engine/views.ts';
import { DaemonError, errors } from '../../errors/daemon-error.ts';
import { approvalsOfRun, pendingApprovals, resolveApproval } from '../../store/repos/approvals.ts';
import { getRun, liveRunsOfSession, type RunRow } from '../../store/repos/runs.ts';
import { getSession } from '../../store/repos/sessions.ts';
import type { PermissionRule } from '../../tools/permissions.ts';
import { fingerprint, idempotencyKey, sha256 } from '../runs/service.ts';
import type { ResolveApprovalsRequest } from './schema.ts';

const bad = (code: string, detail: string) => new DaemonError(400, 'approvals', code, detail);

/** What a resolved approval keeps of the batch that resolved it. */
const receipt = (
  resolution: string | null,
): { behavior?: string; fingerprint?: string; key_hash?: string } =>
  resolution ? JSON.parse(resolution) : {};

export class ApprovalsService {
  private readonly engine: Engine;
  constructor(engine: Engine) {
    this.engine = engine;
  }

  async list(filter: { session_id?: string }) {
    const rows = await pendingApprovals(this.engine.store.db, filter);
    return rows.map((a) => ({
      session_id: a.session_id,
      run_id: a.run_id,
      request: approvalRequestView(a),
      created_at_ms: a.created_at_ms,
    }));
  }

  /** Resolves approvals of one run; returns the run after the decision. */
  async resolveForRun(
    runId: string,
    body: ResolveApprovalsRequest,
    header: string | string[] | undefined,
  ): Promise<RunRow> {
    const key = idempotencyKey(header, body.idempotency_key);
    if (body.resolutions.length === 0) throw bad('approval_batch_empty', 'send at least one resolution');
    const ids = body.resolutions.map((r) => r.request_id);
    if (new Set(ids).size !== ids.length)
      throw bad('approval_duplicate_resolution', 'each request_id may appear once per batch');
    const print = fingerprint(body.resolutions);
    let resume: RunRow | null = null;
    const run = await this.engine.store.write(async (tx) => {
      const current = await getRun(tx.db, runId);
      if (!current) throw errors.runNotFound(runId);
      const all = await approvalsOfRun(tx.db, runId);
      const byId = new Map(all.map((a) => [a.request_id, a]));
      // Receipts are per run (api-core §13, item 6): a key already used on this run for another batch —
      // even one naming other approvals of the run — is a conflict; for this batch, a replay.
      if (key !== null) {
        const used = all.map((a) => receipt(a.resolution)).filter((r) => r.key_hash === sha256(key));
        if (used.some((r) => r.fingerprint !== print))
          throw new DaemonError(
            409,
            'idempotency',
            'idempotency_conflict',
            'this idempotency key was used for a different approval batch on this run; use a new key',
          );
        if (used.length > 0) return current;
      }
      // The same batch again (a retry, or a second operator sending the same decision): same answer.
      const replay = body.resolutions.every((r) => {
        const a = byId.get(r.request_id);
        if (!a || a.status === 'pending' || !a.resolution) return false;
        const stored = receipt(a.resolution);
        return stored.behavior === r.behavior && (key === null || stored.fingerprint === print);
      });
      if (replay) return current;
      if (current.status !== 'waiting_for_approval')
        throw new DaemonError(
          409,
          'approvals',
          'approval_state_conflict',
          `run ${runId} is ${current.status}, not waiting for approval`,
        );
      for (const r of body.resolutions) {
        const a = byId.get(r.request_id);
        if (a?.status !== 'pending')
          throw bad(
            'approval_request_not_pending',
            `approval ${r.request_id} is not pending on run ${runId}; nothing was applied`,
          );
      }
      const session = await getSession(tx.db, current.session_id);
      const rules = session?.permission_rules
        ? (JSON.parse(session.permission_rules) as PermissionRule[])
        : [];
      for (const r of body.resolutions) {
        const a = byId.get(r.request_id)!;
        await resolveApproval(
          tx.db,
          a.request_id,
          r.behavior === 'allow' ? 'allowed' : 'denied',
          { ...r, fingerprint: print, key_hash: key === null ? undefined : sha256(key) },
          tx.now,
        );
        if (
          r.behavior === 'allow' &&
          r.remember === 'session' &&
          !rules.some((x) => x.pattern === a.tool_name && x.decision === 'allow')
        )
          rules.unshift({ pattern: a.tool_name, decision: 'allow', scope: 'session', origin: 'remembered' });
      }
      await tx.db
        .updateTable('sessions')
        .set({ permission_rules: JSON.stringify(rules) })
        .where('session_id', '=', current.session_id)
        .execute();
      const secrets = this.engine.secretValues();
      await appendTraces(
        this.engine.events,
        tx,
        current,
        body.resolutions.map((r) => {
          const a = byId.get(r.request_id)!;
          const trace: Trace = {
            kind: 'approval_resolved',
            request_id: a.request_id,
            tool_call_id: a.tool_call_id,
            name: a.tool_name,
            behavior: r.behavior,
            reason_requested: a.reason,
          };
          if (r.behavior === 'allow' && r.remember) trace.remember = r.remember;
          if (r.updated_input) trace.updated_input = redactArguments(r.updated_input, secrets);
          if (r.reason) trace.reason = r.reason;
          if (r.justification) trace.justification = r.justification;
          return trace;
        }),
      );
      await this.engine.recordRunChange(tx, current, {
        type: 'approval_resolved',
        resolutions: body.resolutions,
      });
      const stillPending = (await approvalsOfRun(tx.db, runId)).some((a) => a.status === 'pending');
      if (stillPending) return current;
      resume = await this.engine.transition(tx, runId, 'running');
      return resume;
    });
    if (resume) this.engine.resume(resume);
    return run;
  }

  async resolveForRunView(
    runId: string,
    body: ResolveApprovalsRequest,
    header: string | string[] | undefined,
  ) {
    const run = await this.resolveForRun(runId, body, header);
    return buildRunView(this.engine.store.db, (await getRun(this.engine.store.db, run.run_id)) ?? run);
  }

  /** Session-scoped: acts on the session's run that waits for approval. */
  async resolveForSession(
    sessionId: string,
    body: ResolveApprovalsRequest,
    header: string | string[] | undefined,
  ) {
    const session = await getSession(this.engine.store.db, sessionId);
    if (!session) throw errors.sessionNotFound(sessionId);
    const waiting = (await liveRunsOfSession(this.engine.store.db, sessionId)).find(
      (r) => r.status === 'waiting_for_approval',
    );
    const target = waiting ?? (await this.runOwning(body));
    if (!target)
      throw new DaemonError(
        409,
        'approvals',
        'approval_state_conflict',
        `session ${sessionId} has no run waiting for approval`,
      );
    return this.resolveForRun(target.run_id, body, header);
  }

  /** For a replayed batch whose run already moved on: the run that owns the first request id. */
  private async runOwning(body: ResolveApprovalsRequest): Promise<RunRow | undefined> {
    const first = body.resolutions[0]?.request_id;
    if (!first) return undefined;
    const row = await this.engine.store.db
      .selectFrom('approvals')
      .select('run_id')
      .where('request_id', '=', first)
      .executeTakeFirst();
    return row ? getRun(this.engine.store.db, row.run_id) : undefined;
  }

  async sessionView(sessionId: string) {
    const s = await getSession(this.engine.store.db, sessionId);
    if (!s) throw errors.sessionNotFound(sessionId);
    return buildSessionView(this.engine.store.db, s);
  }
}
