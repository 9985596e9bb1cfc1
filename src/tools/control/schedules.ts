// Schedule control tools: a run creates and manages schedules of its own session. The tools only
// know the ScheduleControl interface; the schedules feature implements it and daemon.ts wires it.
import { z } from 'zod';
import type { ToolContext, ToolDefinition } from '../registry.ts';
import { defineControlTool } from './define-control-tool.ts';

/** Who is calling: schedules made by a tool belong to (and target) the calling session. */
export interface ScheduleCaller {
  session_id: string;
  agent_id: string;
  run_id: string;
  tool_call_id: string;
}

export type ScheduleAction = 'cancel' | 'pause' | 'resume' | 'trigger';

export interface ScheduleControl {
  /** `body` is a ScheduleCreateRequest without the provenance fields (the control adds them). */
  createForTool(caller: ScheduleCaller, body: Record<string, unknown>): Promise<unknown>;
  listForTool(caller: ScheduleCaller): Promise<unknown[]>;
  getForTool(caller: ScheduleCaller, scheduleId: string): Promise<unknown>;
  actForTool(caller: ScheduleCaller, scheduleId: string, action: ScheduleAction): Promise<unknown>;
}

const MisfireInput = z.union([
  z.enum(['coalesce_once', 'skip_missed']),
  z.object({ type: z.literal('catch_up'), max: z.number().int().min(1).max(100) }),
]);

const CreateInput = z
  .object({
    name: z.string().min(1).describe('a short label for the schedule'),
    content: z.string().min(1).describe('the message each fire submits to the session'),
    at: z
      .union([z.string(), z.number()])
      .optional()
      .describe('one fire at this time: RFC 3339 (2026-01-02T09:00:00Z) or epoch milliseconds'),
    every_seconds: z.number().int().min(5).optional().describe('fire every N seconds (N >= 5)'),
    cron: z
      .string()
      .optional()
      .describe('6-field cron, seconds first, weekday names: "0 0 9 * * MON-FRI" = 09:00 on weekdays'),
    timezone: z.string().optional().describe('IANA timezone of the cron expression (default UTC)'),
    overlap_policy: z.enum(['skip', 'queue_one', 'parallel']).optional(),
    misfire_policy: MisfireInput.optional(),
    max_executions: z.number().int().min(1).optional(),
    provider: z.string().min(1).optional().describe('route id for the scheduled runs'),
    model: z.string().min(1).optional(),
  })
  .strict();

const IdInput = z.object({ schedule_id: z.string().min(1) }).strict();

function caller(ctx: ToolContext): ScheduleCaller {
  return {
    session_id: ctx.session_id,
    agent_id: ctx.agent_id,
    run_id: ctx.run_id,
    tool_call_id: ctx.tool_call_id,
  };
}

function parseAt(at: string | number): number | string {
  if (typeof at === 'number') return at;
  if (/^\d+$/.test(at.trim())) return Number(at.trim());
  const ms = Date.parse(at);
  return Number.isNaN(ms) ? `"at" must be an RFC 3339 time or epoch milliseconds (got "${at}")` : ms;
}

/** Maps the tool's flat input onto a ScheduleCreateRequest (exactly one of at/every_seconds/cron). */
export function toolCreateBody(input: z.infer<typeof CreateInput>): Record<string, unknown> | string {
  const given = [input.at !== undefined, input.every_seconds !== undefined, input.cron !== undefined];
  if (given.filter(Boolean).length !== 1) return 'give exactly one of at, every_seconds or cron';
  let cadence: Record<string, unknown>;
  if (input.at !== undefined) {
    const at = parseAt(input.at);
    if (typeof at === 'string') return at;
    cadence = { type: 'once', fire_at_ms: at };
  } else if (input.every_seconds !== undefined)
    cadence = { type: 'interval', every_seconds: input.every_seconds };
  else cadence = { type: 'cron', expression: input.cron, timezone: input.timezone ?? 'UTC' };
  const request: Record<string, unknown> = { content: input.content };
  if (input.provider) request.provider = input.provider;
  if (input.model) request.generation = { model: input.model };
  const body: Record<string, unknown> = { name: input.name, cadence, request };
  if (input.overlap_policy) body.overlap_policy = input.overlap_policy;
  if (input.misfire_policy)
    body.misfire_policy =
      typeof input.misfire_policy === 'string' ? { type: input.misfire_policy } : input.misfire_policy;
  if (input.max_executions !== undefined) body.max_executions = input.max_executions;
  return body;
}

/** The seven schedule tools over one control. */
export function scheduleTools(control: ScheduleControl): ToolDefinition[] {
  const act = (action: ScheduleAction) => (a: { schedule_id: string }, ctx: ToolContext) =>
    control.actForTool(caller(ctx), a.schedule_id, action);
  return [
    defineControlTool(
      'schedule_create',
      'Schedule future input to this session: once (at), every N seconds, or on a cron pattern. Each fire starts a new run with `content` as its input.',
      CreateInput,
      true,
      async (a, ctx) => {
        const body = toolCreateBody(a);
        if (typeof body === 'string') throw new Error(body);
        return control.createForTool(caller(ctx), body);
      },
    ),
    defineControlTool(
      'schedule_list',
      'List the schedules of this session.',
      z.object({}).strict(),
      false,
      (_a, ctx) => control.listForTool(caller(ctx)),
    ),
    defineControlTool(
      'schedule_get',
      'Show one schedule of this session, with its recent fires.',
      IdInput,
      false,
      (a, ctx) => control.getForTool(caller(ctx), a.schedule_id),
    ),
    defineControlTool(
      'schedule_cancel',
      'Cancel a schedule for good (its running fire is not stopped).',
      IdInput,
      true,
      act('cancel'),
    ),
    defineControlTool(
      'schedule_pause',
      'Pause a schedule; resume keeps the remaining time of once/interval cadences.',
      IdInput,
      true,
      act('pause'),
    ),
    defineControlTool('schedule_resume', 'Resume a paused schedule.', IdInput, true, act('resume')),
    defineControlTool(
      'schedule_trigger_now',
      'Fire a schedule once now (its overlap policy still applies).',
      IdInput,
      true,
      act('trigger'),
    ),
  ];
}
