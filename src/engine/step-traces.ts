// The traces of one tool batch (docs/events.md): the permission decision of each call, its start
// and its end. Arguments and outputs are shown redacted and bounded (trace-redact.ts).
import type { ToolCall } from '../models/driver.ts';
import type { PermissionExplanation } from '../tools/permissions.ts';
import type { ToolResult } from '../tools/registry.ts';
import { outputPreview, redactArguments } from './trace-redact.ts';
import type { Trace } from './traces.ts';

export type ToolOutcome = 'ok' | 'error' | 'denied';

export function permissionDecided(call: ToolCall, e: PermissionExplanation): Trace {
  const trace: Trace = {
    kind: 'permission_decided',
    tool_call_id: call.id,
    name: call.name,
    decision: e.decision,
    mode: e.mode,
    matched_rule: e.matched_rule ?? null,
  };
  if (e.matched_rule_origin) trace.matched_rule_origin = e.matched_rule_origin;
  if (e.base_decision !== e.decision) trace.base_decision = e.base_decision;
  if (e.mode_effect) trace.mode_effect = e.mode_effect;
  if (e.reason) trace.reason = e.reason;
  return trace;
}

export function toolCallStarted(
  call: ToolCall,
  args: Record<string, unknown>,
  sideEffects: boolean,
  startedAtMs: number,
  secrets: readonly string[],
): Trace {
  return {
    kind: 'tool_call_started',
    tool_call_id: call.id,
    name: call.name,
    arguments: redactArguments(args, secrets),
    side_effects: sideEffects,
    started_at_ms: startedAtMs,
  };
}

/** `timing` is null for a call that never ran (denied, refused, answered by the operator). */
export function toolCallFinished(
  call: ToolCall,
  result: ToolResult,
  outcome: ToolOutcome,
  timing: { started_at_ms: number; duration_ms: number } | null,
  secrets: readonly string[],
): Trace {
  return {
    kind: 'tool_call_finished',
    tool_call_id: call.id,
    name: call.name,
    outcome,
    duration_ms: timing?.duration_ms ?? 0,
    ran: timing !== null,
    ...outputPreview(result.content, secrets),
  };
}

export const outcomeOf = (result: ToolResult): ToolOutcome => (result.is_error ? 'error' : 'ok');
