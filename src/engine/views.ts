// Wire projections of engine state: RunView, SessionView, ManagedAgentSnapshot.
// Empty arrays and null optionals are omitted, as the reference does.

import {
  type ApprovalRow,
  approvalsOfRun,
  countPendingApprovals,
  countPendingQuestions,
  pendingApprovals,
  pendingQuestions,
  questionsOfRun,
} from '../store/repos/approvals.ts';
import { deliveriesOfRun, deliveryView } from '../store/repos/deliveries.ts';
import { outputsOfRun, outputsOfSession } from '../store/repos/journal.ts';
import { isActive, lastFinishedRun, liveRunsOfSession, type RunRow } from '../store/repos/runs.ts';
import type { SessionRow } from '../store/repos/sessions.ts';
import type { Executor } from '../store/schema.ts';
import { effectiveCapabilityScope, effectiveCredentialScope } from './capability-scope.ts';
import { personaSnapshotOf, personaSummary } from './persona-snapshot.ts';

/** Views are validated against the zod wire schemas in src/features; typed loosely here. */
export type WireView = any;

export type AgentStatus =
  | 'idle'
  | 'running'
  | 'waiting_for_approval'
  | 'waiting_for_user_input'
  | 'failed'
  | 'completed';

const parseJson = (s: string | null): unknown => (s === null ? undefined : JSON.parse(s));

function compact<T extends Record<string, unknown>>(obj: T): T {
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) delete obj[key];
  }
  return obj;
}

export async function queuedPosition(db: Executor, run: RunRow): Promise<number | undefined> {
  if (run.status !== 'queued') return undefined;
  const live = await liveRunsOfSession(db, run.session_id);
  const idx = live.findIndex((r) => r.run_id === run.run_id);
  return idx < 0 ? undefined : idx;
}

/** Pending human decisions of a run, in RunView field names. */
async function pendingOfRun(db: Executor, run: RunRow): Promise<Record<string, unknown>> {
  if (!run.status.startsWith('waiting_')) return {};
  const approvals = (await approvalsOfRun(db, run.run_id)).filter((a) => a.status === 'pending');
  const questions = (await questionsOfRun(db, run.run_id)).filter((q) => q.status === 'pending');
  return {
    pending_approval_ids: approvals.map((a) => a.request_id),
    pending_approvals: approvals.map(approvalRequestView),
    pending_question_ids: questions.map((q) => q.request_id),
    pending_questions: questions.map((q) => JSON.parse(q.request)),
  };
}

export function approvalRequestView(a: ApprovalRow): Record<string, unknown> {
  return {
    id: a.request_id,
    tool_call_id: a.tool_call_id,
    tool_name: a.tool_name,
    input: JSON.parse(a.input),
    scope: a.scope,
    reason: a.reason,
  };
}

export async function buildRunView(db: Executor, run: RunRow): Promise<WireView> {
  const request = JSON.parse(run.request) as Record<string, unknown>;
  return compact({
    run_id: run.run_id,
    session_id: run.session_id,
    agent_id: run.agent_id,
    kind: run.kind,
    status: run.status,
    submitted_at_ms: run.submitted_at_ms,
    updated_at_ms: run.updated_at_ms,
    started_at_ms: run.started_at_ms,
    finished_at_ms: run.finished_at_ms,
    queued_position: await queuedPosition(db, run),
    request: JSON.parse(run.summary),
    input_attachments: (request.attachments as unknown[]) ?? [],
    input_metadata: request.metadata,
    ...(await pendingOfRun(db, run)),
    outputs: await outputsOfRun(db, run.run_id),
    deliveries: (await deliveriesOfRun(db, run.run_id)).map(deliveryView),
    error: run.error,
    error_code: run.error_code,
    usage: run.usage === null ? undefined : JSON.parse(run.usage),
  });
}

export async function sessionStatus(
  db: Executor,
  session: SessionRow,
): Promise<{ status: AgentStatus; active?: RunRow; queued: number }> {
  const live = await liveRunsOfSession(db, session.session_id);
  const active = live.find((r) => isActive(r.status));
  const queued = live.filter((r) => r.status === 'queued').length;
  if (active) {
    const status: AgentStatus =
      active.status === 'waiting_for_approval'
        ? 'waiting_for_approval'
        : active.status === 'waiting_for_user_question'
          ? 'waiting_for_user_input'
          : 'running';
    return { status, active, queued };
  }
  if (queued > 0) return { status: 'running', queued };
  if (session.ended_at_ms !== null) return { status: 'completed', queued };
  const last = await lastFinishedRun(db, session.session_id);
  return { status: last?.status === 'failed' ? 'failed' : 'idle', queued };
}

export async function buildSnapshot(db: Executor, session: SessionRow): Promise<Record<string, unknown>> {
  const { status, active, queued } = await sessionStatus(db, session);
  const last = await lastFinishedRun(db, session.session_id);
  const lastOutputs = last ? await outputsOfRun(db, last.run_id) : [];
  const lastText = lastOutputs.length ? (lastOutputs[lastOutputs.length - 1]!.content as string) : undefined;
  return compact({
    agent_id: session.agent_id,
    session_id: session.session_id,
    thread_id: session.thread_id,
    role: 'primary',
    status,
    created_at_ms: session.created_at_ms,
    updated_at_ms: session.updated_at_ms,
    active_run_id: active?.run_id,
    queued_run_count: queued,
    pending_approvals: (await pendingApprovals(db, { session_id: session.session_id })).map(
      approvalRequestView,
    ),
    pending_questions: (await pendingQuestions(db, { session_id: session.session_id })).map((q) =>
      JSON.parse(q.request),
    ),
    last_assistant_message: lastText,
    last_runtime_error: last?.status === 'failed' ? last.error : undefined,
    ended_at_ms: session.ended_at_ms,
    end_reason: session.end_reason,
  });
}

async function scopes(db: Executor, session: SessionRow): Promise<Record<string, unknown>> {
  const capability = parseJson(session.capability_scope);
  const credential = parseJson(session.credential_scope);
  return {
    route_policy: parseJson(session.route_policy),
    capability_scope: capability,
    effective_capability_scope: (await effectiveCapabilityScope(db, session)) ?? undefined,
    credential_scope: credential,
    effective_credential_scope: (await effectiveCredentialScope(db, session)) ?? undefined,
    // The compact summary only: the soul stays in the snapshot (api-core #88).
    persona: personaSummary(personaSnapshotOf(session)),
    reply_targets: parseJson(session.reply_targets),
    budget: parseJson(session.budget),
    output_contract: parseJson(session.output_contract),
    input_contract: parseJson(session.input_contract),
  };
}

export const SESSION_OUTPUTS_LIMIT = 100;

export async function buildSessionView(db: Executor, session: SessionRow): Promise<WireView> {
  const view = compact({
    session_id: session.session_id,
    agent_id: session.agent_id,
    snapshot: await buildSnapshot(db, session),
    ...(await scopes(db, session)),
  });
  // `outputs` is always present, even when empty (api-core #20).
  return { ...view, outputs: await outputsOfSession(db, session.session_id, SESSION_OUTPUTS_LIMIT) };
}

export async function buildSessionSummary(db: Executor, session: SessionRow): Promise<WireView> {
  const { status } = await sessionStatus(db, session);
  return compact({
    session_id: session.session_id,
    agent_id: session.agent_id,
    status,
    pending_approvals: await countPendingApprovals(db, session.session_id),
    pending_questions: await countPendingQuestions(db, session.session_id),
    ...(await scopes(db, session)),
  });
}
