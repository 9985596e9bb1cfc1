// `deliveries` (ops-runtime §2.11): list, dead-letter, get, replay [--force], resolve, metrics;
// and `sessions reply-targets get|set|clear` (api-core §3.4). Each is one SDK call.
import type { Command } from 'commander';
import { DeliveriesResource, type DeliveryStatus, type DeliveryView } from '../sdk/deliveries.ts';
import { itemsOf, type JsonObject } from '../sdk/types.ts';
import { jsonInput } from './approvals.ts';
import { UsageError } from './errors.ts';
import { keyValues, table, time } from './format.ts';
import { nonEmpty, positiveInt } from './parse.ts';
import type { CliRuntime } from './runtime.ts';

const STATUSES = ['pending', 'retrying', 'delivered', 'dead_lettered', 'dead-lettered'];

interface ListFlags {
  sessionId?: string;
  runId?: string;
  plugin?: string;
  status?: string;
  page?: boolean;
  limit?: number;
  cursor?: string;
}

function listOptions(cmd: Command, status: boolean): Command {
  cmd
    .option('--session-id <id>', 'only deliveries of this session')
    .option('--run-id <id>', 'only deliveries of this run')
    .option('--plugin <name>', 'only this output plugin (http, slack, telegram, external)');
  if (status) cmd.option('--status <status>', 'pending, retrying, delivered or dead-lettered');
  return cmd
    .option('--page', 'return the paginated envelope')
    .option('--limit <n>', 'at most n deliveries (max 100)', positiveInt)
    .option('--cursor <cursor>', 'continue after this page cursor');
}

function query(f: ListFlags) {
  if (f.status !== undefined && !STATUSES.includes(f.status))
    throw new UsageError(`--status must be pending, retrying, delivered or dead-lettered, not ${f.status}`);
  return {
    session_id: f.sessionId,
    run_id: f.runId,
    plugin: f.plugin,
    status: f.status?.replace('-', '_') as DeliveryStatus | undefined,
    page: f.page,
    limit: f.limit,
    cursor: f.cursor,
  };
}

export function renderDelivery(v: DeliveryView): string[] {
  return keyValues([
    ['delivery', v.delivery_id],
    ['status', v.needs_operator ? `${v.status} (needs an operator)` : v.status],
    ['run', v.run_id],
    ['session', v.session_id],
    ['plugin', v.plugin],
    ['target', v.target_digest.slice(0, 16)],
    ['attempts', String(v.attempts)],
    ['error', v.last_error_code ? `${v.last_error_code}: ${v.last_error ?? ''}` : undefined],
    ['next attempt', v.next_attempt_at_ms ? time(v.next_attempt_at_ms) : undefined],
    ['replay of', v.replayed_from_delivery_id as string | undefined],
    [
      'resolved',
      v.resolution
        ? `${time((v.resolution as JsonObject).resolved_at_ms)}: ${(v.resolution as JsonObject).reason}`
        : undefined,
    ],
    ['created', time(v.created_at_ms)],
  ]);
}

const renderList = (list: DeliveryView[]) =>
  list.length === 0
    ? ['no deliveries']
    : table(
        ['DELIVERY', 'STATUS', 'PLUGIN', 'TARGET', 'ATTEMPTS', 'RUN', 'ERROR'],
        list.map((v) => [
          v.delivery_id,
          v.status,
          v.plugin,
          v.target_digest.slice(0, 12),
          String(v.attempts),
          v.run_id,
          String(v.last_error_code ?? '-'),
        ]),
      );

export function registerDeliveries(program: Command, rt: CliRuntime): void {
  const api = () => new DeliveriesResource(rt.client());
  const group = program
    .command('deliveries')
    .alias('delivery')
    .description('the output delivery queue: redacted views, dead letters, replay and resolve');

  listOptions(group.command('list').description('list deliveries (oldest first)'), true).action(
    async (f: ListFlags) => {
      rt.emit(await api().list(query(f)), (r) => renderList(itemsOf(r)));
    },
  );
  listOptions(group.command('dead-letter').description('list dead-lettered deliveries'), false).action(
    async (f: ListFlags) => {
      rt.emit(await api().deadLetter(query(f)), (r) => renderList(itemsOf(r)));
    },
  );
  group
    .command('get')
    .description('show one delivery (redacted)')
    .argument('<delivery_id>')
    .action(async (id: string) => rt.emit(await api().get(id), renderDelivery));
  group
    .command('replay')
    .description('queue a dead letter again as a new delivery (a repeat returns the same replay)')
    .argument('<delivery_id>')
    .option('--force', 'make another replay even if one exists')
    .action(async (id: string, f: { force?: boolean }) =>
      rt.emit(await api().replay(id, { force: f.force }), renderDelivery),
    );
  group
    .command('resolve')
    .description('mark a dead letter handled without sending it')
    .argument('<delivery_id>')
    .requiredOption('--reason <text>', 'why it needs no delivery (kept with the entry)', nonEmpty)
    .action(async (id: string, f: { reason: string }) =>
      rt.emit(await api().resolve(id, f.reason), renderDelivery),
    );
  group
    .command('replay-bulk')
    .description('replay the matching dead letters, oldest first (already replayed ones only with --force)')
    .option('--session-id <id>', 'only dead letters of this session')
    .option('--run-id <id>', 'only dead letters of this run')
    .option('--plugin <name>', 'only this output plugin')
    .option('--limit <n>', 'at most n (default 100, max 1000)', positiveInt)
    .option('--dry-run', 'list what would be replayed')
    .option('--force', 'replay dead letters that were replayed before')
    .option('--include-resolved', 'include dead letters an operator resolved')
    .action(
      async (f: {
        sessionId?: string;
        runId?: string;
        plugin?: string;
        limit?: number;
        dryRun?: boolean;
        force?: boolean;
        includeResolved?: boolean;
      }) => {
        const out = await api().replayBulk({
          session_id: f.sessionId,
          run_id: f.runId,
          plugin: f.plugin,
          limit: f.limit,
          dry_run: f.dryRun,
          force: f.force,
          include_resolved: f.includeResolved,
        });
        rt.emit(out, (o) =>
          o.dry_run
            ? [`would replay ${o.candidate_delivery_ids.length}`, ...o.candidate_delivery_ids]
            : [
                `replayed ${o.replays.length}`,
                ...o.replays.map((r) => `${r.replayed_from_delivery_id} -> ${r.delivery_id}`),
              ],
        );
      },
    );
  group
    .command('reset-backpressure')
    .description('make the waiting deliveries of a target (or a plugin) due now')
    .option('--target <digest>', 'the target digest of the deliveries (from list or get)')
    .option('--plugin <name>', 'every target of this plugin')
    .option('--dry-run', 'count what would be reset')
    .action(async (f: { target?: string; plugin?: string; dryRun?: boolean }) => {
      if (f.target === undefined && f.plugin === undefined) throw new UsageError('give --target or --plugin');
      const out = await api().resetBackpressure({
        target_digest: f.target,
        plugin: f.plugin,
        dry_run: f.dryRun,
      });
      rt.emit(out, (o) => [`${o.dry_run ? 'would reset' : 'reset'} ${o.reset_count} deliveries`]);
    });
  group
    .command('metrics')
    .description('queue counts, retry policy and plugins')
    .action(async () =>
      rt.emit(await api().metrics(), (m) =>
        keyValues(
          [
            'pending',
            'retrying',
            'in_flight',
            'delivered',
            'dead_lettered',
            'unresolved_dead_lettered',
            'needs_operator',
            'worker_lag_ms',
          ].map((k) => [k.replaceAll('_', ' '), String(m[k] ?? 0)]),
        ),
      ),
    );

  registerReplyTargets(program, rt);
}

/** `sessions reply-targets …`, added to the sessions group. */
function registerReplyTargets(program: Command, rt: CliRuntime): void {
  const sessions = program.commands.find((c) => c.name() === 'sessions');
  if (!sessions) return;
  const api = () => new DeliveriesResource(rt.client());
  const group = sessions
    .command('reply-targets')
    .description("a session's default reply targets (prospective)");
  const renderTargets = (v: { reply_targets: Array<{ plugin: string; address: string }> }) =>
    v.reply_targets.length === 0
      ? ['no reply targets']
      : table(
          ['PLUGIN', 'ADDRESS'],
          v.reply_targets.map((h) => [h.plugin, h.address]),
        );
  group
    .command('get')
    .argument('<session_id>')
    .description('show the default targets as normalized handles')
    .action(async (id: string) => rt.emit(await api().replyTargets(id), renderTargets));
  group
    .command('set')
    .argument('<session_id>')
    .description('replace the default targets (runs already created keep theirs)')
    .option('--json <json>', 'a JSON array of reply targets (handles or structured variants)')
    .option('--file <file>', 'the same from a file (- for standard input)')
    .option('--http <url...>', 'http reply URLs (shorthand for {"type":"http","url":…})')
    .option('--allow-private-network', 'with --http: allow private and loopback addresses')
    .action(
      async (
        id: string,
        f: { json?: string; file?: string; http?: string[]; allowPrivateNetwork?: boolean },
      ) => {
        const given = (await jsonInput(rt, f.json, f.file, 'reply-targets')) as unknown;
        const list: JsonObject[] = [];
        if (given !== undefined) {
          if (!Array.isArray(given))
            throw new UsageError('--json/--file must hold a JSON array of reply targets');
          list.push(...(given as JsonObject[]));
        }
        for (const url of f.http ?? [])
          list.push({ type: 'http', url, ...(f.allowPrivateNetwork ? { allow_private_network: true } : {}) });
        if (list.length === 0)
          throw new UsageError('nothing to set', 'pass --json, --file or --http (clear removes them)');
        await api().setReplyTargets(id, list);
        rt.emit(await api().replyTargets(id), renderTargets);
      },
    );
  group
    .command('clear')
    .argument('<session_id>')
    .description('remove the default targets')
    .action(async (id: string) => {
      await api().clearReplyTargets(id);
      rt.emit(await api().replyTargets(id), renderTargets);
    });
}
