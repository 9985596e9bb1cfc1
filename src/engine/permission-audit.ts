// The permission audit of one decided tool call (ops-runtime §6.4). Hooks do not exist yet, so the
// audit is the rule + mode decision; `matched_rule_origin` says where the deciding rule came from.
import type { ToolCall } from '../models/driver.ts';
import type { PermissionAuditRecord } from '../store/repos/permission-audits.ts';
import type { RunRow } from '../store/repos/runs.ts';
import type { PermissionExplanation } from '../tools/permissions.ts';

export function auditOf(run: RunRow, call: ToolCall, e: PermissionExplanation): PermissionAuditRecord {
  const record: PermissionAuditRecord = {
    session_id: run.session_id,
    run_id: run.run_id,
    tool_call_id: call.id,
    tool_name: call.name,
    decision: e.decision,
    base_decision: e.base_decision,
    effective_mode: e.mode,
    created_at_ms: Date.now(),
  };
  if (e.mode_effect) record.mode_effect = e.mode_effect;
  if (e.matched_rule) record.matched_rule_pattern = e.matched_rule;
  if (e.matched_rule_origin) record.matched_rule_origin = e.matched_rule_origin;
  if (e.matched_rule_scope) record.matched_rule_scope = e.matched_rule_scope;
  if (e.reason) record.reason = e.reason;
  return record;
}
