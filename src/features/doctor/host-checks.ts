// The daemon-side checks of `doctor` that read this host: disk space under the state root, the
// workspace, the bash sandbox, and whether the routes file changed since the daemon loaded it.
import { createHash } from 'node:crypto';
import { accessSync, constants, readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { relative } from 'node:path';
import { type DoctorCheck, fail, pass } from '../../config/doctor-check.ts';
import { sandboxStatus } from '../../tools/shell/index.ts';

/** Runbook thresholds (ops-runtime §13): warn at 80 %, page at 90 % of space or inodes. */
const WARN_USED = 0.8;
const ERROR_USED = 0.9;

const pct = (x: number) => `${Math.round(x * 100)} %`;
const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

export async function diskSpace(stateRoot: string): Promise<DoctorCheck> {
  let s: Awaited<ReturnType<typeof statfs>>;
  try {
    s = await statfs(stateRoot);
  } catch (err) {
    return fail(
      'disk_space',
      'disk_space_unknown',
      'warning',
      `statfs ${stateRoot}: ${(err as Error).message}`,
    );
  }
  const used = s.blocks > 0 ? 1 - s.bavail / s.blocks : 0;
  const inodes = s.files > 0 ? 1 - s.ffree / s.files : 0;
  const worst = Math.max(used, inodes);
  const what = `${stateRoot}: ${pct(used)} of space used (${gib(s.bavail * s.bsize)} free), ${pct(inodes)} of inodes`;
  if (worst < WARN_USED) return pass('disk_space', what);
  return fail(
    'disk_space',
    worst >= ERROR_USED ? 'disk_space_critical' : 'disk_space_low',
    worst >= ERROR_USED ? 'error' : 'warning',
    what,
    'free space on that volume (`kheish-daemon sessions vacuum --state-root <dir>` with the daemon stopped compacts journals) or grow it',
  );
}

export function workspace(stateRoot: string, workspaceRoot: string | null): DoctorCheck {
  if (workspaceRoot === null)
    return fail(
      'workspace',
      'workspace_root_unset',
      'info',
      "no --workspace-root: the file tools work in the daemon's working directory",
      'restart with --workspace-root <dir> (a directory only the agent works in)',
    );
  try {
    accessSync(workspaceRoot, constants.W_OK);
  } catch (err) {
    return fail(
      'workspace',
      'workspace_not_writable',
      'error',
      `the workspace root ${workspaceRoot} is not writable: ${(err as NodeJS.ErrnoException).code}`,
      `chown the daemon's user ${workspaceRoot} (containers: use the named volume of docker-compose.yml)`,
    );
  }
  const inside = relative(workspaceRoot, stateRoot);
  if (!inside.startsWith('..') && inside !== stateRoot)
    return fail(
      'workspace',
      'state_root_in_workspace',
      'warning',
      `the state root ${stateRoot} is inside the workspace ${workspaceRoot}: the agent's file tools can reach the database`,
      'move the state root out of the workspace (stop the daemon, move the directory, start with the new --state-root)',
    );
  return pass('workspace', `workspace root ${workspaceRoot} is writable and apart from the state root`);
}

/** Only the good news: a missing sandbox is already the `bash_unsandboxed` health warning. */
export function sandbox(): DoctorCheck[] {
  return sandboxStatus().available ? [pass('sandbox', 'the bash tool runs inside bubblewrap')] : [];
}

export const fileSha256 = (path: string): string =>
  createHash('sha256').update(readFileSync(path)).digest('hex');

/** ops-runtime §4.6: the daemon keeps the routes it loaded; a changed file is not live until a restart. */
export function routeFileDrift(path: string | null, loadedSha256: string | null): DoctorCheck {
  if (path === null || loadedSha256 === null)
    return pass('route_file', 'no routes file (routes come from the API and the built-in demo)');
  let now: string;
  try {
    now = fileSha256(path);
  } catch (err) {
    return fail(
      'route_file',
      'route_file_missing',
      'warning',
      `the routes file ${path} cannot be read any more (${(err as NodeJS.ErrnoException).code}); the daemon keeps the routes it loaded`,
      'restore the file; the next start fails without it',
    );
  }
  return now === loadedSha256
    ? pass('route_file', `${path} is the file the daemon loaded (sha256 ${now.slice(0, 12)})`)
    : fail(
        'route_file',
        'route_file_drift',
        'warning',
        `${path} changed since the daemon loaded it (sha256 ${loadedSha256.slice(0, 12)} -> ${now.slice(0, 12)}); the daemon still runs the old routes: lint the new file, then restart the daemon`,
        `kheish-daemon doctor routes --routes-file ${path}`,
      );
}
