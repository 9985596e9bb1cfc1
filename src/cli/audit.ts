// `audit`: the offline side of the signed external-action ledger (ops-runtime §5.6). `verify`
// re-checks every chain (or one run's) from the database or from an `export` file against a key
// the operator trusts; `export` writes the ledger as JSON lines; `public-key` prints the key to
// archive. These commands read the store directly (no daemon needed, a running one is fine).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { EXIT, UsageError } from './errors.ts';
import type { CliRuntime } from './runtime.ts';
import { type StateRootFlags, stateRootOption, stateRootOptions } from './state-root-flags.ts';

const EXPORT_FORMAT = 'kheish-external-actions/1';

type Row = { run_id: string; seq: number; record: string };

async function readRows(flags: StateRootFlags, runId: string | undefined): Promise<Row[]> {
  if (!flags.databaseUrl && !existsSync(join(flags.stateRoot, 'kheish.sqlite')))
    throw new UsageError(
      `no database in ${flags.stateRoot} (kheish.sqlite is missing)`,
      'pass the state root of the daemon with --state-root, or --database-url for PostgreSQL',
    );
  const [{ Store }, pg] = await Promise.all([
    import('../store/store.ts'),
    import('../store/postgres/open.ts'),
  ]);
  const store = await Store.open({
    stateRoot: flags.stateRoot,
    databaseUrl: flags.databaseUrl ?? null,
  }).catch((err) => {
    throw err instanceof pg.DatabaseUnavailableError ? new UsageError(err.message) : err;
  });
  try {
    let q = store.db.selectFrom('external_actions').select(['run_id', 'seq', 'record']);
    if (runId) q = q.where('run_id', '=', runId);
    const rows = await q.orderBy('run_id').orderBy('seq').execute();
    return rows.map((r) => ({ run_id: r.run_id, seq: Number(r.seq), record: r.record }));
  } finally {
    await store.close();
  }
}

/** The keys verify trusts: --public-key files, else the public half of the configured signing key. */
async function trusted(rt: CliRuntime, files: string[], stateRoot: string) {
  const { createPublicKey } = await import('node:crypto');
  const { trustedKeys } = await import('../engine/audit-verify.ts');
  if (files.length > 0)
    return trustedKeys(
      files.map((f) => {
        try {
          return createPublicKey(readFileSync(f));
        } catch (err) {
          throw new UsageError(`cannot read public key ${f}: ${(err as Error).message}`);
        }
      }),
    );
  const signer = await loadSigner(stateRoot);
  // Keys retired by `audit rotate-key` signed the older records: their public halves are trusted too.
  const { readdirSync } = await import('node:fs');
  const archiveDir = join(stateRoot, 'audit-keys');
  const archived = existsSync(archiveDir)
    ? readdirSync(archiveDir)
        .filter((f) => f.endsWith('.pub.pem'))
        .map((f) => createPublicKey(readFileSync(join(archiveDir, f))))
    : [];
  rt.note(
    `trusting the configured signing key ${signer.keyId}${archived.length > 0 ? ` and ${archived.length} archived key(s) in ${archiveDir}` : ''} (pass --public-key to verify against an archived key)`,
  );
  return trustedKeys([createPublicKey(signer.publicKeyPem()), ...archived]);
}

async function loadSigner(stateRoot: string) {
  const { ActionSigner, auditKeySource, readKeySource } = await import('../engine/external-actions.ts');
  try {
    return ActionSigner.fromPem(readKeySource(auditKeySource(stateRoot, process.env), false));
  } catch (err) {
    throw new UsageError(
      (err as Error).message,
      'pass the archived public key with --public-key <file>, or set KHEISH_EXTERNAL_ACTION_AUDIT_SIGNING_KEY_FILE as for serve',
    );
  }
}

function readExport(file: string, runId: string | undefined) {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const rows: Array<{
    run_id: string;
    seq: number;
    record: string | Record<string, unknown>;
    where: string;
  }> = [];
  lines.forEach((line, i) => {
    const where = `line ${i + 1}`;
    let v: { format?: string; run_id?: unknown; seq?: unknown; record?: unknown };
    try {
      v = JSON.parse(line);
    } catch {
      // A broken line still takes its place in the chain it claims (when that is readable).
      const m = /"run_id":"([^"]+)","seq":(\d+)/.exec(line);
      rows.push({ run_id: m?.[1] ?? '(unreadable)', seq: Number(m?.[2] ?? 0), record: '\u0000', where });
      return;
    }
    if (v.format === EXPORT_FORMAT) return;
    rows.push({
      run_id: String(v.run_id),
      seq: Number(v.seq),
      record: (v.record ?? '\u0000') as Record<string, unknown>,
      where,
    });
  });
  return runId ? rows.filter((r) => r.run_id === runId) : rows;
}

export function registerAudit(program: Command, rt: CliRuntime): void {
  const audit = program
    .command('audit')
    .description('verify and export the signed external-action ledger (offline)');

  stateRootOptions(
    audit
      .command('verify [run_id]')
      .description('re-check hashes, chain links and signatures; names the first bad record (exit 1)')
      .option('--file <ledger.jsonl>', 'verify a file written by `audit export` instead of the database')
      .option(
        '--public-key <pem>',
        'a trusted public key (repeatable; default: the configured signing key)',
        collect,
        [],
      ),
  ).action(
    async (runId: string | undefined, flags: StateRootFlags & { file?: string; publicKey: string[] }) => {
      const { verifyLedger } = await import('../engine/audit-verify.ts');
      const keys = await trusted(rt, flags.publicKey, flags.stateRoot);
      const rows = flags.file
        ? readExport(flags.file, runId)
        : (await readRows(flags, runId)).map((r) => ({ ...r, where: `row seq ${r.seq}` }));
      if (runId && rows.length === 0)
        throw new UsageError(`no external-action records for run ${runId}`, undefined, EXIT.notFound);
      const report = verifyLedger(rows, keys);
      if (!report.ok) rt.exitCode = EXIT.failure;
      rt.emit(report, (r) =>
        r.ok
          ? [`ok: ${r.records} record(s) in ${r.chains} chain(s) verify (hashes, links, signatures)`]
          : [
              `TAMPERED: ${r.bad.length} of ${r.chains} chain(s) fail verification`,
              ...r.bad.map(
                (b) =>
                  `  run ${b.run_id}: first bad record at position ${b.seq} (${b.where}, action ${b.action_id ?? 'unknown'}): ${b.reason}`,
              ),
            ],
      );
    },
  );

  stateRootOptions(
    audit
      .command('export [run_id]')
      .description(
        'write the ledger (or one run) as JSON lines: a header, then one {run_id, seq, record} per line',
      )
      .option('--out <file>', 'write here instead of stdout (created 0600)'),
  ).action(async (runId: string | undefined, flags: StateRootFlags & { out?: string }) => {
    const rows = await readRows(flags, runId);
    const header = { format: EXPORT_FORMAT, exported_at_ms: Date.now(), records: rows.length };
    const body = [
      header,
      ...rows.map((r) => ({ run_id: r.run_id, seq: r.seq, record: JSON.parse(r.record) })),
    ]
      .map((v) => JSON.stringify(v))
      .join('\n');
    if (flags.out) {
      writeFileSync(flags.out, `${body}\n`, { mode: 0o600 });
      rt.note(`exported ${rows.length} record(s) to ${flags.out}`);
    } else rt.print(body);
  });

  audit
    .command('public-key')
    .description('print the key id and public key of the configured signing key (archive it to verify later)')
    .addOption(stateRootOption())
    .action(async (flags: { stateRoot: string }) => {
      const signer = await loadSigner(flags.stateRoot);
      rt.emit({ key_id: signer.keyId, public_key_pem: signer.publicKeyPem() }, (v) => [
        `# key_id ${v.key_id}`,
        v.public_key_pem.trimEnd(),
      ]);
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
