// `observations sources create|list|get|rotate-token|revoke-token`: observation sources and their
// upload tokens, one SDK call each. Tokens come from a flag, a file or an environment variable.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type {
  CreateSourceRequest,
  ObservationSourceView,
  ObservationsResource,
} from '../sdk/observations.ts';
import { itemsOf } from '../sdk/types.ts';
import { UsageError } from './errors.ts';
import { keyValues, table } from './format.ts';
import { nonEmpty, positiveInt } from './parse.ts';
import type { CliRuntime } from './runtime.ts';

export const nonNegativeInt = (v: string): number => (v.trim() === '0' ? 0 : positiveInt(v));

export function secretInput(
  flags: { value?: string; file?: string; env?: string },
  names: { value: string; file: string; env: string },
  required = true,
): string | undefined {
  const given = [flags.value, flags.file, flags.env].filter((v) => v !== undefined).length;
  if (given > 1) throw new UsageError(`give one of ${names.value}, ${names.file} or ${names.env}`);
  if (flags.value !== undefined) return flags.value;
  if (flags.file !== undefined) {
    try {
      return readFileSync(flags.file, 'utf8').trim();
    } catch (err) {
      throw new UsageError(
        `cannot read ${names.file} ${flags.file} (${(err as NodeJS.ErrnoException).code})`,
      );
    }
  }
  if (flags.env !== undefined) {
    const v = process.env[flags.env];
    if (!v) throw new UsageError(`the environment variable ${flags.env} (${names.env}) is empty`);
    return v;
  }
  if (required) throw new UsageError(`give ${names.value}, ${names.file} or ${names.env}`);
  return undefined;
}

export function renderSource(s: ObservationSourceView): string[] {
  return keyValues([
    ['source', s.source_id],
    ['name', s.display_name],
    ['kind', s.kind],
    ['media', s.accepted_media_types.join(', ')],
    ['sensitivity', s.sensitivity],
    ['retention', `${s.retention_seconds} s`],
    ['budget', `${s.max_active_observations} observations, ${s.max_active_bytes} bytes`],
    ['rate limit', `${s.ingest_rate_limit_burst} per ${s.ingest_rate_limit_window_ms} ms`],
    ['token', `version ${s.upload_token_version} (${s.upload_token_state})`],
    ['capture agent', s.capture_machine_id ?? undefined],
    ['disabled', s.disabled ? 'yes' : undefined],
  ]);
}

const renderSources = (list: ObservationSourceView[]) =>
  list.length === 0
    ? ['no observation sources']
    : table(
        ['SOURCE', 'KIND', 'TOKEN', 'NAME'],
        list.map((s) => [
          s.source_id,
          s.kind,
          `v${s.upload_token_version} ${s.upload_token_state}`,
          s.display_name,
        ]),
      );

interface SourceFlags {
  kind?: string;
  displayName?: string;
  uploadToken?: string;
  uploadTokenFile?: string;
  uploadTokenEnv?: string;
  sensitivity?: string;
  retentionSeconds?: number;
  maxActiveObservations?: number;
  maxActiveBytes?: number;
  rateLimitWindowMs?: number;
  rateLimitBurst?: number;
  purgeRawOnRetention?: boolean;
  noMaterialization?: boolean;
  allowOutputDelivery?: boolean;
}

const tokenFlags = (cmd: Command) =>
  cmd
    .option('--upload-token <token>', 'the upload token (visible in the process list)')
    .option('--upload-token-file <file>', 'read the upload token from a file')
    .option('--upload-token-env <name>', 'read the upload token from this environment variable');
const uploadToken = (f: SourceFlags) =>
  secretInput(
    { value: f.uploadToken, file: f.uploadTokenFile, env: f.uploadTokenEnv },
    { value: '--upload-token', file: '--upload-token-file', env: '--upload-token-env' },
  )!;

export function registerSources(group: Command, rt: CliRuntime, api: () => ObservationsResource): void {
  const sources = group
    .command('sources')
    .description('observation sources (upload boundaries with their own tokens)');
  tokenFlags(
    sources
      .command('create')
      .description('create a source, or recreate it (a new token takes effect at once, with no grace)')
      .argument('[source_id]', 'path-safe id (generated when omitted)')
      .requiredOption('--kind <kind>', 'screen_snapshot, webcam_snapshot or microphone_segment')
      .option('--display-name <name>', 'shown in lists (default: the id)', nonEmpty)
      .option('--sensitivity <level>', 'default sensitive')
      .option('--retention-seconds <n>', 'retention from receive time (default 7 days)', positiveInt)
      .option('--max-active-observations <n>', 'budget (default 512)', positiveInt)
      .option('--max-active-bytes <n>', 'budget (default 512 MiB)', positiveInt)
      .option('--rate-limit-window-ms <n>', 'upload rate limit window (default 60000)', positiveInt)
      .option('--rate-limit-burst <n>', 'uploads per window (default 120)', positiveInt)
      .option('--purge-raw-on-retention', 'let the asset store reclaim bytes of purged observations')
      .option('--no-materialization', 'refuse materialization of this source')
      .option('--allow-output-delivery', 'let materialized runs deliver to reply targets'),
  ).action(async (id: string | undefined, f: SourceFlags) => {
    const body: CreateSourceRequest = {
      display_name: f.displayName ?? id ?? 'observation source',
      kind: f.kind as CreateSourceRequest['kind'],
      upload_token: uploadToken(f),
    };
    if (id) body.source_id = id;
    if (f.sensitivity) body.sensitivity = f.sensitivity;
    if (f.retentionSeconds) body.retention_seconds = f.retentionSeconds;
    if (f.maxActiveObservations) body.max_active_observations = f.maxActiveObservations;
    if (f.maxActiveBytes) body.max_active_bytes = f.maxActiveBytes;
    if (f.rateLimitWindowMs) body.ingest_rate_limit_window_ms = f.rateLimitWindowMs;
    if (f.rateLimitBurst) body.ingest_rate_limit_burst = f.rateLimitBurst;
    if (f.purgeRawOnRetention) body.purge_raw_on_retention = true;
    if (f.noMaterialization === false) body.allow_materialization = false;
    if (f.allowOutputDelivery) body.allow_output_delivery = true;
    rt.emit(await api().createSource(body), renderSource);
  });
  sources
    .command('list')
    .description('list observation sources')
    .option('--query <text>', 'only sources whose id or display name contain it')
    .action(async (f: { query?: string }) =>
      rt.emit(await api().listSources({ query: f.query }), (r) => renderSources(itemsOf(r))),
    );
  sources
    .command('get')
    .description('show one source (never its token)')
    .argument('<source_id>')
    .action(async (id: string) => rt.emit(await api().getSource(id), renderSource));
  tokenFlags(
    sources
      .command('rotate-token')
      .description('replace the upload token; the previous one keeps working for --grace-period-ms')
      .argument('<source_id>')
      .option('--grace-period-ms <n>', 'how long the previous token stays valid (default 0)', nonNegativeInt),
  ).action(async (id: string, f: SourceFlags & { gracePeriodMs?: number }) =>
    rt.emit(await api().rotateToken(id, uploadToken(f), f.gracePeriodMs), renderSource),
  );
  sources
    .command('revoke-token')
    .description('revoke the current and any grace-window token (stored observations stay)')
    .argument('<source_id>')
    .option('--reason <text>', 'recorded in the observation audit (secret-looking text is redacted)')
    .action(async (id: string, f: { reason?: string }) =>
      rt.emit(await api().revokeToken(id, f.reason), renderSource),
    );
}
