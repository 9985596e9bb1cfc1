// Credential scope (ops-runtime §5.4) as the broker enforces it: what a session may USE with
// daemon-held credentials. The effective scope is the session's own scope intersected with every
// ancestor's (a sidechain's stored scope was narrowed at spawn, and a parent may narrow later).
// The list matching is the capability scope's (engine/capability-scope.ts): one rule for both.

import { pairAdmits } from '../../engine/capability-scope.ts';
import { parentSessionOf } from '../../store/repos/agents.ts';
import { getSession } from '../../store/repos/sessions.ts';
import type { Executor } from '../../store/schema.ts';
import type { CredentialScope } from '../sessions/schema.ts';

export const routeAdmitted = (scope: CredentialScope, routeId: string) =>
  pairAdmits(scope.route_allow, scope.route_deny, routeId);

export const mcpServerAdmitted = (scope: CredentialScope, server: string) =>
  pairAdmits(scope.mcp_server_allow, scope.mcp_server_deny, server);

/** Agent trees are shallow (the spawn policy caps depth); this only guards a corrupt cycle. */
const MAX_CHAIN = 64;

/** The credential scopes of a session and of each session above it (child first); unset ones skipped. */
export async function scopeChain(db: Executor, sessionId: string): Promise<CredentialScope[]> {
  const out: CredentialScope[] = [];
  let current = await getSession(db, sessionId);
  for (let depth = 0; current && depth < MAX_CHAIN; depth++) {
    if (current.credential_scope) out.push(JSON.parse(current.credential_scope) as CredentialScope);
    current = await parentSessionOf(db, current.session_id);
  }
  return out;
}
