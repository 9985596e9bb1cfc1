// Execution identities the broker hands leases to (ops-runtime §5.3). Subjects are derived, not
// created: any well-formed id has a status (epoch 0, not revoked) until something happens to it.
import { DaemonError } from '../../errors/daemon-error.ts';

const SUBJECT = /^(?:daemon|(?:session|agent|connector):[^\s/]{1,200})$/;

export function checkSubjectId(subjectId: string): string {
  if (!SUBJECT.test(subjectId))
    throw new DaemonError(
      400,
      'runtime',
      'invalid_auth_subject',
      `auth subject \`${subjectId.slice(0, 80)}\` is not one of session:<id>, agent:<id>, connector:<name>, daemon`,
    );
  return subjectId;
}

export const sessionSubject = (sessionId: string) => `session:${sessionId}`;
export const agentSubject = (agentId: string) => `agent:${agentId}`;

export const leaseNotFound = (leaseId: string) =>
  new DaemonError(404, 'runtime', 'lease_not_found', `no credential lease \`${leaseId.slice(0, 80)}\``);

/** Run failure codes (docs/credentials.md). */
export const ROUTE_BLOCKED = 'route_blocked_by_credential_scope';
export const CREDENTIAL_REVOKED = 'credential_revoked';
