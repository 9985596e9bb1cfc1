// `observations` (concepts §4.14): sources create|list|get|rotate-token|revoke-token, ingest, list,
// get, materialize, schedule (observations-schedule.ts), audit; capture agents and alerts are in observations-capture.ts. Each command
// is one SDK call. Tokens are read from a flag, a file or an environment variable (a flag shows in
// the process list; prefer --upload-token-file or --token-env on shared hosts).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { Command } from 'commander';
import {
  type MaterializationRequest,
  type ObservationAuditRecord,
  type ObservationSelection,
  ObservationsResource,
  type ObservationView,
  type UploadObservationRequest,
} from '../sdk/observations.ts';
import { itemsOf, type JsonObject, type RunView } from '../sdk/types.ts';
import { jsonInput } from './approvals.ts';
import { UsageError } from './errors.ts';
import { keyValues, table, time } from './format.ts';
import { registerCapture } from './observations-capture.ts';
import { registerObservationSchedule } from './observations-schedule.ts';
import { nonNegativeInt, registerSources, secretInput } from './observations-sources.ts';
import { positiveInt } from './parse.ts';
import type { CliRuntime } from './runtime.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];
const MEDIA_BY_EXT: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.wav': 'audio/wav',
  '.webm': 'audio/webm',
};

/** A secret from exactly one of a flag, a file or an environment variable. */
export function renderObservation(o: ObservationView): string[] {
  return keyValues([
    ['observation', o.observation_id],
    ['source', o.source_id],
    ['state', o.retention_state],
    ['media', `${o.media_type}, ${o.byte_length} bytes`],
    ['asset', o.asset_id],
    ['canonical text', o.canonical_text_asset_id ?? undefined],
    [
      'stream',
      o.stream_id === null ? undefined : `${o.stream_id}${o.seq_no === null ? '' : ` #${o.seq_no}`}`,
    ],
    ['captured', time(o.captured_at_ms)],
    ['received', time(o.received_at_ms)],
  ]);
}

const renderObservations = (list: ObservationView[]) =>
  list.length === 0
    ? ['no observations']
    : table(
        ['OBSERVATION', 'SOURCE', 'STATE', 'STREAM', 'MEDIA'],
        list.map((o) => [o.observation_id, o.source_id, o.retention_state, o.stream_id ?? '-', o.media_type]),
      );

const renderAudit = (list: ObservationAuditRecord[]) =>
  list.length === 0
    ? ['no audit records']
    : table(
        ['TIME', 'EVENT', 'SOURCE', 'AGENT', 'OBSERVATION'],
        list.map((r) => [
          time(r.at_ms) ?? '-',
          r.event,
          r.source_id ?? '-',
          r.machine_id ?? '-',
          r.observation_id ?? '-',
        ]),
      );

interface IngestFlags {
  token?: string;
  tokenFile?: string;
  tokenEnv?: string;
  mediaType?: string;
  idempotencyKey?: string;
  streamId?: string;
  seqNo?: number;
  capturedAtMs?: number;
  canonicalText?: string;
  canonicalTextFile?: string;
  metadataJson?: string;
  metadataFile?: string;
}

function selectionOf(f: {
  observationId?: string[];
  sourceId?: string;
  streamId?: string;
  captureGroupId?: string;
  maxObservations?: number;
  lookbackSeconds?: number;
}): ObservationSelection {
  const kinds = [f.observationId?.length ? 1 : 0, f.sourceId ? 1 : 0, f.captureGroupId ? 1 : 0].reduce(
    (a, b) => a + b,
    0,
  );
  if (kinds !== 1)
    throw new UsageError(
      'select with one of --observation-id, --source-id [--stream-id] or --capture-group-id',
    );
  const window = {
    ...(f.maxObservations ? { max_observations: f.maxObservations } : {}),
    ...(f.lookbackSeconds ? { lookback_seconds: f.lookbackSeconds } : {}),
  };
  if (f.observationId?.length) return { type: 'observation_ids', observation_ids: f.observationId };
  if (f.captureGroupId) return { type: 'observation_group', capture_group_id: f.captureGroupId, ...window };
  if (f.streamId)
    return { type: 'latest_from_stream', source_id: f.sourceId!, stream_id: f.streamId, ...window };
  return { type: 'latest_from_source', source_id: f.sourceId!, ...window };
}

export function registerObservations(program: Command, rt: CliRuntime): void {
  const group = program
    .command('observations')
    .alias('observation')
    .description('observation sources, uploads, capture agents and materialization into runs');
  const api = () => new ObservationsResource(rt.client());
  registerSources(group, rt, api);

  group
    .command('ingest')
    .description("upload one file to a source with the source's upload token (not the admin token)")
    .argument('<source_id>')
    .argument('<file>')
    .option('--token <token>', 'the upload token (visible in the process list)')
    .option('--token-file <file>', 'read the upload token from a file')
    .option('--token-env <name>', 'read the upload token from this environment variable')
    .option('--media-type <type>', 'default: from the file extension')
    .option('--idempotency-key <key>', 'default: the file name and content digest')
    .option('--stream-id <id>', 'source-scoped stream')
    .option('--seq-no <n>', 'position in the stream', nonNegativeInt)
    .option('--captured-at-ms <ms>', 'capture time (default: receive time)', positiveInt)
    .option('--canonical-text <text>', 'OCR or transcript text')
    .option('--canonical-text-file <file>', 'canonical text from a file')
    .option('--metadata-json <json>', 'caller metadata (a JSON object)')
    .option('--metadata-file <file>', 'caller metadata from a JSON file')
    .action(async (sourceId: string, file: string, f: IngestFlags) => {
      const token = secretInput(
        { value: f.token, file: f.tokenFile, env: f.tokenEnv },
        { value: '--token', file: '--token-file', env: '--token-env' },
      )!;
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch (err) {
        throw new UsageError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code})`);
      }
      const mediaType = f.mediaType ?? MEDIA_BY_EXT[extname(file).toLowerCase()];
      if (!mediaType)
        throw new UsageError(`cannot tell the media type of ${basename(file)}; pass --media-type`);
      const digest = createHash('sha256').update(bytes).digest('hex');
      const body: UploadObservationRequest = {
        upload: {
          file_name: basename(file),
          media_type: mediaType,
          content_base64: bytes.toString('base64'),
        },
        idempotency_key: f.idempotencyKey ?? `${basename(file)}:${digest.slice(0, 32)}`,
      };
      if (f.streamId) body.stream_id = f.streamId;
      if (f.seqNo !== undefined) body.seq_no = f.seqNo;
      if (f.capturedAtMs) body.captured_at_ms = f.capturedAtMs;
      if (f.canonicalText !== undefined && f.canonicalTextFile !== undefined)
        throw new UsageError('give --canonical-text or --canonical-text-file, not both');
      if (f.canonicalText !== undefined) body.canonical_text = f.canonicalText;
      if (f.canonicalTextFile !== undefined) body.canonical_text = readFileSync(f.canonicalTextFile, 'utf8');
      const metadata = await jsonInput(rt, f.metadataJson, f.metadataFile, 'metadata');
      if (metadata !== undefined) body.metadata = metadata as JsonObject;
      rt.emit(await api().upload(sourceId, token, body), renderObservation);
    });

  group
    .command('list')
    .description('list observations (active only unless --include-purged)')
    .option('--source-id <id>', 'one source')
    .option('--stream-id <id>', 'one stream of that source (needs --source-id)')
    .option('--after-ms <ms>', 'received at or after', nonNegativeInt)
    .option('--before-ms <ms>', 'received before', nonNegativeInt)
    .option('--include-purged', 'list purged observations too')
    .option('--page', 'return the paginated envelope')
    .option('--limit <n>', 'at most n observations (max 100)', positiveInt)
    .option('--cursor <cursor>', 'continue after this page cursor')
    .action(async (f: Record<string, string | number | boolean | undefined>) => {
      const q = {
        source_id: f.sourceId as string | undefined,
        stream_id: f.streamId as string | undefined,
        after_ms: f.afterMs as number | undefined,
        before_ms: f.beforeMs as number | undefined,
        include_purged: f.includePurged ? true : undefined,
        page: f.page ? true : undefined,
        limit: f.limit as number | undefined,
        cursor: f.cursor as string | undefined,
      };
      rt.emit(await api().list(q), (r) => renderObservations(itemsOf(r)));
    });

  group
    .command('get')
    .description('show one observation')
    .argument('<observation_id>')
    .action(async (id: string) => rt.emit(await api().get(id), renderObservation));

  group
    .command('materialize')
    .description('submit a run on a session with selected observations framed as untrusted evidence')
    .requiredOption('--session <session_id>', 'target session')
    .option('--observation-id <id>', 'select this observation (repeatable)', collect)
    .option('--source-id <id>', 'select the latest of this source')
    .option('--stream-id <id>', 'with --source-id: the latest of this stream')
    .option('--capture-group-id <id>', 'select by metadata.capture_group_id')
    .option('--max-observations <n>', 'default 3', positiveInt)
    .option('--lookback-seconds <n>', 'only observations received this recently', positiveInt)
    .option('--content <text>', 'the instruction', 'Analyze these observations.')
    .option('--raw-asset-policy <policy>', 'auto, never or always')
    .option('--allow-empty', 'submit even when nothing is selected')
    .action(async (f: Record<string, unknown>) => {
      const body: MaterializationRequest = {
        target_session_id: f.session as string,
        selection: selectionOf(f as never),
        request: { content: f.content as string },
      };
      if (f.rawAssetPolicy)
        body.raw_asset_policy = f.rawAssetPolicy as MaterializationRequest['raw_asset_policy'];
      if (f.allowEmpty) body.fail_when_empty = false;
      rt.emit(await api().materialize(body), (run: RunView) => [
        `run ${run.run_id} ${run.status} (${run.kind})`,
      ]);
    });

  registerObservationSchedule(group, rt, api);

  group
    .command('audit')
    .description('the observation audit log, newest first (never tokens, bytes or idempotency keys)')
    .option('--source-id <id>', 'one source')
    .option('--machine-id <id>', 'one capture agent')
    .option('--event <event>', 'one event, e.g. upload_accepted, rate_limited, retention_purged')
    .option('--limit <n>', 'at most n records (default 100)', positiveInt)
    .action(async (f: { sourceId?: string; machineId?: string; event?: string; limit?: number }) =>
      rt.emit(
        await api().audit({ source_id: f.sourceId, machine_id: f.machineId, event: f.event, limit: f.limit }),
        renderAudit,
      ),
    );

  registerCapture(group, rt, api);
}
