// `schedules` (alias `schedule`): list, get, create, cancel, pause, resume, trigger-now (ops-runtime §2.10).
import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  createSchedule,
  getSchedule,
  listSchedules,
  type MisfirePolicy,
  type ScheduleAction,
  type ScheduleCadence,
  type ScheduleCreateRequest,
  type ScheduleView,
  scheduleAction,
} from '../sdk/schedules.ts';
import { itemsOf, type JsonObject, type ListResult, type SubmitInputRequest } from '../sdk/types.ts';
import { UsageError } from './errors.ts';
import { keyValues, oneLine, table, time } from './format.ts';
import { type GenerationFlags, generationOf, generationOptions } from './generation-flags.ts';
import { resolveModelFlags } from './model-selector.ts';
import { nonEmpty, positiveInt } from './parse.ts';
import { pageFooter } from './render.ts';
import type { CliRuntime } from './runtime.ts';

interface CreateFlags extends GenerationFlags {
  contentFile?: string;
  stdin?: boolean;
  at?: number;
  everySeconds?: number;
  cron?: string;
  timezone?: string;
  overlapPolicy?: 'skip' | 'queue-one' | 'parallel';
  misfirePolicy?: MisfirePolicy;
  maxExecutions?: number;
  provider?: string;
  toolChoice?: string;
  toolName?: string;
  serialTools?: boolean;
  flowStartJson?: JsonObject;
}

/** `--flow-start-json`: the `flow_start` payload, `{playbook_ref, request, metadata?}` (decision 435). */
function parseFlowStart(v: string): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    throw new InvalidArgumentError('expected a JSON object: {"playbook_ref": {...}, "request": {...}}');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new InvalidArgumentError('expected a JSON object: {"playbook_ref": {...}, "request": {...}}');
  return parsed as JsonObject;
}

/** RFC 3339 (2026-01-02T09:00:00Z) or epoch milliseconds. */
export function parseAt(value: string): number {
  const v = value.trim();
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isSafeInteger(ms) || ms <= 0)
    throw new InvalidArgumentError('expected an RFC 3339 time (2026-01-02T09:00:00Z) or epoch milliseconds');
  return ms;
}

/** coalesce-once | skip-missed | catch-up:N (underscores accepted too). */
export function parseMisfire(value: string): MisfirePolicy {
  const v = value.trim().replaceAll('_', '-');
  if (v === 'coalesce-once') return { type: 'coalesce_once' };
  if (v === 'skip-missed') return { type: 'skip_missed' };
  const m = /^catch-up:(\d+)$/.exec(v);
  if (m) return { type: 'catch_up', max: Number(m[1]) };
  throw new InvalidArgumentError('expected coalesce-once, skip-missed or catch-up:N');
}

async function content(rt: CliRuntime, arg: string | undefined, flags: CreateFlags): Promise<string> {
  const sources = [arg !== undefined, flags.contentFile !== undefined, Boolean(flags.stdin)].filter(Boolean);
  if (sources.length > 1)
    throw new UsageError('give the message once: as an argument, --content-file or --stdin');
  let text: string | undefined = arg;
  if (flags.contentFile !== undefined) {
    try {
      text = readFileSync(flags.contentFile, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${flags.contentFile}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
  } else if (flags.stdin) text = await rt.io.readStdin();
  text = text?.replace(/\r?\n$/, '');
  if (!text?.trim())
    throw new UsageError('nothing to schedule', 'give the message as an argument, --content-file or --stdin');
  return text;
}

/** The cadence of --at | --every-seconds | --cron [--timezone] (also `observations schedule`). */
export function cadence(
  flags: Pick<CreateFlags, 'at' | 'everySeconds' | 'cron' | 'timezone'>,
): ScheduleCadence {
  const given = [flags.at !== undefined, flags.everySeconds !== undefined, flags.cron !== undefined];
  if (given.filter(Boolean).length !== 1)
    throw new UsageError('give exactly one of --at, --every-seconds or --cron');
  if (flags.timezone !== undefined && flags.cron === undefined)
    throw new UsageError('--timezone goes with --cron');
  if (flags.at !== undefined) return { type: 'once', fire_at_ms: flags.at };
  if (flags.everySeconds !== undefined) return { type: 'interval', every_seconds: flags.everySeconds };
  return { type: 'cron', expression: flags.cron!, timezone: flags.timezone ?? 'UTC' };
}

function generation(flags: CreateFlags): JsonObject | undefined {
  const g: JsonObject = generationOf(flags) ?? {};
  if (flags.toolName && flags.toolChoice !== 'specific')
    throw new UsageError('--tool-name goes with --tool-choice specific');
  if (flags.toolChoice === 'specific') {
    if (!flags.toolName) throw new UsageError('--tool-choice specific needs --tool-name');
    g.tool_choice = { type: 'specific', name: flags.toolName };
  } else if (flags.toolChoice) g.tool_choice = { type: flags.toolChoice };
  if (flags.serialTools) g.allow_parallel_tool_calls = false;
  return Object.keys(g).length ? g : undefined;
}

function cadenceText(c: ScheduleCadence | undefined): string {
  if (!c) return '-';
  if (c.type === 'once') return `once at ${time(c.fire_at_ms)}`;
  if (c.type === 'interval') return `every ${c.every_seconds}s`;
  return `cron "${c.expression}" ${c.timezone ?? 'UTC'}`;
}

/** What an observation schedule selects at each fire (undefined for a plain request). */
function selectionText(m: JsonObject | undefined): string | undefined {
  const sel = m?.selection as Record<string, unknown> | undefined;
  if (!sel) return undefined;
  if (sel.type === 'observation_ids') return `${(sel.observation_ids as unknown[]).length} observation(s)`;
  const what =
    sel.type === 'observation_group'
      ? `group ${sel.capture_group_id}`
      : `${sel.source_id}${sel.stream_id ? ` stream ${sel.stream_id}` : ''}`;
  return `${what}, latest ${sel.max_observations ?? 3}`;
}

export function renderSchedule(s: ScheduleView): string[] {
  const lines = keyValues([
    ['schedule', s.schedule_id],
    ['name', s.name],
    ['session', s.target_session_id],
    ['status', s.status],
    ['cadence', cadenceText(s.cadence)],
    ['observes', selectionText(s.observation_materialization)],
    ['overlap', s.overlap_policy],
    [
      'misfire',
      s.misfire_policy?.type === 'catch_up'
        ? `catch_up (max ${s.misfire_policy.max})`
        : s.misfire_policy?.type,
    ],
    ['next fire', time(s.next_fire_at_ms)],
    ['fires', `${s.execution_count}${s.max_executions ? ` of ${s.max_executions}` : ''}`],
    ['in flight', s.in_flight_run_id ?? undefined],
    ['queued fire', time(s.queued_fire_at_ms)],
    ['failures', s.consecutive_failures ? String(s.consecutive_failures) : undefined],
    ['last error', s.last_error ?? undefined],
    ['scheduler error', s.last_scheduler_error ?? undefined],
    ['retry at', time(s.scheduler_retry_after_ms)],
  ]);
  const recent = (s.recent_executions ?? []).slice(-10);
  if (recent.length === 0) return lines;
  return [
    ...lines,
    '',
    ...table(
      ['FIRE AT', 'STATUS', 'RUN', 'NOTE'],
      recent.map((e) => [
        time(e.fire_at_ms) ?? '-',
        e.run_status ? `${e.status} (${e.run_status})` : e.status,
        e.run_id ?? '-',
        oneLine(e.error ?? (e.manual ? 'trigger-now' : e.from_queued_fire ? 'queued fire' : ''), 60),
      ]),
    ),
  ];
}

export function renderScheduleList(result: ListResult<ScheduleView>): string[] {
  const items = itemsOf(result);
  const lines =
    items.length === 0
      ? ['no schedules']
      : table(
          ['SCHEDULE', 'NAME', 'SESSION', 'STATUS', 'CADENCE', 'NEXT FIRE', 'FIRES'],
          items.map((s) => [
            s.schedule_id,
            oneLine(s.name, 30),
            s.target_session_id,
            s.status,
            cadenceText(s.cadence),
            time(s.next_fire_at_ms) ?? '-',
            String(s.execution_count),
          ]),
        );
  return [...lines, ...pageFooter(result)];
}

export function registerSchedules(program: Command, rt: CliRuntime): void {
  const schedules = program
    .command('schedules')
    .alias('schedule')
    .description('create and manage schedules that submit runs on a clock');

  schedules
    .command('list')
    .description('list schedules (legacy array; --page or --cursor for the paginated envelope)')
    .option('--session-id <id>', 'only schedules targeting this session')
    .option('--page', 'return the paginated envelope')
    .option('--limit <n>', 'at most n schedules (max 100)', positiveInt)
    .option('--cursor <cursor>', 'continue after this page cursor')
    .action(async (flags: { sessionId?: string; page?: boolean; limit?: number; cursor?: string }) => {
      const result = await listSchedules(rt.client(), {
        session_id: flags.sessionId,
        page: flags.page,
        limit: flags.limit,
        cursor: flags.cursor,
      });
      rt.emit(result, renderScheduleList);
    });

  schedules
    .command('get')
    .alias('show')
    .description('show one schedule with its recent fires')
    .argument('<schedule_id>')
    .action(async (id: string) => rt.emit(await getSchedule(rt.client(), id), renderSchedule));

  generationOptions(
    schedules
      .command('create')
      .description('schedule a message into an existing session: --at, --every-seconds or --cron'),
  )
    .argument('<name>', 'a label for the schedule', nonEmpty)
    .argument('<session_id>', 'the session each fire submits to')
    .argument('[content]', 'the message; or --content-file / --stdin')
    .option('--content-file <path>', 'read the message from a file')
    .option('--stdin', 'read the message from standard input')
    .option('--at <time>', 'fire once: RFC 3339 time or epoch ms (a past time fires at once)', parseAt)
    .option('--every-seconds <n>', 'fire every n seconds (n >= 5)', positiveInt)
    .option('--cron <expr>', '6-field cron, seconds first: "0 0 9 * * MON-FRI"')
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
    .option('--provider <route>', 'route id for the scheduled runs')
    .addOption(
      new Option('--tool-choice <choice>', 'tool choice').choices(['auto', 'none', 'required', 'specific']),
    )
    .option('--tool-name <name>', 'the tool of --tool-choice specific')
    .option('--serial-tools', 'no parallel tool calls')
    .option(
      '--flow-start-json <json>',
      'start a Flow at each fire instead of a message: {"playbook_ref":{...},"request":{...}}',
      parseFlowStart,
    )
    .action(async (name: string, sessionId: string, arg: string | undefined, given: CreateFlags) => {
      const flags = await resolveModelFlags(rt.client(), given);
      const body: ScheduleCreateRequest = { name, target_session_id: sessionId, cadence: cadence(flags) };
      if (flags.flowStartJson) {
        if (arg !== undefined || flags.contentFile || flags.stdin)
          throw new UsageError('--flow-start-json carries its own request: give no message');
        body.flow_start = flags.flowStartJson;
      } else {
        const request: SubmitInputRequest = { content: await content(rt, arg, flags) };
        if (flags.provider) request.provider = flags.provider;
        const gen = generation(flags);
        if (gen) request.generation = gen;
        body.request = request;
      }
      if (flags.overlapPolicy)
        body.overlap_policy = flags.overlapPolicy === 'queue-one' ? 'queue_one' : flags.overlapPolicy;
      if (flags.misfirePolicy) body.misfire_policy = flags.misfirePolicy;
      if (flags.maxExecutions !== undefined) body.max_executions = flags.maxExecutions;
      rt.emit(await createSchedule(rt.client(), body), renderSchedule);
    });

  const actions: Array<[string, ScheduleAction, string]> = [
    ['cancel', 'cancel', 'cancel a schedule for good (a running fire is not stopped)'],
    ['pause', 'pause', 'pause a schedule (once/interval keep their remaining time)'],
    ['resume', 'resume', 'resume a paused schedule'],
    ['trigger-now', 'trigger', 'fire a schedule once now (its overlap policy still applies)'],
  ];
  for (const [command, action, description] of actions) {
    schedules
      .command(command)
      .description(description)
      .argument('<schedule_id>')
      .action(async (id: string) => rt.emit(await scheduleAction(rt.client(), id, action), renderSchedule));
  }
}
