// Executing one batch of tool calls under the permission policy. Nothing runs until every call of
// the batch is decided: `ask` parks the run in waiting_for_approval, the question tool parks it in
// waiting_for_user_question, and a side-effecting call that started before a crash without a
// recorded result is never re-run blindly (it asks the operator: outcome_unknown_after_restart).
import { monotonicFactory } from 'ulid';
import type { ToolCall } from '../models/driver.ts';
import {
  type ApprovalRow,
  approvalsOfRun,
  insertApprovals,
  insertQuestion,
} from '../store/repos/approvals.ts';
import { insertPermissionAudits, type PermissionAuditRecord } from '../store/repos/permission-audits.ts';
import type { RunRow } from '../store/repos/runs.ts';
import type { SessionRow } from '../store/repos/sessions.ts';
import type { WriteTx } from '../store/store.ts';
import { QUESTION_TOOL, QuestionToolInput, type UserQuestionRequest } from '../tools/control/question.ts';
import { evaluate, type PermissionRule } from '../tools/permissions.ts';
import type { ToolContext, ToolResult } from '../tools/registry.ts';
import { appendExternalAction } from './external-actions.ts';
import { auditOf } from './permission-audit.ts';
import type { ToolPort } from './ports.ts';
import { whileRunning } from './run-guard.ts';
import type { RunState } from './run-state.ts';
import { BatchLimits, mapWithLimit } from './tool-limits.ts';
import { approvalRequestView } from './views.ts';

const ulid = monotonicFactory();

type Plan =
  | { kind: 'run'; call: ToolCall; args: Record<string, unknown>; sideEffects: boolean }
  | { kind: 'result'; call: ToolCall; result: ToolResult }
  | { kind: 'ask'; call: ToolCall; reason: string }
  | { kind: 'question'; call: ToolCall; input: QuestionToolInput };

export const OUTCOME_UNKNOWN = 'outcome_unknown_after_restart';

/** A write that must ride on the batch's first transaction; gets the run row as read there. */
export type StepWrite = (tx: WriteTx, run: RunRow) => Promise<unknown>;

/**
 * Returns 'parked' when the run now waits for a human, 'continue' when every call has a result.
 * `turn` is the uncommitted assistant turn that asked for these calls: it commits in the batch's
 * first transaction, which is also its only one when every call only reads (then results,
 * assistant turn and usage are one step, one commit). A batch with a call that acts on the world
 * or on durable state commits the turn before running anything, so the call ids it runs under
 * are durable first.
 */
export async function runToolCalls(
  engine: ToolPort,
  state: RunState,
  session: SessionRow | undefined,
  calls: ToolCall[],
  signal: AbortSignal,
  turn?: StepWrite,
): Promise<'continue' | 'parked'> {
  const run = state.run;
  const allApprovals = state.approvals;
  // The operator's verdict on the call itself (not on an unknown outcome after a crash).
  const approvals = new Map<string, ApprovalRow>();
  for (const a of allApprovals) if (a.reason !== OUTCOME_UNKNOWN) approvals.set(a.tool_call_id, a);
  const questions = new Map(state.questions.map((q) => [q.tool_call_id, q]));
  const starts = state.starts;
  const rules = session?.permission_rules ? (JSON.parse(session.permission_rules) as PermissionRule[]) : [];
  const surface = await engine.toolSurfaceFor(run);
  const mode = await engine.permissionModeFor(run.session_id);
  const limits = new BatchLimits(engine.toolLimits.get(), state.resultBytes);
  const audits: PermissionAuditRecord[] = [];

  const plans: Plan[] = calls.map((call, index) => {
    const unknown = outcomeVerdict(call, starts.get(call.id) ?? 0, allApprovals);
    if (unknown) return unknown;
    const refused = limits.refuse(call, index);
    if (refused) return { kind: 'result', call, result: refused };
    const approval = approvals.get(call.id);
    if (approval && approval.status !== 'pending') {
      const res = JSON.parse(approval.resolution ?? '{}') as {
        behavior?: string;
        updated_input?: Record<string, unknown>;
        reason?: string;
        result?: string;
      };
      if (approval.status === 'denied') {
        if (typeof res.result === 'string')
          return { kind: 'result', call, result: { content: res.result, is_error: false } };
        return {
          kind: 'result',
          call,
          result: {
            content: `the operator denied this call${res.reason ? `: ${res.reason}` : ''}`,
            is_error: true,
          },
        };
      }
      return {
        kind: 'run',
        call,
        args: res.updated_input ?? call.arguments,
        sideEffects: Boolean(engine.tools.get(call.name)?.side_effects),
      };
    }
    if (call.name === QUESTION_TOOL) {
      const q = questions.get(call.id);
      if (q && q.status !== 'pending')
        return {
          kind: 'result',
          call,
          result: { content: q.resolution ?? '{}', is_error: q.status !== 'answered' },
        };
      const parsed = QuestionToolInput.safeParse(call.arguments);
      if (!parsed.success)
        return {
          kind: 'result',
          call,
          result: { content: `invalid question: ${parsed.error.message}`, is_error: true },
        };
      return { kind: 'question', call, input: parsed.data };
    }
    const tool = engine.tools.get(call.name);
    if (tool && surface && !surface.has(call.name))
      return {
        kind: 'result',
        call,
        result: { content: `tool \`${call.name}\` is not in this agent's tool surface`, is_error: true },
      };
    const decision = evaluate(call.name, mode, rules);
    audits.push(auditOf(run, call, decision));
    if (decision.decision === 'deny')
      return {
        kind: 'result',
        call,
        result: { content: `permission denied: ${decision.reason}`, is_error: true },
      };
    if (decision.decision === 'ask')
      return {
        kind: 'ask',
        call,
        reason: `rule \`${decision.matched_rule}\` requires approval in ${decision.mode} mode`,
      };
    return { kind: 'run', call, args: call.arguments, sideEffects: Boolean(tool?.side_effects) };
  });

  // The turn and the audits commit with the batch's first write (a park, results, or a side
  // effect's start): no transaction of their own. Every batch writes at least one of those.
  let firstPending = true;
  const first: StepWrite = async (tx, current) => {
    if (!firstPending) return;
    firstPending = false;
    await turn?.(tx, current);
    await insertPermissionAudits(tx.db, audits.splice(0));
  };

  const asks = plans.filter((p): p is Extract<Plan, { kind: 'ask' }> => p.kind === 'ask');
  if (asks.length > 0) {
    await park(engine, run, asks, first);
    return 'parked';
  }
  const question = plans.find((p): p is Extract<Plan, { kind: 'question' }> => p.kind === 'question');
  if (question) {
    await parkForQuestion(engine, run, question.call, question.input, first);
    return 'parked';
  }

  const ready = plans
    .filter((p): p is Extract<Plan, { kind: 'result' }> => p.kind === 'result')
    .map((p) => ({ call: p.call, result: p.result }));
  const runs = plans.filter((p): p is Extract<Plan, { kind: 'run' }> => p.kind === 'run');
  const parallel = runs.filter((p) => !p.sideEffects);
  // What runs before the turn is durable may only read (docs/decisions.md #82); side-effecting
  // calls are safe either way, since the turn commits with the first one's start record.
  if (turn && !parallel.every((p) => readsOnly(engine, p.call.name)))
    await writeResults(engine, state, ready.splice(0), first);
  const ctx = (call: ToolCall): ToolContext => ({
    run_id: run.run_id,
    session_id: run.session_id,
    agent_id: run.agent_id,
    tool_call_id: call.id,
    workspace_root: engine.opts.workspaceRoot,
    signal,
    sandbox: {
      network: limits.limits.max_sandbox === 'network_enabled' && networkGranted(rules),
      workspace_writable: limits.limits.max_sandbox !== 'read_only',
    },
  });
  const results = await mapWithLimit(parallel, limits.limits.max_parallel_tools, async (p) => ({
    call: p.call,
    result: await limits.execute(engine.tools, { ...p.call, arguments: p.args }, ctx(p.call)),
  }));
  // With nothing to record yet, the turn waits for the first side effect's start record.
  const recorded = [...ready, ...results];
  if (recorded.length > 0) await writeResults(engine, state, recorded, firstPending ? first : undefined);
  for (const p of runs.filter((x) => x.sideEffects)) {
    // Durable before it runs: after a crash this call is never repeated without asking.
    const action = {
      run_id: run.run_id,
      session_id: run.session_id,
      agent_id: run.agent_id,
      tool_call_id: p.call.id,
      kind: 'tool',
      target: p.call.name,
      request: p.args,
    };
    await whileRunning(engine, run.run_id, async (tx, current) => {
      await first(tx, current);
      await state.journal(tx, [
        {
          kind: 'tool_call_started',
          payload: { tool_call_id: p.call.id, name: p.call.name, arguments: p.args },
        },
      ]);
      await appendExternalAction(
        tx.db,
        engine.opts.signer,
        { ...action, phase: 'started', outcome: 'pending' },
        tx.now,
      );
    });
    const result = await limits.execute(engine.tools, { ...p.call, arguments: p.args }, ctx(p.call));
    await writeResults(engine, state, [{ call: p.call, result }], async (tx) =>
      appendExternalAction(
        tx.db,
        engine.opts.signer,
        {
          ...action,
          phase: 'completed',
          response: result,
          outcome: result.is_error ? 'failed' : 'succeeded',
        },
        tx.now,
      ),
    );
  }
  return 'continue';
}

/**
 * A call that may run before the turn that asked for it is durable: its tool only reads, so
 * running it again after a crash (even under another call id, from a new model call) changes
 * nothing. An unknown tool never runs at all.
 */
function readsOnly(engine: ToolPort, name: string): boolean {
  const tool = engine.tools.get(name);
  return tool === undefined || tool.read_only === true;
}

/** Network for sandboxed commands needs an explicit rule: `bash:network` → allow (never a wildcard). */
function networkGranted(rules: PermissionRule[]): boolean {
  return rules.some((r) => r.pattern === 'bash:network' && r.decision === 'allow');
}

/**
 * A side-effecting call that started (durably) without a recorded result may or may not have
 * happened. Each such start needs its own operator verdict: re-run (allow) or skip / supply the
 * result (deny). Returns null when the call has no unanswered start.
 */
function outcomeVerdict(call: ToolCall, starts: number, approvals: ApprovalRow[]): Plan | null {
  if (starts === 0) return null;
  const rows = approvals.filter((a) => a.tool_call_id === call.id && a.reason === OUTCOME_UNKNOWN);
  const denied = rows.find((a) => a.status === 'denied');
  if (denied) {
    const res = JSON.parse(denied.resolution ?? '{}') as { result?: string; reason?: string };
    if (typeof res.result === 'string')
      return { kind: 'result', call, result: { content: res.result, is_error: false } };
    const why = res.reason ? `: ${res.reason}` : '';
    return {
      kind: 'result',
      call,
      result: { content: `skipped by the operator after a restart${why}`, is_error: true },
    };
  }
  const rerunsAllowed = rows.filter((a) => a.status === 'allowed').length;
  return starts > rerunsAllowed ? { kind: 'ask', call, reason: OUTCOME_UNKNOWN } : null;
}

async function park(
  engine: ToolPort,
  run: RunRow,
  asks: Array<{ call: ToolCall; reason: string }>,
  also: StepWrite,
): Promise<void> {
  await whileRunning(engine, run.run_id, async (tx, current) => {
    await also(tx, current);
    const pendingNow = (await approvalsOfRun(tx.db, run.run_id)).filter((a) => a.status === 'pending');
    const rows: ApprovalRow[] = asks
      .filter((a) => !pendingNow.some((p) => p.tool_call_id === a.call.id && p.reason === a.reason))
      .map((a) => ({
        request_id: `approval-${ulid().toLowerCase()}`,
        run_id: run.run_id,
        session_id: run.session_id,
        tool_call_id: a.call.id,
        tool_name: a.call.name,
        input: JSON.stringify(a.call.arguments),
        scope: 'session',
        reason: a.reason,
        status: 'pending',
        resolution: null,
        created_at_ms: tx.now,
        resolved_at_ms: null,
      }));
    await insertApprovals(tx.db, rows);
    const pending = (await approvalsOfRun(tx.db, run.run_id)).filter((a) => a.status === 'pending');
    await engine.transition(tx, run.run_id, 'waiting_for_approval', {
      eventExtra: {
        request_ids: pending.map((a) => a.request_id),
        requests: pending.map(approvalRequestView),
      },
    });
  });
}

async function parkForQuestion(
  engine: ToolPort,
  run: RunRow,
  call: ToolCall,
  input: QuestionToolInput,
  also: StepWrite,
): Promise<void> {
  await whileRunning(engine, run.run_id, async (tx, current) => {
    await also(tx, current);
    const id = `question-${ulid().toLowerCase()}`;
    const expires =
      input.expires_at_ms ?? (input.expires_after_ms ? tx.now + input.expires_after_ms : undefined);
    const request: UserQuestionRequest = {
      id,
      tool_call_id: call.id,
      questions: input.questions,
      created_at_ms: tx.now,
    };
    if (expires !== undefined) request.expires_at_ms = expires;
    await insertQuestion(tx.db, {
      request_id: id,
      run_id: run.run_id,
      session_id: run.session_id,
      tool_call_id: call.id,
      request: JSON.stringify(request),
      status: 'pending',
      resolution: null,
      created_at_ms: tx.now,
      expires_at_ms: expires ?? null,
      resolved_at_ms: null,
    });
    await engine.transition(tx, run.run_id, 'waiting_for_user_question', {
      eventExtra: { request_ids: [id], requests: [request] },
    });
  });
}

/** Journals results (with `also` in the same transaction); with no results, only `also`, if any. */
async function writeResults(
  engine: ToolPort,
  state: RunState,
  results: Array<{ call: ToolCall; result: ToolResult }>,
  also?: StepWrite,
): Promise<void> {
  if (results.length === 0 && !also) return;
  await whileRunning(engine, state.run.run_id, async (tx, current) => {
    await also?.(tx, current);
    if (results.length === 0) return;
    await state.journal(
      tx,
      results.map(({ call, result }) => ({
        kind: 'tool_result',
        payload: {
          tool_call_id: call.id,
          name: call.name,
          content: result.content,
          is_error: result.is_error,
        },
      })),
    );
  });
}
