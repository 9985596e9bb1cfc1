// What a sidechain inherits at spawn (concepts §4.4, ops-runtime §5.4/§6.4): snapshot copies of the
// parent's effective permission mode, capability scope, credential scope and session permission
// rules. A request may only narrow them; anything wider is a 400. The parent's capability scope given
// here is its effective one (persona baseline included); the persona snapshot is copied as-is.
import { DaemonError } from '../../errors/daemon-error.ts';
import type { PermissionMode } from '../../tools/permissions.ts';
import type { CapabilityScope, CredentialScope } from '../sessions/schema.ts';
import { normalizeScope } from '../sessions/service.ts';
import { chainCovers, isProfile, PROFILE_NAMES, profileFilter, type SurfaceFilter } from './profiles.ts';

/** Spec §1.3: a 400 without a typed code is `bad_request` with no domain (as the reference does). */
export const spawnRejected = (detail: string) => new DaemonError(400, undefined, 'bad_request', detail);

/**
 * Child modes each parent mode admits (the reference daemon's matrix). `bypassPermissions` is the
 * widest; `plan` the narrowest; `dontAsk` admits only itself and `plan`.
 */
export const NARROWER_MODES: Readonly<Record<PermissionMode, readonly PermissionMode[]>> = {
  bypassPermissions: ['bypassPermissions', 'acceptEdits', 'default', 'dontAsk', 'plan'],
  acceptEdits: ['acceptEdits', 'default', 'dontAsk', 'plan'],
  default: ['default', 'dontAsk', 'plan'],
  dontAsk: ['dontAsk', 'plan'],
  plan: ['plan'],
};

/** Omitted → pinned to the parent's effective mode; explicit (even `default`) → pinned as asked. */
export function childPermissionMode(
  parent: PermissionMode,
  requested: PermissionMode | undefined,
): PermissionMode {
  const mode = requested ?? parent;
  if (!NARROWER_MODES[parent].includes(mode))
    throw spawnRejected(
      `sidechain permission_mode ${mode} would widen the parent's effective mode ${parent}; allowed: ${NARROWER_MODES[parent].join(', ')}`,
    );
  return mode;
}

type ScopeLists = Record<string, string[] | undefined>;

const listAllows = (list: string[], entry: string) =>
  list.includes('*') ||
  list.includes(entry) ||
  list.some((p) => p.endsWith('*') && entry.startsWith(p.slice(0, -1)));

function checkSubset(label: string, parent: string[] | undefined, requested: string[] | undefined): void {
  if (!parent?.length || !requested?.length) return;
  const outside = requested.filter((e) => !listAllows(parent, e));
  if (outside.length)
    throw spawnRejected(`${label} contains entries outside the parent scope: ${outside.join(', ')}`);
}

/** allow = requested ?? parent (checked to be inside the parent's), deny = union of both. */
function narrow(
  parent: ScopeLists,
  requested: ScopeLists,
  allowKeys: string[],
  denyKeys: string[],
): ScopeLists {
  const out: ScopeLists = {};
  for (const k of allowKeys) out[k] = requested[k]?.length ? requested[k] : parent[k];
  for (const k of denyKeys) out[k] = [...(parent[k] ?? []), ...(requested[k] ?? [])];
  return out;
}

export function childCapabilityScope(
  parent: CapabilityScope | null,
  requested: CapabilityScope | undefined,
): CapabilityScope | null {
  if (!requested) return normalizeScope(parent);
  const p = (parent ?? {}) as ScopeLists;
  for (const k of ['skill_allow', 'mcp_server_allow', 'mcp_tool_allow'])
    checkSubset(`capability_scope.${k}`, p[k], requested[k as keyof CapabilityScope]);
  return normalizeScope(
    narrow(
      p,
      requested as ScopeLists,
      ['skill_allow', 'mcp_server_allow', 'mcp_tool_allow'],
      ['skill_deny', 'mcp_server_deny', 'mcp_tool_deny'],
    ) as CapabilityScope,
  );
}

/**
 * Without an explicit child scope the child keeps the parent's route access but loses connector
 * credentials and credentialed MCP servers (`connector_credential_deny` / `mcp_server_deny` = `*`:
 * a credential scope only governs credentialed access, so `*` there blocks exactly that).
 */
export function childCredentialScope(
  parent: CredentialScope | null,
  requested: CredentialScope | undefined,
): CredentialScope {
  const p = (parent ?? {}) as ScopeLists;
  if (!requested)
    return normalizeScope({
      route_allow: p.route_allow,
      route_deny: p.route_deny,
      connector_allow: p.connector_allow,
      connector_deny: p.connector_deny,
      connector_credential_deny: ['*'],
      mcp_server_deny: ['*'],
    }) as CredentialScope;
  checkSubset('credential_scope.route_allow', p.route_allow, requested.route_allow);
  checkSubset('credential_scope.connector_allow', p.connector_allow, requested.connector_allow);
  checkSubset('credential_scope.mcp_server_allow', p.mcp_server_allow, requested.mcp_server_allow);
  // A parent that names connectors but no credential keys has its connector secrets denied.
  const parentDeniesSecrets =
    !p.connector_credential_allow?.length &&
    !p.connector_credential_deny?.length &&
    Boolean(p.connector_allow?.length || p.connector_deny?.length);
  if (parentDeniesSecrets && requested.connector_credential_allow?.length)
    throw spawnRejected(
      `credential_scope.connector_credential_allow contains entries outside the parent scope: ${requested.connector_credential_allow.join(', ')}`,
    );
  checkSubset(
    'credential_scope.connector_credential_allow',
    p.connector_credential_allow,
    requested.connector_credential_allow,
  );
  return (normalizeScope(
    narrow(
      p,
      requested as ScopeLists,
      ['route_allow', 'connector_allow', 'connector_credential_allow', 'mcp_server_allow'],
      ['route_deny', 'connector_deny', 'connector_credential_deny', 'mcp_server_deny'],
    ) as CredentialScope,
  ) ?? {}) as CredentialScope;
}

export interface ToolSurfaceRequest {
  allowlist?: string[];
  denylist?: string[];
}

/**
 * The child's filter chain: the parent's, the profile's, then the request's own. An allowlist entry
 * the inherited chain does not cover is a widening attempt (400); so is a denylist without an
 * allowlist (an explicit allowlist is required, ops-runtime §6.4).
 */
export function childToolSurface(
  parentChain: SurfaceFilter[],
  profile: string,
  requested: ToolSurfaceRequest | undefined,
  knownTool: (name: string) => boolean,
): SurfaceFilter[] {
  if (!isProfile(profile))
    throw spawnRejected(`unknown agent profile \`${profile}\`; profiles: ${PROFILE_NAMES.join(', ')}`);
  const chain = [...parentChain, profileFilter(profile)];
  const allow = [...new Set((requested?.allowlist ?? []).map((s) => s.trim()).filter(Boolean))];
  const deny = [...new Set((requested?.denylist ?? []).map((s) => s.trim()).filter(Boolean))];
  if (allow.length === 0) {
    if (deny.length > 0)
      throw spawnRejected(
        'tool_surface with only a denylist is rejected: give an explicit allowlist (deny entries then narrow it)',
      );
    return chain;
  }
  const unknown = allow.filter((t) => !t.endsWith('*') && !t.startsWith('mcp__') && !knownTool(t));
  if (unknown.length)
    throw spawnRejected(`tool_surface.allowlist names unknown tools: ${unknown.join(', ')}`);
  const outside = allow.filter((t) => !chainCovers(chain, t));
  if (outside.length)
    throw spawnRejected(
      `tool_surface.allowlist would widen the inherited surface (profile ${profile} and the parent's): ${outside.join(', ')}`,
    );
  return [...chain, { source: 'request', allow, deny }];
}
