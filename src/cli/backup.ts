// Offline operations on a state root (docs/operations.md): `backup`, `restore`, `vacuum`,
// `sessions vacuum`, `secrets rotate-master-key` and `audit rotate-key`. They work on the files
// directly (no daemon needed); all but `backup` take the state-root lock and refuse while a daemon
// holds it. Progress goes to stderr; Ctrl-C removes whatever was half-written (exit 130).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { OpsProgress } from '../ops/progress.ts';
import { UsageError } from './errors.ts';
import type { CliRuntime } from './runtime.ts';
import { type StateRootFlags, stateRootOptions } from './state-root-flags.ts';

/** Runs an operation with Ctrl-C wired to its AbortSignal and its errors as CLI errors. */
async function operate<T>(rt: CliRuntime, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const { OpsError } = await import('../ops/errors.ts');
  const controller = new AbortController();
  const off = rt.io.onInterrupt(() => controller.abort());
  try {
    return await fn(controller.signal);
  } catch (err) {
    if (err instanceof OpsError) throw new UsageError(err.message, err.hint, err.exitCode);
    throw err;
  } finally {
    off();
  }
}

async function masterKey(name = 'KHEISH_AUTH_STORE_MASTER_KEY') {
  const keys = await import('../secrets/master-key.ts');
  try {
    return keys.loadMasterKey(process.env);
  } catch (err) {
    throw new UsageError((err as Error).message, `fix ${name}[_FILE] (the key the daemon uses)`);
  }
}

/**
 * The key `serve` would use for this state root: the environment's, else the key file `up` keeps
 * in the state root (an archive of such a root carries it too, decision #558).
 */
async function keyForRoot(root: string) {
  const env = await masterKey();
  if (env) return { key: env, fromRoot: null };
  const [{ existsSync }, { join }, { UP_KEY_FILE }, keys] = await Promise.all([
    import('node:fs'),
    import('node:path'),
    import('./up.ts'),
    import('../secrets/master-key.ts'),
  ]);
  const file = join(root, UP_KEY_FILE);
  if (!existsSync(file)) return { key: null, fromRoot: null };
  try {
    return { key: keys.parseMasterKey(readFileSync(file, 'utf8'), file), fromRoot: file };
  } catch (err) {
    throw new UsageError(
      (err as Error).message,
      'set KHEISH_AUTH_STORE_MASTER_KEY_FILE to the key the daemon uses',
    );
  }
}

const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

/** Progress lines on stderr: at most one a second (and the last one), never on stdout. */
function progressPrinter(rt: CliRuntime, verb: string): (p: OpsProgress) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    const done = p.files_done === p.files_total && p.bytes_done === p.bytes_total;
    if (!done && now - last < 1000) return;
    last = now;
    rt.note(
      `${verb}: ${p.phase} ${p.files_done}/${p.files_total} files, ${mib(p.bytes_done)}/${mib(p.bytes_total)}`,
    );
  };
}

export function registerBackup(program: Command, rt: CliRuntime): void {
  stateRootOptions(
    program
      .command('backup')
      .description('write a consistent archive of the state root (works while the daemon runs)')
      .argument('<archive_dir>', 'the archive directory to create (must not exist)'),
  ).action(async (archive: string, flags: StateRootFlags) => {
    const { key, fromRoot } = await keyForRoot(flags.stateRoot);
    if (fromRoot)
      rt.note(
        `warning: the state root keeps its own master key (${fromRoot}, written by \`up\`) and the archive holds it: anyone with the archive can read the secrets, so keep the archive encrypted`,
      );
    const { createBackup } = await import('../ops/backup.ts');
    const r = await operate(rt, (signal) =>
      createBackup({
        stateRoot: flags.stateRoot,
        out: archive,
        databaseUrl: flags.databaseUrl ?? null,
        key,
        signal,
        progress: progressPrinter(rt, 'backup'),
      }),
    );
    for (const w of r.warnings) rt.note(`warning: ${w}`);
    rt.emit(
      {
        archive: r.archive,
        manifest_sha256: r.manifest_sha256,
        files: r.manifest.totals.files,
        bytes: r.manifest.totals.bytes,
        online: r.manifest.online,
        sealed: r.manifest.seal !== null,
        master_key_id: r.manifest.master_key_id,
      },
      (v) => [
        `backup written to ${v.archive}: ${v.files} files, ${mib(v.bytes)}${v.online ? ' (online: the daemon was running)' : ''}`,
        `manifest sha256 ${v.manifest_sha256}  (record it outside the archive)`,
        v.sealed
          ? `sealed with master key ${v.master_key_id}: restore needs that same key`
          : 'not sealed (no secret slot, or no master key set)',
      ],
    );
  });

  program
    .command('restore')
    .description(
      'restore an archive from `backup` into a new state root (refuses a wrong key or a damaged archive)',
    )
    .argument('<archive_dir>', 'a directory written by `kheish-daemon backup`')
    .requiredOption('--state-root <dir>', 'the new state root to create (must not exist, or be empty)')
    .option(
      '--expect-manifest-sha256 <hex>',
      'the manifest digest `backup` printed (recorded outside the archive)',
    )
    .action(async (archive: string, flags: { stateRoot: string; expectManifestSha256?: string }) => {
      const { join } = await import('node:path');
      const { key, fromRoot } = await keyForRoot(join(archive, 'state'));
      if (fromRoot) rt.note(`using the master key the archive carries (${fromRoot})`);
      const { restoreBackup } = await import('../ops/restore.ts');
      if (flags.expectManifestSha256) await checkManifestDigest(archive, flags.expectManifestSha256);
      const r = await operate(rt, (signal) =>
        restoreBackup({
          archive,
          target: flags.stateRoot,
          key,
          signal,
          progress: progressPrinter(rt, 'restore'),
        }),
      );
      rt.emit(
        {
          state_root: r.state_root,
          files: r.files,
          bytes: r.bytes,
          secret_slots_verified: r.secret_slots_verified,
          backup_created_at_ms: r.manifest.created_at_ms,
        },
        (v) => [
          `restored ${v.files} files (${mib(v.bytes)}) into ${v.state_root}; ${v.secret_slots_verified} secret slot(s) open with this key`,
          `next: start a daemon on it on a loopback bind, check \`status\` and \`doctor\`, then promote it`,
        ],
      );
    });

  stateRootOptions(
    program
      .command('vacuum')
      .description(
        'compact journals past their checkpoints, apply event retention, reclaim disk (daemon stopped)',
      )
      .option('--keep-events <n>', 'newest events kept for SSE replay (default 2048, as serve)', (v) =>
        Number(v),
      ),
  ).action(async (flags: StateRootFlags & { keepEvents?: number }) => {
    const { vacuumStateRoot } = await import('../ops/vacuum.ts');
    const r = await operate(rt, (signal) =>
      vacuumStateRoot({
        stateRoot: flags.stateRoot,
        databaseUrl: flags.databaseUrl ?? null,
        keepEvents: flags.keepEvents,
        signal,
      }),
    );
    rt.emit(r, (v) => [
      `vacuumed ${v.state_root}: ${v.bytes_before === null ? '' : `${mib(v.bytes_before)} -> ${mib(v.bytes_after ?? 0)}, `}${v.journal_entries_dropped} journal entries in ${v.sessions.length} session(s), ${v.events_dropped} events dropped (${v.events_retained} kept)`,
      ...v.sessions.map((s) => `  ${s.session_id}: dropped entries saved to ${s.backup_path}`),
    ]);
  });

  const sessions = program.commands.find((c) => c.name() === 'sessions');
  if (sessions)
    stateRootOptions(
      sessions
        .command('vacuum')
        .description("compact one session's journal past its latest checkpoint (daemon stopped; JSON report)")
        .argument('<session_id>'),
    ).action(async (sessionId: string, flags: StateRootFlags) => {
      const { vacuumSession } = await import('../ops/vacuum.ts');
      const r = await operate(rt, (signal) =>
        vacuumSession({
          stateRoot: flags.stateRoot,
          databaseUrl: flags.databaseUrl ?? null,
          sessionId,
          signal,
        }),
      );
      // The report is JSON in both modes, as the published command prints it.
      rt.io.stdout(`${JSON.stringify(r, null, 2)}\n`);
    });

  const secrets = program.commands.find((c) => c.name() === 'secrets');
  if (secrets)
    stateRootOptions(
      secrets
        .command('rotate-master-key')
        .description('re-seal every secret slot under a new master key (daemon stopped; back up first)')
        .requiredOption('--new-key-file <file>', 'the new key, as `secrets generate` prints it'),
    ).action(async (flags: StateRootFlags & { newKeyFile: string }) => {
      const current = await masterKey();
      const keys = await import('../secrets/master-key.ts');
      let next: Awaited<ReturnType<typeof masterKey>>;
      try {
        next = keys.parseMasterKey(
          readFileSync(flags.newKeyFile, 'utf8'),
          `--new-key-file ${flags.newKeyFile}`,
        );
      } catch (err) {
        throw new UsageError(
          (err as Error).message,
          'write a key with `kheish-daemon secrets generate > new.key`',
        );
      }
      const { rotateMasterKey } = await import('../ops/rotate.ts');
      const r = await operate(rt, () =>
        rotateMasterKey({
          stateRoot: flags.stateRoot,
          databaseUrl: flags.databaseUrl ?? null,
          current,
          next: next!,
        }),
      );
      rt.emit(r, (v) => [
        `re-sealed ${v.slots} secret slot(s): key ${v.from_key_id} -> ${v.to_key_id} (${v.verified} read back)`,
        `next: point KHEISH_AUTH_STORE_MASTER_KEY_FILE at ${flags.newKeyFile}, start the daemon, then retire the old key`,
      ]);
    });

  const audit = program.commands.find((c) => c.name() === 'audit');
  if (audit)
    stateRootOptions(
      audit
        .command('rotate-key')
        .description(
          'replace the audit signing key: archive the old public key, record the rollover (daemon stopped)',
        ),
    ).action(async (flags: StateRootFlags) => {
      const { rotateAuditKey } = await import('../ops/rotate.ts');
      const r = await operate(rt, () =>
        rotateAuditKey({ stateRoot: flags.stateRoot, databaseUrl: flags.databaseUrl ?? null }),
      );
      rt.emit(r, (v) => [
        `audit signing key rotated: ${v.old_key_id} -> ${v.new_key_id} (${v.key_file})`,
        `old public key archived at ${v.archived_public_key}; \`audit verify\` trusts it`,
      ]);
    });
}

async function checkManifestDigest(archive: string, expected: string): Promise<void> {
  const { createHash } = await import('node:crypto');
  const { join } = await import('node:path');
  let text: Buffer;
  try {
    text = readFileSync(join(archive, 'manifest.json'));
  } catch {
    throw new UsageError(
      `${archive} has no manifest.json: it is not a complete backup`,
      'restore from another copy',
    );
  }
  const got = createHash('sha256').update(text).digest('hex');
  if (got !== expected.toLowerCase())
    throw new UsageError(
      `the manifest digest is ${got}, not the ${expected} recorded at backup time: the archive was altered`,
      'restore from another copy of the backup',
    );
}
