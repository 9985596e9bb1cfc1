// The hooks of a tool batch (ops-runtime §6.3, §7.1), run between the permission evaluation and
// the batch's first write, so their effects commit with the step they change: `pre_tool_use` may
// block a call (error result), rewrite its arguments (before the durable tool_call_started record)
// or set its permission; `permission_request` decides an `ask` and may add session rules
// (origin `hook_update`, persisted with the step); `permission_denied` observes final denials.
// Only called when a hook is configured for one of these events.
import type { ToolCall } from '../models/driver.ts';
import type { PermissionAuditRecord } from '../store/repos/permission-audits.ts';
import type { RunRow } from '../store/repos/runs.ts';
import { updateSession } from '../store/repos/sessions.ts';
import type { WriteTx } from '../store/store.ts';
import { evaluate, type PermissionMode, type PermissionRule } from '../tools/permissions.ts';
import { type HookEvent, type HookFire, type HookVerdict, hookTrace } from './hook-port.ts';
import type { ToolPort } from './ports.ts';
import type { Trace } from './traces.ts';

export const TOOL_POLICY_EVENTS: HookEvent[] = ['pre_tool_use', 'permission_request', 'permission_denied'];

/** The plans of tool-calls.ts this module may change (structurally the same type). */
export type HookablePlan =
  | { kind: 'run'; call: ToolCall; args: Record<string, unknown>; sideEffects: boolean; approved?: boolean }
  | {
      kind: 'result';
      call: ToolCall;
      result: { content: string; is_error: boolean };
      outcome: 'ok' | 'error' | 'denied';
    }
  | { kind: 'ask'; call: ToolCall; reason: string }
  | { kind: 'question'; call: ToolCall; input: unknown };

export interface ToolHookResult {
  traces: Trace[];
  /** Writes the session rules hooks added (inside the batch's first transaction). */
  persist(tx: WriteTx): Promise<void>;
}

export const toolHooksActive = (engine: ToolPort): boolean =>
  TOOL_POLICY_EVENTS.some((e) => engine.hooks.has(e));

const denied = (call: ToolCall, why: string): HookablePlan => ({
  kind: 'result',
  call,
  result: { content: why, is_error: true },
  outcome: 'denied',
});

export async function applyToolHooks(
  engine: ToolPort,
  run: RunRow,
  plans: HookablePlan[],
  audits: Map<string, PermissionAuditRecord>,
  ctx: { rules: PermissionRule[]; mode: PermissionMode; outcomeUnknown: string },
  signal: AbortSignal,
): Promise<ToolHookResult> {
  const traces: Trace[] = [];
  const added: PermissionRule[] = [];
  const fire = (event: HookEvent, call: ToolCall, payload: Record<string, unknown>) =>
    engine.hooks.fire(callFire(event, run, call, payload), signal);
  const note = (event: HookEvent, call: ToolCall, v: HookVerdict) => {
    if (v.hooks.length === 0) return;
    traces.push(hookTrace(event, v, { tool_call_id: call.id, name: call.name }));
    const audit = audits.get(call.id);
    if (audit) audit.hooks_evaluated = true;
  };
  const setDecision = (call: ToolCall, decision: 'allow' | 'ask' | 'deny', reason: string) => {
    const audit = audits.get(call.id);
    if (!audit) return;
    audit.decision = decision;
    audit.reason = reason;
  };

  for (let i = 0; i < plans.length; i++) {
    let p = plans[i]!;
    const asks = p.kind === 'ask' && p.reason !== ctx.outcomeUnknown;
    if (engine.hooks.has('pre_tool_use') && (p.kind === 'run' || asks)) {
      const args = p.kind === 'run' ? p.args : p.call.arguments;
      const v = await fire('pre_tool_use', p.call, { tool_input: args });
      note('pre_tool_use', p.call, v);
      if (v.blocked) {
        p = denied(p.call, `blocked by a pre_tool_use hook: ${v.reason}`);
        setDecision(p.call, 'deny', `pre_tool_use hook: ${v.reason}`);
      } else if (p.kind === 'run') {
        if (v.updated_input) p = { ...p, args: v.updated_input };
        // The operator's approval stands; a hook may only ask for one on a call not yet approved.
        if (v.permission === 'ask' && !p.approved) {
          p = { kind: 'ask', call: p.call, reason: 'a pre_tool_use hook asks for approval' };
          setDecision(p.call, 'ask', 'pre_tool_use hook asked for approval');
        }
      } else if (p.kind === 'ask' && v.permission === 'allow') {
        p = {
          kind: 'run',
          call: p.call,
          args: v.updated_input ?? p.call.arguments,
          sideEffects: sideEffects(engine, p.call),
        };
        setDecision(p.call, 'allow', 'pre_tool_use hook allowed the call');
      }
    }
    if (engine.hooks.has('permission_request') && p.kind === 'ask' && p.reason !== ctx.outcomeUnknown) {
      const v = await fire('permission_request', p.call, { tool_input: p.call.arguments, reason: p.reason });
      note('permission_request', p.call, v);
      const rules = v.updated_permissions.map(
        (u): PermissionRule => ({
          pattern: u.tool_name_pattern,
          decision: u.behavior,
          scope: 'session',
          origin: 'hook_update',
        }),
      );
      added.push(...rules);
      const e = rules.length > 0 ? evaluate(p.call.name, ctx.mode, [...rules, ...ctx.rules]) : null;
      const audit = audits.get(p.call.id);
      if (e && audit && e.matched_rule_origin === 'hook_update') {
        audit.matched_rule_origin = 'hook_update';
        if (e.matched_rule) audit.matched_rule_pattern = e.matched_rule;
      }
      const verdict =
        v.blocked || v.permission === 'deny' || e?.decision === 'deny'
          ? 'deny'
          : v.permission === 'allow' ||
              v.decision === 'approve' ||
              (e?.decision === 'allow' && e.matched_rule_origin === 'hook_update')
            ? 'allow'
            : 'ask';
      if (verdict === 'deny') {
        p = denied(
          p.call,
          `permission denied by a permission_request hook${v.reason ? `: ${v.reason}` : ''}`,
        );
        setDecision(p.call, 'deny', 'permission_request hook denied');
      } else if (verdict === 'allow') {
        p = { kind: 'run', call: p.call, args: p.call.arguments, sideEffects: sideEffects(engine, p.call) };
        setDecision(p.call, 'allow', 'permission_request hook allowed');
      }
    }
    plans[i] = p;
    if (
      engine.hooks.has('permission_denied') &&
      p.kind === 'result' &&
      p.outcome === 'denied' &&
      audits.has(p.call.id)
    ) {
      // An observer: aggregated, never changes the denial.
      const v = await fire('permission_denied', p.call, {
        tool_input: p.call.arguments,
        reason: p.result.content,
      });
      note('permission_denied', p.call, v);
    }
  }
  return {
    traces,
    persist: async (tx) => {
      if (added.length === 0) return;
      // Hook rules go first: they win same-pattern ties over static session rules (§6.3).
      const patterns = new Set(added.map((r) => r.pattern));
      const next = [
        ...dedupe(added),
        ...ctx.rules.filter((r) => !(r.origin === 'hook_update' && patterns.has(r.pattern))),
      ];
      await updateSession(tx.db, run.session_id, {
        permission_rules: JSON.stringify(next),
        updated_at_ms: tx.now,
      });
    },
  };
}

function dedupe(rules: PermissionRule[]): PermissionRule[] {
  const seen = new Map<string, PermissionRule>();
  for (const r of rules) seen.set(r.pattern, r);
  return [...seen.values()];
}

/** A hook invocation about one tool call of a run. */
function callFire(event: HookEvent, run: RunRow, call: ToolCall, payload: Record<string, unknown>): HookFire {
  return {
    event,
    // The same call of the same run is the same invocation, also after a restart.
    identity: `${run.run_id}:${call.id}`,
    subject: call.name,
    session_id: run.session_id,
    run_id: run.run_id,
    agent_id: run.agent_id,
    payload: { tool_name: call.name, tool_call_id: call.id, ...payload },
  };
}

const sideEffects = (engine: ToolPort, call: ToolCall) => Boolean(engine.tools.get(call.name)?.side_effects);

/** `post_tool_use` / `post_tool_use_failure`: the output a hook replaced, and contexts appended. */
export async function postToolHooks(
  engine: ToolPort,
  run: RunRow,
  call: ToolCall,
  args: Record<string, unknown>,
  result: { content: string; is_error: boolean },
  signal: AbortSignal,
): Promise<{ result: { content: string; is_error: boolean }; trace: Trace | null }> {
  const event: HookEvent = result.is_error ? 'post_tool_use_failure' : 'post_tool_use';
  if (!engine.hooks.has(event)) return { result, trace: null };
  const v = await engine.hooks.fire(
    callFire(event, run, call, { tool_input: args, tool_output: result.content, is_error: result.is_error }),
    signal,
  );
  if (v.hooks.length === 0) return { result, trace: null };
  let content = result.content;
  if (v.updated_output !== undefined)
    content = typeof v.updated_output === 'string' ? v.updated_output : JSON.stringify(v.updated_output);
  if (v.additional_contexts.length > 0)
    content += `\n\n${v.additional_contexts.map((c) => `[hook context] ${c}`).join('\n')}`;
  return {
    result: { ...result, content },
    trace: hookTrace(event, v, { tool_call_id: call.id, name: call.name }),
  };
}
