// Credential scope (ops-runtime §5.4) as the broker enforces it: what a session may USE with
// daemon-held credentials. The effective scope is the session's own scope intersected with every
// ancestor's (a sidechain's stored scope was narrowed at spawn, and a parent may narrow later).

import type { Executor } from '../../store/schema.ts';
import type { CredentialScope } from '../sessions/schema.ts';

const matches = (pattern: string, name: string) =>
  pattern === '*' || pattern === name || (pattern.endsWith('*') && name.startsWith(pattern.slice(0, -1)));

const listed = (list: string[] | undefined, name: string) => list?.some((p) => matches(p, name)) ?? false;

/** Deny wins; a non-empty allow list admits only what it names; no lists admit everything. */
export function admits(allow: string[] | undefined, deny: string[] | undefined, name: string): boolean {
  if (listed(deny, name)) return false;
  return !allow?.length || listed(allow, name);
}

export const routeAdmitted = (scope: CredentialScope, routeId: string) =>
  admits(scope.route_allow, scope.route_deny, routeId);

export const mcpServerAdmitted = (scope: CredentialScope, server: string) =>
  admits(scope.mcp_server_allow, scope.mcp_server_deny, server);

/** The credential scopes of a session and of each session above it (child first); unset ones skipped. */
export async function scopeChain(db: Executor, sessionId: string): Promise<CredentialScope[]> {
  const out: CredentialScope[] = [];
  const seen = new Set<string>();
  let current: string | null = sessionId;
  while (current && !seen.has(current)) {
    seen.add(current);
    const row = await db
      .selectFrom('sessions')
      .select('credential_scope')
      .where('session_id', '=', current)
      .executeTakeFirst();
    if (row?.credential_scope) out.push(JSON.parse(row.credential_scope) as CredentialScope);
    const parent = await db
      .selectFrom('agents')
      .select('parent_session_id')
      .where('session_id', '=', current)
      .executeTakeFirst();
    current = parent?.parent_session_id ?? null;
  }
  return out;
}
