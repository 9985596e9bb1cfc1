// Executing one batch of tool calls under the permission policy. Nothing runs until every call of
// the batch is decided: `ask` parks the run in waiting_for_approval, the question tool parks it in
// waiting_for_user_question, and a side-effecting call that started before a crash without a
// recorded result is never re-run blindly (it asks the operator: outcome_unknown_after_restart).
import type { ToolCall } from '../models/driver.ts';
import type { ApprovalRow } from '../store/repos/approvals.ts';
import { insertPermissionAudits, type PermissionAuditRecord } from '../store/repos/permission-audits.ts';
import type { RunRow } from '../store/repos/runs.ts';
import type { SessionRow } from '../store/repos/sessions.ts';
import type { WriteTx } from '../store/store.ts';
import { QUESTION_TOOL, QuestionToolInput } from '../tools/control/question.ts';
import { evaluate, type PermissionRule } from '../tools/permissions.ts';
import type { ToolContext, ToolResult } from '../tools/registry.ts';
import type { ActionInput } from './external-actions.ts';
import { auditOf } from './permission-audit.ts';
import type { ToolPort } from './ports.ts';
import { whileRunning } from './run-guard.ts';
import type { RunState } from './run-state.ts';
import {
  outcomeOf,
  permissionDecided,
  type ToolOutcome,
  toolCallFinished,
  toolCallStarted,
} from './step-traces.ts';
import { permissionSpan, withToolSpan } from './telemetry.ts';
import {
  applyToolHooks,
  type HookablePlan,
  postToolHooks,
  type ToolHookResult,
  toolHooksActive,
} from './tool-hooks.ts';
import { BatchLimits, mapWithLimit } from './tool-limits.ts';
import { park, parkForQuestion, type StepWrite } from './tool-parks.ts';
import { maskSecrets } from './trace-redact.ts';
import { appendTraces, type Trace } from './traces.ts';

export type { StepWrite } from './tool-parks.ts';

type Plan =
  | { kind: 'run'; call: ToolCall; args: Record<string, unknown>; sideEffects: boolean; approved?: boolean }
  | { kind: 'result'; call: ToolCall; result: ToolResult; outcome: ToolOutcome }
  | { kind: 'ask'; call: ToolCall; reason: string }
  | { kind: 'question'; call: ToolCall; input: QuestionToolInput };

/** A result to journal, with what its tool_call_finished trace says (no trace for the question tool). */
interface Recorded {
  call: ToolCall;
  result: ToolResult;
  outcome: ToolOutcome;
  /** When it ran: null for a call that never ran. */
  timing: { started_at_ms: number; duration_ms: number } | null;
  /** The start trace, when it commits with the result (calls that ran before anything was durable). */
  started?: Trace;
  /** The post_tool_use hooks' trace, when they changed the result. */
  hook?: Trace | null;
  /** The audit record of a read-only call that left the daemon (an MCP read), signed with the result. */
  audit?: ActionInput;
}

export const OUTCOME_UNKNOWN = 'outcome_unknown_after_restart';

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
  const secrets = engine.secretValues();
  const audits: PermissionAuditRecord[] = [];
  // Published with the turn that asked for the calls; a batch resumed from the journal (after a
  // park or a restart) had its decisions published then.
  const decisions: Trace[] = [];
  const result = (call: ToolCall, res: ToolResult, outcome: ToolOutcome = outcomeOf(res)): Plan => ({
    kind: 'result',
    call,
    result: res,
    outcome,
  });

  const plans: Plan[] = calls.map((call, index) => {
    const unknown = outcomeVerdict(call, starts.get(call.id) ?? 0, allApprovals);
    if (unknown) return unknown;
    const refused = limits.refuse(call, index);
    if (refused) return result(call, refused);
    const approval = approvals.get(call.id);
    if (approval && approval.status !== 'pending') {
      const res = JSON.parse(approval.resolution ?? '{}') as {
        behavior?: string;
        updated_input?: Record<string, unknown>;
        reason?: string;
        result?: string;
      };
      if (approval.status === 'denied') {
        if (typeof res.result === 'string') return result(call, { content: res.result, is_error: false });
        const why = res.reason ? `: ${res.reason}` : '';
        return result(call, { content: `the operator denied this call${why}`, is_error: true }, 'denied');
      }
      return {
        kind: 'run',
        call,
        args: res.updated_input ?? call.arguments,
        sideEffects: Boolean(engine.tools.get(call.name)?.side_effects),
        approved: true,
      };
    }
    if (call.name === QUESTION_TOOL) {
      const q = questions.get(call.id);
      if (q && q.status !== 'pending')
        return result(call, { content: q.resolution ?? '{}', is_error: q.status !== 'answered' });
      const parsed = QuestionToolInput.safeParse(call.arguments);
      if (!parsed.success)
        return result(call, { content: `invalid question: ${parsed.error.message}`, is_error: true });
      return { kind: 'question', call, input: parsed.data };
    }
    const tool = engine.tools.get(call.name);
    if (tool && surface && !surface.has(call.name))
      return result(
        call,
        { content: `tool \`${call.name}\` is not in this agent's tool surface`, is_error: true },
        'denied',
      );
    const decision = evaluate(call.name, mode, rules);
    audits.push(auditOf(run, call, decision));
    // Like the permission_decided trace: a batch resumed from the journal was traced then.
    if (turn) {
      decisions.push(permissionDecided(call, decision));
      permissionSpan(call, decision);
    }
    if (decision.decision === 'deny')
      return result(call, { content: `permission denied: ${decision.reason}`, is_error: true }, 'denied');
    if (decision.decision === 'ask')
      return {
        kind: 'ask',
        call,
        reason: `rule \`${decision.matched_rule}\` requires approval in ${decision.mode} mode`,
      };
    return { kind: 'run', call, args: call.arguments, sideEffects: Boolean(tool?.side_effects) };
  });

  // Hooks (only when configured): the turn is made durable first, so a restart during a hook
  // re-evaluates the same calls under the same invocation keys; their effects ride on `first`.
  let hooked: ToolHookResult | null = null;
  if (toolHooksActive(engine)) {
    if (turn) {
      const write = turn;
      turn = undefined;
      await whileRunning(engine, run.run_id, async (tx, current) =>
        appendTraces(engine.events, tx, run, (await write(tx, current)) ?? []),
      );
    }
    const byCall = new Map(audits.map((a) => [a.tool_call_id, a]));
    hooked = await applyToolHooks(
      engine,
      run,
      plans as HookablePlan[],
      byCall,
      { rules, mode, outcomeUnknown: OUTCOME_UNKNOWN },
      signal,
    );
  }

  // The turn, the audits and the decisions commit with the batch's first write (a park, results,
  // or a side effect's start): no transaction of their own. Every batch writes one of those.
  let firstPending = true;
  const first = async (tx: WriteTx, current: RunRow): Promise<Trace[]> => {
    if (!firstPending) return [];
    firstPending = false;
    const turnTraces = (await turn?.(tx, current)) ?? [];
    await insertPermissionAudits(tx.db, audits.splice(0));
    await hooked?.persist(tx);
    return [...turnTraces, ...decisions.splice(0), ...(hooked?.traces.splice(0) ?? [])];
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

  const ready: Recorded[] = plans
    .filter((p): p is Extract<Plan, { kind: 'result' }> => p.kind === 'result')
    .map((p) => ({ call: p.call, result: p.result, outcome: p.outcome, timing: null }));
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
    workspace_root: state.workspaceRoot,
    signal,
    sandbox: {
      network: limits.limits.max_sandbox === 'network_enabled' && networkGranted(rules),
      workspace_writable: limits.limits.max_sandbox !== 'read_only',
    },
  });
  const execute = (p: Extract<Plan, { kind: 'run' }>) =>
    withToolSpan(
      p.call,
      (r) => r.res.is_error,
      () => executeUntraced(p),
    );
  const executeUntraced = async (p: Extract<Plan, { kind: 'run' }>) => {
    const startedAt = Date.now();
    const executed = await limits.execute(engine.tools, { ...p.call, arguments: p.args }, ctx(p.call));
    // What a tool prints of a secret the daemon holds (an MCP env dump, a key read from a file)
    // reaches neither hooks, the journal, the model nor events.
    const raw = { ...executed, content: maskSecrets(executed.content, engine.secretValues()) };
    const timing = { started_at_ms: startedAt, duration_ms: Date.now() - startedAt };
    if (!engine.hooks.has('post_tool_use') && !engine.hooks.has('post_tool_use_failure'))
      return { res: raw, timing, hook: null };
    const post = await postToolHooks(engine, run, p.call, p.args, raw, signal);
    return { res: post.result, timing, hook: post.trace };
  };
  const results = await mapWithLimit(parallel, limits.limits.max_parallel_tools, async (p) => {
    // A read that leaves the daemon (MCP) is audited too: refused up front while the audit is closed.
    const kind = engine.tools.get(p.call.name)?.audit_kind;
    if (kind) engine.opts.audit.require();
    const { res, timing, hook } = await execute(p);
    const started = toolCallStarted(p.call, p.args, false, timing.started_at_ms, secrets);
    const audit: ActionInput | undefined = kind
      ? {
          ...actionOf(run, p.call, kind, p.args),
          phase: 'completed',
          response: res,
          outcome: res.is_error ? 'failed' : 'succeeded',
        }
      : undefined;
    return {
      call: p.call,
      result: res,
      outcome: outcomeOf(res),
      timing,
      started,
      hook,
      audit,
    } satisfies Recorded;
  });
  // With nothing to record yet, the turn waits for the first side effect's start record.
  const recorded = [...ready, ...results];
  if (recorded.length > 0) await writeResults(engine, state, recorded, firstPending ? first : undefined);
  for (const p of runs.filter((x) => x.sideEffects)) {
    // Durable before it runs: after a crash this call is never repeated without asking.
    const action = actionOf(run, p.call, engine.tools.get(p.call.name)?.audit_kind ?? 'tool', p.args);
    // Refused before anything is written while the audit is closed (the run fails with the reason).
    engine.opts.audit.require();
    await whileRunning(engine, run.run_id, async (tx, current) => {
      const before = await first(tx, current);
      await state.journal(tx, [
        {
          kind: 'tool_call_started',
          payload: { tool_call_id: p.call.id, name: p.call.name, arguments: p.args },
        },
      ]);
      await engine.opts.audit.append(tx.db, { ...action, phase: 'started', outcome: 'pending' }, tx.now);
      await appendTraces(engine.events, tx, run, [
        ...before,
        toolCallStarted(p.call, p.args, true, tx.now, secrets),
      ]);
    });
    const { res, timing, hook } = await execute(p);
    const done: Recorded = { call: p.call, result: res, outcome: outcomeOf(res), timing, hook };
    await writeResults(engine, state, [done], async (tx) => {
      await engine.opts.audit.append(
        tx.db,
        { ...action, phase: 'completed', response: res, outcome: res.is_error ? 'failed' : 'succeeded' },
        tx.now,
      );
      return undefined;
    });
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
      return { kind: 'result', call, result: { content: res.result, is_error: false }, outcome: 'ok' };
    const why = res.reason ? `: ${res.reason}` : '';
    return {
      kind: 'result',
      call,
      result: { content: `skipped by the operator after a restart${why}`, is_error: true },
      outcome: 'denied',
    };
  }
  const rerunsAllowed = rows.filter((a) => a.status === 'allowed').length;
  return starts > rerunsAllowed ? { kind: 'ask', call, reason: OUTCOME_UNKNOWN } : null;
}

/**
 * Journals results with their traces (with `also` first, in the same transaction); with no
 * results, only `also`, if any. The question tool's answer has no tool traces: its question_asked
 * and question_resolved traces tell that story.
 */
async function writeResults(
  engine: ToolPort,
  state: RunState,
  results: Recorded[],
  also?: StepWrite,
): Promise<void> {
  if (results.length === 0 && !also) return;
  const secrets = engine.secretValues();
  await whileRunning(engine, state.run.run_id, async (tx, current) => {
    const before = (await also?.(tx, current)) ?? [];
    if (results.length === 0) {
      await appendTraces(engine.events, tx, state.run, before);
      return;
    }
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
    for (const r of results) if (r.audit) await engine.opts.audit.append(tx.db, r.audit, tx.now);
    const traced = results.filter((r) => r.call.name !== QUESTION_TOOL);
    await appendTraces(engine.events, tx, state.run, [
      ...before,
      ...traced.flatMap((r) => (r.started ? [r.started] : [])),
      ...traced.flatMap((r) => (r.hook ? [r.hook] : [])),
      ...traced.map((r) => toolCallFinished(r.call, r.result, r.outcome, r.timing, secrets)),
    ]);
  });
}

function actionOf(run: RunRow, call: ToolCall, kind: string, args: Record<string, unknown>) {
  return {
    run_id: run.run_id,
    session_id: run.session_id,
    agent_id: run.agent_id,
    tool_call_id: call.id,
    kind,
    target: call.name,
    request: args,
  };
}
