// The Flow projection (api-collab §3.6): what a Flow's primitives are and its derived status,
// computed on every read from the root run, the agents spawned from scoped runs (recursively) and
// their sessions' runs, tasks created by scoped runs, approvals, questions and outputs of scoped
// runs. Nothing here is persisted except the first terminal boundary (completed_at_ms), which
// freezes the scope so a settled Flow never regresses.
import type { Executor, FlowsTable, RunsTable } from '../../store/schema.ts';
import type { EvidenceRef, PlaybookManifest } from './schema.ts';

export type FlowStatus =
  | 'pending'
  | 'running'
  | 'waiting'
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  | 'interrupted'
  | 'unknown';
export const TERMINAL_FLOW = new Set<FlowStatus>(['succeeded', 'failed', 'cancelled', 'interrupted']);

export interface Primitives {
  runs: RunsTable[];
  tasks: { task_id: string; status: string; session_id: string }[];
  agent_ids: string[];
  approval_ids: string[];
  question_ids: string[];
  output_ids: string[];
  schedule_ids: string[];
  /** Tool names the scoped runs called (from their journals). */
  tools_used: string[];
}

export const NO_PRIMITIVES: Primitives = {
  runs: [],
  tasks: [],
  agent_ids: [],
  approval_ids: [],
  question_ids: [],
  output_ids: [],
  schedule_ids: [],
  tools_used: [],
};

/** Everything a Flow spans; with `until`, only work created at or before that boundary. */
export async function collect(db: Executor, rootRunId: string, until: number | null): Promise<Primitives> {
  const runs: RunsTable[] = [];
  const agentIds: string[] = [];
  let frontier = await db.selectFrom('runs').selectAll().where('run_id', '=', rootRunId).execute();
  for (let depth = 0; frontier.length && depth < 64; depth++) {
    runs.push(...frontier);
    const agents = await db
      .selectFrom('agents')
      .select(['agent_id', 'session_id'])
      .where(
        'spawned_by_run_id',
        'in',
        frontier.map((r) => r.run_id),
      )
      .execute();
    agentIds.push(...agents.map((a) => a.agent_id));
    if (!agents.length) break;
    let q = db
      .selectFrom('runs')
      .selectAll()
      .where(
        'session_id',
        'in',
        agents.map((a) => a.session_id),
      );
    if (until !== null) q = q.where('submitted_at_ms', '<=', until);
    const seen = new Set(runs.map((r) => r.run_id));
    frontier = (await q.execute()).filter((r) => !seen.has(r.run_id));
  }
  const ids = runs.map((r) => r.run_id);
  if (!ids.length)
    return {
      runs,
      tasks: [],
      agent_ids: [],
      approval_ids: [],
      question_ids: [],
      output_ids: [],
      schedule_ids: [],
      tools_used: [],
    };
  let tq = db
    .selectFrom('tasks')
    .select(['task_id', 'status', 'session_id'])
    .where('created_by_run_id', 'in', ids);
  if (until !== null) tq = tq.where('created_at_ms', '<=', until);
  const tasks = await tq.execute();
  const approvals = await db
    .selectFrom('approvals')
    .select('request_id')
    .where('run_id', 'in', ids)
    .execute();
  const questions = await db
    .selectFrom('questions')
    .select('request_id')
    .where('run_id', 'in', ids)
    .execute();
  const outputs = await db
    .selectFrom('outputs')
    .select('id')
    .where('run_id', 'in', ids)
    .orderBy('id')
    .execute();
  return {
    runs,
    tasks,
    agent_ids: agentIds,
    approval_ids: approvals.map((a) => a.request_id),
    question_ids: questions.map((q) => q.request_id),
    output_ids: outputs.map((o) => String(o.id)),
    schedule_ids: [
      ...new Set(
        (
          await db
            .selectFrom('schedule_executions')
            .select('schedule_id')
            .where('run_id', 'in', ids)
            .execute()
        ).map((s) => s.schedule_id),
      ),
    ],
    tools_used: await toolsUsed(db, ids),
  };
}

/** Tool calls recorded in the scoped runs' journals (the permission audit of each call). */
async function toolsUsed(db: Executor, runIds: string[]): Promise<string[]> {
  const rows = await db
    .selectFrom('permission_audits')
    .select('record')
    .where('run_id', 'in', runIds)
    .execute();
  const used = new Set<string>();
  for (const r of rows) {
    const rec = JSON.parse(r.record) as { tool_name: string; decision: string };
    // A call refused at dispatch was not used.
    if (!rec.decision.startsWith('den')) used.add(rec.tool_name);
  }
  return [...used];
}

export interface Contract {
  passed: boolean;
  checks: { name: string; passed: boolean; details: string }[];
}

const key = (r: { kind: string; id: string }) => `${r.kind}:${r.id}`;
const PRIMITIVE_KINDS = new Set([
  'run',
  'task',
  'agent',
  'approval',
  'question',
  'schedule',
  'output',
  'flow',
]);

/** Whether a primitive-kind ref resolves inside the projection (other kinds are attestations). */
export function resolves(ref: { kind: string; id: string }, flowId: string, p: Primitives): boolean {
  switch (ref.kind) {
    case 'run':
      return p.runs.some((r) => r.run_id === ref.id);
    case 'task':
      return p.tasks.some((t) => t.task_id === ref.id);
    case 'agent':
      return p.agent_ids.includes(ref.id);
    case 'approval':
      return p.approval_ids.includes(ref.id);
    case 'question':
      return p.question_ids.includes(ref.id);
    case 'output':
      return p.output_ids.includes(ref.id);
    case 'flow':
      return ref.id === flowId;
    case 'schedule':
      return p.schedule_ids.includes(ref.id);
    default:
      return !PRIMITIVE_KINDS.has(ref.kind);
  }
}

export function contractOf(
  manifest: PlaybookManifest,
  flowId: string,
  evidence: EvidenceRef[],
  p: Primitives,
) {
  const have = new Set(evidence.filter((e) => resolves(e, flowId, p)).map(key));
  const missing = (reqs: { kind: string; id: string }[] | undefined) =>
    (reqs ?? []).filter((r) => !have.has(key(r))).map(key);
  const checks: Contract['checks'] = [];
  const top = missing(manifest.required_evidence);
  checks.push({
    name: 'required_evidence',
    passed: top.length === 0,
    details: top.length ? `missing ${top.join(', ')}` : 'all required evidence present',
  });
  const phase_states = (manifest.phases ?? []).map((ph) => {
    const m = missing(ph.required_evidence);
    checks.push({
      name: `phase:${ph.phase_id}:required_evidence`,
      passed: m.length === 0,
      details: m.length ? `missing ${m.join(', ')}` : 'all required evidence present',
    });
    return { phase_id: ph.phase_id, status: m.length ? 'blocked' : 'pending', missing_evidence: m };
  });
  const tools = manifest.tools;
  if (tools?.enforce) {
    const bad = p.tools_used.filter(
      (t) =>
        (tools.deny ?? []).includes(t) ||
        ((tools.allow ?? []).length > 0 && !(tools.allow ?? []).includes(t)),
    );
    checks.push({
      name: 'tool_policy',
      passed: bad.length === 0,
      details: bad.length
        ? `tools outside the policy were called: ${bad.join(', ')}`
        : 'every tool call within policy',
    });
  }
  return { contract: { passed: checks.every((c) => c.passed), checks }, phase_states };
}

const WAITING_RUN = new Set(['waiting_for_approval', 'waiting_for_user_question']);
const LIVE_RUN = new Set(['queued', 'running', 'accepted']);

/**
 * Decision 393, precedence: pending/cancelled-before-run, unknown (root run missing), failed,
 * cancelled, waiting, running, interrupted, then succeeded when the contract passes. A completed
 * Flow whose contract fails shows `failed` for a tool-policy violation (fail-closed) and `waiting`
 * for missing evidence (an operator can still append it).
 */
export function deriveStatus(flow: FlowsTable, p: Primitives | null, contract: Contract | null): FlowStatus {
  if (!flow.run_id) return flow.cancelled_at_ms !== null ? 'cancelled' : 'pending';
  const root = p?.runs.find((r) => r.run_id === flow.run_id);
  if (!p || !root) return 'unknown';
  const runs = p.runs.map((r) => r.status);
  const tasks = p.tasks.map((t) => t.status);
  if (runs.includes('failed') || tasks.includes('failed')) return 'failed';
  if (runs.includes('cancelled') || tasks.includes('cancelled')) return 'cancelled';
  if (runs.some((s) => WAITING_RUN.has(s)) || tasks.includes('blocked')) return 'waiting';
  if (
    runs.some((s) => LIVE_RUN.has(s)) ||
    tasks.some((s) => s === 'pending' || s === 'in_progress' || s === 'running')
  )
    return 'running';
  if (runs.includes('interrupted')) return 'interrupted';
  if (contract && !contract.passed) {
    const tool = contract.checks.find((c) => c.name === 'tool_policy');
    return tool && !tool.passed ? 'failed' : 'waiting';
  }
  return 'succeeded';
}
