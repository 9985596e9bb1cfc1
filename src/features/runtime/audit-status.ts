// The external-action audit in GET /v1/status: its state (`external_audit`) and its health
// warnings (closed: error, not ready; key inside the state root: info, since tamper evidence then
// only holds against whoever cannot write the state root).
import { AUDIT_KEY_ACTION, type ExternalAudit } from '../../engine/external-audit.ts';
import type { HealthWarning } from './status-figures.ts';

export function auditStatus(audit: ExternalAudit) {
  const src = audit.keySource;
  return {
    available: audit.problem() === null,
    key_id: audit.signer?.keyId ?? null,
    key_source: src.kind === 'inline' ? 'env' : src.named ? 'file' : 'state_root',
    key_in_state_root: audit.keyInStateRoot,
    error: audit.problem(),
  };
}

export function auditWarnings(audit: ExternalAudit): HealthWarning[] {
  const problem = audit.problem();
  if (problem)
    return [
      {
        severity: 'error',
        code: 'external_audit_unavailable',
        message: `${problem}; provider requests, tool side effects, MCP calls and hooks that leave the daemon are refused`,
        action: audit.keyError
          ? AUDIT_KEY_ACTION
          : 'check that the database accepts writes to external_actions',
      },
    ];
  if (audit.keyInStateRoot)
    return [
      {
        severity: 'info',
        code: 'audit_key_in_state_root',
        message:
          'the audit signing key is inside the state root: whoever can write the state root can rewrite and re-sign the ledger',
        action: 'move it off the state root and point KHEISH_EXTERNAL_ACTION_AUDIT_SIGNING_KEY_FILE at it',
      },
    ];
  return [];
}
