// The capability scope algebra (ops-runtime §5.4, concepts §4.4/§4.8) and the one place that says
// what a session may see: effective scope = persona baseline ∩ the session's own scope ∩ the
// effective scope of the parent agent's session (recursively, for sidechains). Skills (catalog,
// list_skills/use_skill, GET /v1/sessions/{id}/skills), MCP (tool surface, helpers, instructions)
// and the session views all read `effectiveCapabilityScope`, so what is shown is what is enforced.
import { parentSessionOf } from '../store/repos/agents.ts';
import type { SessionRow } from '../store/repos/sessions.ts';
import type { Executor } from '../store/schema.ts';
import { personaSnapshotOf } from './persona-snapshot.ts';

// A type alias (not an interface) so it stays assignable to the generic list records below.
export type CapabilityScopeLists = {
  skill_allow?: string[];
  skill_deny?: string[];
  mcp_server_allow?: string[];
  mcp_server_deny?: string[];
  mcp_tool_allow?: string[];
  mcp_tool_deny?: string[];
};

type Matcher = (pattern: string, name: string) => boolean;

/** Trim, sort, dedupe; `*` collapses a list to just ["*"]. Empty lists are dropped. */
export function normalizeScope<T extends Record<string, string[] | undefined>>(
  scope: T | null | undefined,
): T | null {
  if (!scope) return null;
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(scope)) {
    if (!v) continue;
    const items = [...new Set(v.map((s) => s.trim()).filter(Boolean))].sort();
    if (items.length === 0) continue;
    out[k] = items.includes('*') ? ['*'] : items;
  }
  return Object.keys(out).length ? (out as T) : null;
}

/** MCP entries (decision #125): `*`, the exact name, or a prefix ending in `*`. */
export const entryMatches: Matcher = (pattern, name) =>
  pattern === '*' || pattern === name || (pattern.endsWith('*') && name.startsWith(pattern.slice(0, -1)));

/** Skill entries (decision #145, the published rule): `*` or the exact name, no prefixes. */
const skillEntryMatches: Matcher = (pattern, name) => pattern === '*' || pattern === name;

export const listCovers = (
  list: readonly string[] | undefined,
  name: string,
  matches: Matcher = entryMatches,
): boolean => list?.some((p) => matches(p, name)) ?? false;

/** An allow/deny pair admits a name: an empty allow list admits all, deny wins. */
export function pairAdmits(
  allow: string[] | undefined,
  deny: string[] | undefined,
  name: string,
  matches: Matcher = entryMatches,
): boolean {
  if (listCovers(deny, name, matches)) return false;
  return !allow?.length || listCovers(allow, name, matches);
}

export const skillAdmitted = (scope: CapabilityScopeLists | null, name: string): boolean =>
  !scope || pairAdmits(scope.skill_allow, scope.skill_deny, name, skillEntryMatches);

type ListPair<K extends string> = readonly [allow: K, deny: K, matches: Matcher];

const CAPABILITY_PAIRS = [
  ['skill_allow', 'skill_deny', skillEntryMatches],
  ['mcp_server_allow', 'mcp_server_deny', entryMatches],
  ['mcp_tool_allow', 'mcp_tool_deny', entryMatches],
] as const;

/** Credential scope lists (ops-runtime §5.4): what a session may use with daemon-held credentials. */
export type CredentialScopeLists = {
  route_allow?: string[];
  route_deny?: string[];
  connector_allow?: string[];
  connector_deny?: string[];
  connector_credential_allow?: string[];
  connector_credential_deny?: string[];
  mcp_server_allow?: string[];
  mcp_server_deny?: string[];
};

const CREDENTIAL_PAIRS = [
  ['route_allow', 'route_deny', entryMatches],
  ['connector_allow', 'connector_deny', entryMatches],
  ['connector_credential_allow', 'connector_credential_deny', entryMatches],
  ['mcp_server_allow', 'mcp_server_deny', entryMatches],
] as const;

/**
 * Allow lists intersect (an empty side is no constraint; the entries kept are those of either side
 * the other side covers, which is exact for names, `*` and prefixes), deny lists add up. Two allow
 * lists that share nothing admit nothing: that is written as deny `*`, never as an empty allow list
 * (which would read as "everything": a disjoint narrowing must not fail open).
 */
function intersectLists<T extends Record<string, string[] | undefined>, K extends keyof T & string>(
  a: T | null,
  b: T | null,
  pairs: readonly ListPair<K>[],
): T | null {
  if (!a) return normalizeScope(b);
  if (!b) return normalizeScope(a);
  const out: Record<string, string[]> = {};
  for (const [allowKey, denyKey, matches] of pairs) {
    const deny: string[] = [...(a[denyKey] ?? []), ...(b[denyKey] ?? [])];
    const left: string[] = a[allowKey] ?? [];
    const right: string[] = b[allowKey] ?? [];
    if (!left.length || !right.length) {
      const allow = left.length ? left : right;
      if (allow.length) out[allowKey] = allow;
    } else {
      const allow = [
        ...left.filter((e) => listCovers(right, e, matches)),
        ...right.filter((e) => listCovers(left, e, matches)),
      ];
      if (allow.length) out[allowKey] = allow;
      else deny.push('*');
    }
    if (deny.length) out[denyKey] = deny;
  }
  return normalizeScope(out as T);
}

export const intersectScopes = (a: CapabilityScopeLists | null, b: CapabilityScopeLists | null) =>
  intersectLists(a, b, CAPABILITY_PAIRS);

export const intersectCredentialScopes = (a: CredentialScopeLists | null, b: CredentialScopeLists | null) =>
  intersectLists(a, b, CREDENTIAL_PAIRS);

const parse = <T>(s: string | null): T | null => (s ? (JSON.parse(s) as T) : null);

/** Agent trees are shallow (the spawn policy caps depth); this only guards a corrupt cycle. */
const MAX_CHAIN = 64;

/**
 * The session's effective capability scope: its persona snapshot's baseline, its own scope, and,
 * for a child agent's session, the parent session's effective scope, intersected (never wider than
 * any of them). Null = no constraint at all.
 */
export async function effectiveCapabilityScope(
  db: Executor,
  session: SessionRow,
): Promise<CapabilityScopeLists | null> {
  let scope: CapabilityScopeLists | null = null;
  let current: SessionRow | undefined = session;
  for (let depth = 0; current && depth < MAX_CHAIN; depth++) {
    const baseline = personaSnapshotOf(current)?.capability_scope ?? null;
    scope = intersectScopes(
      scope,
      intersectScopes(baseline, parse<CapabilityScopeLists>(current.capability_scope)),
    );
    current = await parentSessionOf(db, current.session_id);
  }
  return scope;
}

/**
 * The session's effective credential scope: its own scope intersected with every ancestor's (a
 * sidechain's stored scope was narrowed at spawn, and a parent may narrow later). Null = no
 * constraint. The broker enforces it before every provider call and MCP credential.
 */
export async function effectiveCredentialScope(
  db: Executor,
  session: SessionRow,
): Promise<CredentialScopeLists | null> {
  let scope: CredentialScopeLists | null = null;
  let current: SessionRow | undefined = session;
  for (let depth = 0; current && depth < MAX_CHAIN; depth++) {
    scope = intersectCredentialScopes(scope, parse<CredentialScopeLists>(current.credential_scope));
    current = await parentSessionOf(db, current.session_id);
  }
  return scope;
}
