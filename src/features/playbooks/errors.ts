// The typed problems of the Playbooks and Flows API (domain `playbooks` / `flows`).
import { DaemonError } from '../../errors/daemon-error.ts';

export const pbErrors = {
  invalidManifest: (errors: string[]) =>
    new DaemonError(400, 'playbooks', 'invalid_manifest', `invalid manifest: ${errors.join('; ')}`),
  notFound: (id: string) => new DaemonError(404, 'playbooks', 'playbook_not_found', `no playbook ${id}`),
  versionNotFound: (id: string, v: string) =>
    new DaemonError(404, 'playbooks', 'playbook_version_not_found', `playbook ${id} has no version ${v}`),
  versionConflict: (id: string, v: string) =>
    new DaemonError(
      409,
      'playbooks',
      'playbook_version_conflict',
      `playbook ${id} version ${v} already exists with another digest; versions are immutable`,
    ),
  digestMismatch: (id: string, v: string) =>
    new DaemonError(409, 'playbooks', 'digest_mismatch', `digest mismatch for playbook ${id} version ${v}`),
  evidenceRequired: (status: string) =>
    new DaemonError(400, 'playbooks', 'evidence_required', `publishing to ${status} requires evidence_refs`),
  notStartable: (id: string, v: string, status: string) =>
    new DaemonError(
      409,
      'playbooks',
      'playbook_not_startable',
      `playbook ${id} version ${v} is ${status}; only verified, canary or active versions start flows`,
    ),
  flowNotFound: (id: string) => new DaemonError(404, 'flows', 'flow_not_found', `no flow ${id}`),
  flowConflict: (id: string) =>
    new DaemonError(
      409,
      'flows',
      'flow_conflict',
      `flow ${id} already exists with another request; a retry must repeat the same body`,
    ),
  reservedMetadata: () =>
    new DaemonError(
      400,
      'flows',
      'reserved_metadata',
      'request.metadata may not carry kheish_flow (daemon-owned)',
    ),
  metadataNotObject: () =>
    new DaemonError(400, 'flows', 'invalid_request', 'request.metadata must be a JSON object'),
  sessionNotFound: (id: string) => new DaemonError(404, 'sessions', 'session_not_found', `no session ${id}`),
  scopeTooWide: (which: string, detail: string) =>
    new DaemonError(
      403,
      'flows',
      'scope_too_wide',
      `the session's ${which} is wider than the playbook requires: ${detail}`,
    ),
  noRun: (id: string) =>
    new DaemonError(409, 'flows', 'flow_has_no_run', `flow ${id} has no root run to stream`),
  evidenceUnresolved: (kind: string, id: string) =>
    new DaemonError(
      409,
      'flows',
      'evidence_unresolved',
      `evidence ${kind}:${id} does not resolve inside the flow's primitives`,
    ),
};
