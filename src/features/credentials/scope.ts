// Credential scope (ops-runtime §5.4) as the broker enforces it: what a session may USE with
// daemon-held credentials, checked against its effective scope (engine/capability-scope.ts:
// `effectiveCredentialScope`, the session's own ∩ every ancestor's; one list rule for both scopes).

import type { CredentialScopeLists } from '../../engine/capability-scope.ts';
import { pairAdmits } from '../../engine/capability-scope.ts';

export const routeAdmitted = (scope: CredentialScopeLists, routeId: string) =>
  pairAdmits(scope.route_allow, scope.route_deny, routeId);

export const mcpServerAdmitted = (scope: CredentialScopeLists, server: string) =>
  pairAdmits(scope.mcp_server_allow, scope.mcp_server_deny, server);
