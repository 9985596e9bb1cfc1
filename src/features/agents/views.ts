// Wire projections of managed agents: ManagedAgentSnapshot (full, the reference's shape: a static
// `agent` record plus live state) and AgentSummaryView (cheap list rows, api-core §6.4). A primary
// agent is projected from its session; a child from its agents row plus its own session.
import { approvalRequestView } from '../../engine/views.ts';
import { type AgentRow, journalCounts } from '../../store/repos/agents.ts';
import { pendingApprovals, pendingQuestions } from '../../store/repos/approvals.ts';
import { outputsOfRun } from '../../store/repos/journal.ts';
import type { ClarificationOverlay } from '../../store/repos/mailboxes.ts';
import { isActive, lastFinishedRun, liveRunsOfSession, type RunRow } from '../../store/repos/runs.ts';
import type { SessionRow } from '../../store/repos/sessions.ts';
import type { Executor } from '../../store/schema.ts';
import { chainAllows, type SurfaceFilter } from './profiles.ts';

export type AgentStatus =
  | 'idle'
  | 'running'
  | 'waiting_for_approval'
  | 'waiting_for_user_input'
  | 'failed'
  | 'completed';

/** A child blocked on its parent's clarification reports waiting_for_user_input (api-core §6.4). */
export const blockedOnParent = (status: AgentStatus, awaiting: boolean): AgentStatus =>
  awaiting && status === 'running' ? 'waiting_for_user_input' : status;

/** One agent: its session, plus the agents row when it is a child. */
export interface AgentNode {
  agent_id: string;
  session: SessionRow;
  child: AgentRow | null;
}

export interface AgentState {
  status: AgentStatus;
  /** No queued, running or waiting run: the agent has settled (wait_agent returns). */
  settled: boolean;
  active?: RunRow;
  queued: number;
  live: RunRow[];
  last?: RunRow;
}

export const PREVIEW_CHARS = 500;

const parse = (s: string | null): unknown => (s === null ? undefined : JSON.parse(s));

function compact<T extends Record<string, unknown>>(obj: T): T {
  for (const k of Object.keys(obj)) if (obj[k] === undefined || obj[k] === null) delete obj[k];
  return obj;
}

/**
 * A child with nothing live reports how its latest run ended (`completed`, else `failed`); a primary
 * agent is `idle` between runs (and `completed` once its session ended), like the session snapshot.
 */
export async function agentState(db: Executor, node: AgentNode): Promise<AgentState> {
  const live = await liveRunsOfSession(db, node.session.session_id);
  const active = live.find((r) => isActive(r.status));
  const queued = live.filter((r) => r.status === 'queued').length;
  const last = await lastFinishedRun(db, node.session.session_id);
  let status: AgentStatus;
  if (active)
    status =
      active.status === 'waiting_for_approval'
        ? 'waiting_for_approval'
        : active.status === 'waiting_for_user_question'
          ? 'waiting_for_user_input'
          : 'running';
  else if (queued > 0) status = 'running';
  else if (node.child) status = !last ? 'idle' : last.status === 'completed' ? 'completed' : 'failed';
  else if (node.session.ended_at_ms !== null) status = 'completed';
  else status = last?.status === 'failed' ? 'failed' : 'idle';
  return { status, settled: live.length === 0, active, queued, live, last };
}

/** The newest output text of a run, bounded. */
export async function outputPreview(
  db: Executor,
  run: RunRow | undefined,
  max = PREVIEW_CHARS,
): Promise<{ text?: string; truncated: boolean }> {
  if (!run) return { truncated: false };
  const outputs = await outputsOfRun(db, run.run_id);
  const text = outputs.at(-1)?.content;
  if (typeof text !== 'string') return { truncated: false };
  return text.length > max ? { text: `${text.slice(0, max)}…`, truncated: true } : { text, truncated: false };
}

export const rootAgentId = (node: AgentNode) => node.child?.root_agent_id ?? node.agent_id;
export const depthOf = (node: AgentNode) => node.child?.depth ?? 0;
export const pathOf = (node: AgentNode) => node.child?.path ?? node.session.session_id;

export function surfaceChain(node: AgentNode): SurfaceFilter[] {
  return node.child ? (JSON.parse(node.child.tool_surface) as SurfaceFilter[]) : [];
}

/** The registered tools this agent may see (all for a primary agent). */
export function visibleTools(node: AgentNode, registered: string[]): string[] {
  const chain = surfaceChain(node);
  return registered.filter((t) => chainAllows(chain, t));
}

function agentRecord(node: AgentNode, state: AgentState, extra: Record<string, unknown>) {
  const c = node.child;
  const subtask = parse(c?.subtask ?? null) as Record<string, unknown> | undefined;
  return compact({
    id: node.agent_id,
    parent: c?.parent_agent_id,
    name: c?.name,
    path: pathOf(node),
    nickname: c?.nickname,
    conversation: compact({ session_id: node.session.session_id, thread_id: node.session.thread_id }),
    status: state.status,
    retention: c?.retention ?? 'retain',
    spawned_by_run_id: c?.spawned_by_run_id,
    spawn_request_id: c?.spawn_request_id,
    spawned_at_ms: c?.spawned_at_ms ?? node.session.created_at_ms,
    settled_at_ms: c?.settled_at_ms,
    closed_at_ms: c?.closed_at_ms,
    subtasks: subtask ? [subtask] : [],
    sidechain_session_id: c ? node.session.session_id : undefined,
    fork_context: parse(c?.fork_context ?? null),
    // Extensions: where it sits and what it was given.
    root_agent_id: rootAgentId(node),
    depth: depthOf(node),
    role: c ? 'sidechain' : 'primary',
    profile: c?.profile,
    permission_mode: c?.permission_mode,
    launch_run_id: c?.launch_run_id,
    close_reason: c?.close_reason,
    orphaned_at_ms: c?.orphaned_at_ms,
    inheritance: parse(c?.inheritance ?? null),
    ...extra,
  });
}

/** ManagedAgentSnapshot: the static record plus pending requests, last message and last error. */
export async function buildAgentSnapshot(
  db: Executor,
  node: AgentNode,
  children: string[],
  registeredTools: string[],
): Promise<Record<string, unknown>> {
  const state = await agentState(db, node);
  const sid = node.session.session_id;
  const preview = await outputPreview(db, state.last, Number.MAX_SAFE_INTEGER);
  const counts = await journalCounts(db, sid);
  return {
    agent_id: node.agent_id,
    parent_agent_id: node.child?.parent_agent_id ?? null,
    root_agent_id: rootAgentId(node),
    session_id: sid,
    status: state.status,
    depth: depthOf(node),
    children,
    agent: agentRecord(node, state, {
      tool_surface: node.child ? visibleTools(node, registeredTools) : undefined,
      capability_scope: parse(node.session.capability_scope),
      credential_scope: parse(node.session.credential_scope),
    }),
    pending_approvals: (await pendingApprovals(db, { session_id: sid })).map(approvalRequestView),
    pending_questions: (await pendingQuestions(db, { session_id: sid })).map((q) => JSON.parse(q.request)),
    last_assistant_message: preview.text ?? null,
    journal_len: counts.entries,
    checkpoint_len: counts.checkpoints,
    last_error: state.last?.status === 'failed' ? state.last.error : null,
  };
}

/** AgentSummaryView: cheap overlays only (no journals, no request payloads). */
export async function buildAgentSummary(
  db: Executor,
  node: AgentNode,
  mailboxCount: number,
  overlay: ClarificationOverlay,
): Promise<Record<string, unknown> & { status: AgentStatus; has_runtime: boolean }> {
  const state = await agentState(db, node);
  const status = blockedOnParent(state.status, overlay.awaiting_parent_clarification);
  const c = node.child;
  const preview = await outputPreview(db, state.last);
  const approvals =
    state.active?.status === 'waiting_for_approval'
      ? await pendingApprovals(db, { session_id: node.session.session_id })
      : [];
  const questions =
    state.active?.status === 'waiting_for_user_question'
      ? await pendingQuestions(db, { session_id: node.session.session_id })
      : [];
  const activity = Math.max(
    node.session.updated_at_ms,
    ...state.live.map((r) => r.updated_at_ms),
    state.last?.updated_at_ms ?? 0,
  );
  return {
    ...compact({
      agent_id: node.agent_id,
      parent_agent_id: c?.parent_agent_id,
      session_id: node.session.session_id,
      thread_id: node.session.thread_id,
      name: c?.name,
      path: pathOf(node),
      nickname: c?.nickname,
      status,
      retention: c?.retention ?? 'retain',
      spawned_by_run_id: c?.spawned_by_run_id,
      spawn_request_id: c?.spawn_request_id,
      spawned_at_ms: c?.spawned_at_ms ?? node.session.created_at_ms,
      settled_at_ms: c?.settled_at_ms,
      closed_at_ms: c?.closed_at_ms,
      sidechain_session_id: c ? node.session.session_id : undefined,
      subtask_count: c?.subtask ? 1 : 0,
      mailbox_message_count: mailboxCount,
      has_runtime: state.live.length > 0,
      active_run_id: state.active?.run_id,
      queued_run_count: state.queued,
      pending_approval_count: approvals.length,
      pending_question_count: questions.length,
      pending_parent_clarification_count: overlay.pending_parent_clarification_count,
      pending_parent_clarification_run_ids: overlay.pending_parent_clarification_run_ids,
      last_error: state.last?.status === 'failed' ? state.last.error : undefined,
      last_output_preview: preview.text,
      last_output_truncated: preview.truncated,
      last_activity_at_ms: activity,
      root_agent_id: rootAgentId(node),
      depth: depthOf(node),
      role: c ? 'sidechain' : 'primary',
      profile: c?.profile,
    }),
    status,
    has_runtime: state.live.length > 0,
  };
}
