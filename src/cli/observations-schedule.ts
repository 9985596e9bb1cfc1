// `observations schedule <source_id> --session <id>`: a schedule whose every fire materializes the
// latest observations of a source (or of one of its streams) into a run of kind
// `scheduled_observation_materialization`. The cadence and policy flags are those of
// `schedules create`; the selection flags are those of `observations materialize`.
import { type Command, Option } from 'commander';
import type { ObservationScheduleRequest, ObservationsResource } from '../sdk/observations.ts';
import type { MisfirePolicy } from '../sdk/schedules.ts';
import { positiveInt } from './parse.ts';
import type { CliRuntime } from './runtime.ts';
import { cadence, parseAt, parseMisfire, renderSchedule } from './schedules.ts';

interface ScheduleFlags {
  session: string;
  name?: string;
  streamId?: string;
  maxObservations?: number;
  lookbackSeconds?: number;
  content: string;
  rawAssetPolicy?: 'auto' | 'never' | 'always';
  allowEmpty?: boolean;
  provider?: string;
  at?: number;
  everySeconds?: number;
  cron?: string;
  timezone?: string;
  overlapPolicy?: 'skip' | 'queue-one' | 'parallel';
  misfirePolicy?: MisfirePolicy;
  maxExecutions?: number;
}

export function registerObservationSchedule(
  group: Command,
  rt: CliRuntime,
  api: () => ObservationsResource,
): void {
  group
    .command('schedule')
    .description(
      'schedule runs that each materialize the latest observations of a source, selected at fire time',
    )
    .argument('<source_id>')
    .requiredOption('--session <session_id>', 'target session (it must exist)')
    .option('--name <name>', 'a label for the schedule (default: "<source_id> observations")')
    .option('--stream-id <id>', 'only this stream of the source')
    .option('--max-observations <n>', 'per fire, default 3', positiveInt)
    .option('--lookback-seconds <n>', 'only observations captured this recently', positiveInt)
    .option('--content <text>', 'the instruction', 'Analyze these observations.')
    .addOption(
      new Option('--raw-asset-policy <policy>', 'attach raw assets').choices(['auto', 'never', 'always']),
    )
    .option('--allow-empty', 'run even when nothing is selected (default: skip that fire)')
    .option('--provider <route>', 'route id for the scheduled runs')
    .option('--at <time>', 'fire once: RFC 3339 time or epoch ms (a past time fires at once)', parseAt)
    .option('--every-seconds <n>', 'fire every n seconds (n >= 5)', positiveInt)
    .option('--cron <expr>', '6-field cron, seconds first: "0 */15 * * * *"')
    .option('--timezone <tz>', 'IANA timezone of --cron (default UTC)')
    .addOption(
      new Option('--overlap-policy <policy>', 'when the previous fire still runs').choices([
        'skip',
        'queue-one',
        'parallel',
      ]),
    )
    .option(
      '--misfire-policy <policy>',
      'missed fires: coalesce-once | skip-missed | catch-up:N',
      parseMisfire,
    )
    .option('--max-executions <n>', 'complete after n fires', positiveInt)
    .action(async (sourceId: string, f: ScheduleFlags) => {
      const window = {
        ...(f.maxObservations ? { max_observations: f.maxObservations } : {}),
        ...(f.lookbackSeconds ? { lookback_seconds: f.lookbackSeconds } : {}),
      };
      const request: ObservationScheduleRequest['observation_materialization']['request'] = {
        content: f.content,
      };
      if (f.provider) request.provider = f.provider;
      const body: ObservationScheduleRequest = {
        name: f.name ?? `${sourceId} observations`,
        target_session_id: f.session,
        cadence: cadence(f),
        observation_materialization: {
          target_session_id: f.session,
          selection: f.streamId
            ? { type: 'latest_from_stream', source_id: sourceId, stream_id: f.streamId, ...window }
            : { type: 'latest_from_source', source_id: sourceId, ...window },
          request,
        },
      };
      if (f.rawAssetPolicy) body.observation_materialization.raw_asset_policy = f.rawAssetPolicy;
      if (f.allowEmpty) body.observation_materialization.fail_when_empty = false;
      if (f.overlapPolicy)
        body.overlap_policy = f.overlapPolicy === 'queue-one' ? 'queue_one' : f.overlapPolicy;
      if (f.misfirePolicy) body.misfire_policy = f.misfirePolicy;
      if (f.maxExecutions !== undefined) body.max_executions = f.maxExecutions;
      rt.emit(await api().schedule(body), renderSchedule);
    });
}
