// Bubblewrap sandbox for the `bash` tool: the workspace is the only writable place the command
// sees (plus private scratch dirs), the rest of the filesystem is mounted read-only, and every
// namespace is unshared (so no network) unless the operator allows network access.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import path from 'node:path';

export interface SandboxStatus {
  available: boolean;
  /** Why commands run unsandboxed; absent when the sandbox works. */
  reason?: string;
  /** Absolute path of the bwrap binary that was found (even when it does not work here). */
  binary?: string;
}

export interface BwrapPlan {
  workspace: string;
  workdir: string;
  allowNetwork: boolean;
  /** Mounts the workspace read-only too (ToolRuntimeLimits.max_sandbox = read_only). */
  readOnlyWorkspace?: boolean;
  /** Paths masked with an empty tmpfs (e.g. the daemon state root holding secrets). */
  hiddenPaths?: string[];
}

let cached: SandboxStatus | undefined;

/** Probes once per process; `/v1/status` reads this to warn when commands run unsandboxed. */
export function sandboxStatus(): SandboxStatus {
  cached ??= probeSandbox();
  return cached;
}

/**
 * Runs a trivial command with the same isolation flags real commands get, so "available"
 * means the full profile works here (containers often allow bwrap but not network namespaces).
 */
export function probeSandbox(binary?: string): SandboxStatus {
  const bin = binary ?? findOnPath('bwrap');
  if (!bin) {
    return { available: false, reason: 'bwrap (bubblewrap) is not installed; bash commands run unsandboxed' };
  }
  const args = [...baseArgs(false), '--', 'true'];
  const r = spawnSync(bin, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000, encoding: 'utf8' });
  if (r.error) {
    return { available: false, binary: bin, reason: `bwrap could not be started: ${r.error.message}` };
  }
  if (r.status !== 0) {
    const detail = (r.stderr ?? '').trim().split('\n')[0] || `exit status ${r.status ?? r.signal}`;
    return {
      available: false,
      binary: bin,
      reason: `bwrap cannot create a sandbox on this host (${detail}); bash commands run unsandboxed`,
    };
  }
  return { available: true, binary: bin };
}

/** The bwrap argument list that precedes `-- bash -c <command>`. */
export function bwrapArgs(plan: BwrapPlan): string[] {
  const workspace = path.resolve(plan.workspace);
  const hidden = (plan.hiddenPaths ?? []).map((p) => path.resolve(p)).filter((p) => isDir(p));
  // A hidden path inside the workspace must be masked after the workspace bind (or the bind
  // would uncover it); one that contains the workspace must be masked before it.
  const inside = hidden.filter((p) => isWithin(workspace, p));
  const outside = hidden.filter((p) => !isWithin(workspace, p));
  return [
    '--ro-bind',
    '/',
    '/',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    ...scratchDirs(),
    ...outside.flatMap((p) => ['--tmpfs', p]),
    plan.readOnlyWorkspace ? '--ro-bind' : '--bind',
    workspace,
    workspace,
    ...inside.flatMap((p) => ['--tmpfs', p]),
    ...namespaceArgs(plan.allowNetwork),
    '--chdir',
    path.resolve(plan.workdir),
  ];
}

function baseArgs(allowNetwork: boolean): string[] {
  return [
    '--ro-bind',
    '/',
    '/',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    ...scratchDirs(),
    ...namespaceArgs(allowNetwork),
  ];
}

function scratchDirs(): string[] {
  // Private scratch space: tools expect a writable /tmp, but it must not be the host's.
  return ['/tmp', '/var/tmp'].filter((p) => isDir(p)).flatMap((p) => ['--tmpfs', p]);
}

function namespaceArgs(allowNetwork: boolean): string[] {
  return [
    '--unshare-all',
    ...(allowNetwork ? ['--share-net'] : []),
    // The sandbox dies with the daemon. No `--new-session`: the spawn already runs bwrap in a
    // fresh session without a controlling terminal (setsid), and a second session inside would
    // take the command out of the process group we kill on cancel or timeout.
    '--die-with-parent',
    // As root bwrap would keep every capability, enough to remount `/` read-write.
    '--cap-drop',
    'ALL',
  ];
}

export function findOnPath(name: string, searchPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

function isDir(p: string): boolean {
  try {
    return existsSync(p) && statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export function isWithin(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}
