// Schedule rules: creation checks, lifecycle moves (pause, resume, cancel, trigger), views, and the
// control the schedule tools use. Firing itself belongs to the engine's scheduler.
import { monotonicFactory } from 'ulid';
import type { z } from 'zod';
import type { Engine } from '../../engine/engine.ts';
import {
  type Cadence,
  CadenceError,
  checkCadence,
  firstFireAt,
  MAX_CATCH_UP,
  type MisfirePolicy,
  RECENT_EXECUTION_LIMIT,
} from '../../engine/schedule-plan.ts';
import { cadenceOf } from '../../engine/schedule-rows.ts';
import type { Scheduler } from '../../engine/scheduler.ts';
import type { WireView } from '../../engine/views.ts';
import { DaemonError, errors } from '../../errors/daemon-error.ts';
import { RouteResolutionError } from '../../models/route-inventory.ts';
import {
  closeRetrying,
  countActiveOwned,
  findScheduleByCreationKey,
  getSchedule,
  insertSchedule,
  listSchedules,
  recentExecutions,
  type ScheduleRow,
  schedulesOfSession,
} from '../../store/repos/schedules.ts';
import { getSession } from '../../store/repos/sessions.ts';
import type { WriteTx } from '../../store/store.ts';
import type { ScheduleAction, ScheduleCaller, ScheduleControl } from '../../tools/control/schedules.ts';
import type { ObservationsPort } from '../observations/port.ts';
import type { FlowSchedulePort } from '../playbooks/flow-schedule.ts';
import { preparePayload, schedulePayload } from './payload.ts';
import { ScheduleCreateRequest } from './schema.ts';
import { scheduleView, TOOL_EXECUTIONS, trimForTool } from './views.ts';

const ulid = monotonicFactory();
/** Active schedules one owner session may hold (the reference daemon's guardrail). */
export const MAX_OWNER_SCHEDULES = 128;

const bad = (code: string, detail: string) => new DaemonError(400, 'schedules', code, detail);
export const scheduleNotFound = (id: string) =>
  new DaemonError(404, 'schedules', 'schedule_not_found', `schedule ${id} was not found`);
const stateConflict = (detail: string) =>
  new DaemonError(409, 'schedules', 'schedule_state_conflict', detail);

/** Which code a shape error gets, by the field it is about. */
const FIELD_CODES: Record<string, string> = {
  cadence: 'invalid_cadence',
  overlap_policy: 'invalid_overlap_policy',
  misfire_policy: 'invalid_misfire_policy',
  max_executions: 'invalid_max_executions',
};

function parseCreate(raw: unknown): z.infer<typeof ScheduleCreateRequest> {
  const parsed = ScheduleCreateRequest.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0]!;
  const field = String(first.path[0] ?? '');
  const where = (i: (typeof parsed.error.issues)[number]) => (i.path.length ? i.path.join('.') : 'body');
  throw bad(
    FIELD_CODES[field] ?? 'invalid_schedule_request',
    `invalid schedule request: ${parsed.error.issues.map((i) => `${where(i)}: ${i.message}`).join('; ')}`,
  );
}

export interface Provenance {
  owner_session_id: string;
  owner_agent_id: string;
  created_by_run_id: string;
  creation_key: string;
}

export class SchedulesService implements ScheduleControl {
  private readonly engine: Engine;
  private readonly scheduler: Scheduler;
  /** The observations feature's port (null without it), asked when a schedule embeds a materialization. */
  private readonly observations: () => ObservationsPort | null;
  /** The playbooks feature's check of a `flow_start` payload (null without it). */
  private readonly flows: () => FlowSchedulePort | null;
  constructor(
    engine: Engine,
    scheduler: Scheduler,
    observations: () => ObservationsPort | null = () => null,
    flows: () => FlowSchedulePort | null = () => null,
  ) {
    this.engine = engine;
    this.scheduler = scheduler;
    this.observations = observations;
    this.flows = flows;
  }
  private get db() {
    return this.engine.store.db;
  }

  // ---------------------------------------------------------------- create

  async create(raw: unknown, provenance?: Provenance): Promise<WireView> {
    const body = parseCreate(raw);
    const hasRequest = body.request !== undefined && body.request !== null;
    const hasObservation =
      body.observation_materialization !== undefined && body.observation_materialization !== null;
    const hasFlow = body.flow_start !== undefined && body.flow_start !== null;
    const count = [hasRequest, hasObservation, hasFlow].filter(Boolean).length;
    if (count !== 1)
      throw bad(
        'invalid_schedule_payload',
        `a schedule needs exactly one payload: request, observation_materialization or flow_start (got ${count === 0 ? 'none' : count})`,
      );
    if (hasObservation) {
      const target = body.observation_materialization!.target_session_id;
      if (target !== undefined && target !== body.target_session_id)
        throw bad(
          'observation_target_mismatch',
          `observation_materialization.target_session_id (${String(target)}) must equal target_session_id (${body.target_session_id})`,
        );
    }
    if (body.name.trim() === '') throw bad('invalid_schedule_request', 'name must not be empty');
    if (body.target_session_id.trim() === '')
      throw bad('invalid_schedule_request', 'target_session_id must not be empty');
    const max = body.max_executions ?? null;
    if (max !== null && (!Number.isSafeInteger(max) || max < 1))
      throw bad(
        'invalid_max_executions',
        `max_executions must be a whole number greater than 0 (got ${max})`,
      );
    const now = this.scheduler.now();
    const cadence: Cadence =
      body.cadence.type === 'cron'
        ? { type: 'cron', expression: body.cadence.expression, timezone: body.cadence.timezone ?? 'UTC' }
        : body.cadence;
    try {
      checkCadence(cadence, now);
    } catch (err) {
      if (err instanceof CadenceError) throw bad(err.code, err.message);
      throw err;
    }
    const misfire = normalizeMisfire(body.misfire_policy);
    const payload = await schedulePayload(body, this.observations, this.flows);
    this.checkRoute(payload.provider, payload.model);
    // Inline files are imported once, now; every occurrence's run references the same assets.
    const { stored: prepared, assetIds } = await preparePayload(this.engine.inputAssets, payload.stored);
    const scheduleId = `schedule-${ulid().toLowerCase()}`;
    const row: ScheduleRow = {
      schedule_id: scheduleId,
      name: body.name,
      target_session_id: body.target_session_id,
      target_agent_id: body.target_agent_id ?? null,
      owner_session_id: provenance?.owner_session_id ?? body.owner_session_id ?? null,
      owner_agent_id: provenance?.owner_agent_id ?? body.owner_agent_id ?? null,
      created_by_run_id: provenance?.created_by_run_id ?? body.created_by_run_id ?? null,
      creation_key: provenance?.creation_key ?? null,
      status: 'active',
      cadence: JSON.stringify(cadence),
      overlap_policy: body.overlap_policy ?? 'skip',
      misfire_policy: JSON.stringify(misfire),
      max_executions: max,
      request: JSON.stringify(
        prepared.observation_materialization || prepared.flow_start
          ? prepared
          : { ...prepared, actor_id: scheduleId },
      ),
      created_at_ms: now,
      updated_at_ms: now,
      next_fire_at_ms: firstFireAt(cadence, now),
      paused_remaining_ms: null,
      queued_fire_at_ms: null,
      in_flight_fire_at_ms: null,
      in_flight_run_id: null,
      last_fire_at_ms: null,
      last_dispatched_run_id: null,
      last_error: null,
      last_scheduler_error: null,
      scheduler_retry_after_ms: null,
      scheduler_retry_attempt: 0,
      execution_count: 0,
      consecutive_failures: 0,
    };
    const stored = await this.engine.store.write(async (tx) => {
      if (row.creation_key) {
        const existing = await findScheduleByCreationKey(tx.db, row.creation_key);
        if (existing) return existing;
      }
      const session = await getSession(tx.db, row.target_session_id);
      if (!session) throw errors.sessionNotFound(row.target_session_id);
      if (session.ended_at_ms !== null) throw errors.sessionEnded(row.target_session_id);
      if (row.target_agent_id !== null && row.target_agent_id !== session.agent_id)
        throw bad(
          'target_agent_mismatch',
          `target_agent_id ${row.target_agent_id} is not the agent of session ${row.target_session_id} (${session.agent_id})`,
        );
      if (
        row.owner_session_id !== null &&
        (await countActiveOwned(tx.db, row.owner_session_id)) >= MAX_OWNER_SCHEDULES
      )
        throw new DaemonError(
          409,
          'schedules',
          'schedule_limit_reached',
          `session ${row.owner_session_id} already owns ${MAX_OWNER_SCHEDULES} active schedules; cancel some first`,
        );
      await insertSchedule(tx.db, row);
      if (assetIds.length > 0)
        await this.engine.inputAssets!.reference(
          tx,
          {
            domain: 'schedules',
            owner_id: scheduleId,
            role: 'input_attachment',
            parent_id: row.target_session_id,
          },
          assetIds,
        );
      tx.afterCommit(() => this.scheduler.wake());
      return row;
    });
    return this.view(stored);
  }

  /** An unknown route can never fire: refuse it now (not-ready may heal). */
  private checkRoute(provider: string | undefined, model: string | undefined): void {
    if (provider === undefined && model === undefined) return;
    try {
      this.engine.routes.resolve({ provider, model }, null);
    } catch (err) {
      if (err instanceof RouteResolutionError && err.code !== 'route_not_ready')
        throw new DaemonError(400, 'routes', err.code, err.message);
      if (!(err instanceof RouteResolutionError)) throw err;
    }
  }

  // ---------------------------------------------------------------- reads

  async get(id: string): Promise<WireView> {
    const row = await getSchedule(this.db, id);
    if (!row) throw scheduleNotFound(id);
    return this.view(row);
  }

  async list(q: { session_id?: string; after?: string; limit?: number }) {
    const { rows, total } = await listSchedules(this.db, {
      session_id: q.session_id,
      after_id: q.after,
      limit: q.limit,
    });
    return { items: await this.views(rows), total };
  }

  private async view(row: ScheduleRow, executions = RECENT_EXECUTION_LIMIT) {
    return (await this.views([row], executions))[0]!;
  }

  private async views(rows: ScheduleRow[], executions = RECENT_EXECUTION_LIMIT) {
    const history = await recentExecutions(
      this.db,
      rows.map((r) => r.schedule_id),
      executions,
    );
    return rows.map((r) => scheduleView(r, history.get(r.schedule_id) ?? []));
  }

  // ---------------------------------------------------------------- lifecycle

  pause(id: string) {
    return this.move(id, async (tx, s, now) => {
      if (s.status === 'paused') return;
      if (s.status !== 'active')
        throw stateConflict(`schedule ${id} is ${s.status}; only an active schedule can be paused`);
      const kind = cadenceOf(s).type;
      s.paused_remaining_ms =
        kind !== 'cron' && s.next_fire_at_ms !== null ? Math.max(0, s.next_fire_at_ms - now) : null;
      s.status = 'paused';
      s.next_fire_at_ms = null;
      await this.stopPending(tx, s, now, 'schedule paused');
    });
  }

  resume(id: string) {
    return this.move(id, async (_tx, s, now) => {
      if (s.status === 'active') return;
      if (s.status !== 'paused')
        throw stateConflict(`schedule ${id} is ${s.status}; only a paused schedule can be resumed`);
      const cadence = cadenceOf(s);
      // once/interval keep the time that was left; cron rejoins its calendar from now.
      s.next_fire_at_ms =
        cadence.type !== 'cron' && s.paused_remaining_ms !== null
          ? now + s.paused_remaining_ms
          : firstFireAt(cadence, now);
      s.paused_remaining_ms = null;
      s.status = s.next_fire_at_ms === null ? 'completed' : 'active';
    });
  }

  cancel(id: string) {
    return this.move(id, async (tx, s, now) => {
      if (s.status === 'canceled') return;
      if (s.status === 'completed')
        throw stateConflict(`schedule ${id} already completed; it cannot be canceled`);
      s.status = 'canceled';
      s.next_fire_at_ms = null;
      s.paused_remaining_ms = null;
      await this.stopPending(tx, s, now, 'schedule canceled');
    });
  }

  trigger(id: string) {
    return this.move(id, async (tx, s, now) => {
      if (s.status !== 'active')
        throw stateConflict(
          s.status === 'paused'
            ? `schedule ${id} is paused; resume it before triggering`
            : `schedule ${id} is ${s.status}; it cannot fire again`,
        );
      await this.scheduler.triggerInTx(tx, s, now);
    });
  }

  private async stopPending(tx: WriteTx, s: ScheduleRow, now: number, why: string): Promise<void> {
    await this.scheduler.dropQueued(tx, s, now, why);
    await closeRetrying(tx.db, s.schedule_id, why);
    s.scheduler_retry_after_ms = null;
    s.scheduler_retry_attempt = 0;
  }

  private async move(
    id: string,
    apply: (tx: WriteTx, s: ScheduleRow, now: number) => Promise<void>,
  ): Promise<{ schedule: WireView }> {
    const row = await this.engine.store.write(async (tx) => {
      const s = await getSchedule(tx.db, id);
      if (!s) throw scheduleNotFound(id);
      const now = this.scheduler.now();
      const before = JSON.stringify(s);
      await apply(tx, s, now);
      if (JSON.stringify(s) !== before) {
        s.updated_at_ms = now;
        await this.scheduler.save(tx, s);
        tx.afterCommit(() => this.scheduler.wake());
      }
      return s;
    });
    return { schedule: await this.view((await getSchedule(this.db, id)) ?? row) };
  }

  // ---------------------------------------------------------------- tools (ScheduleControl)

  private async owned(caller: ScheduleCaller, id: string): Promise<ScheduleRow> {
    const row = await getSchedule(this.db, id);
    if (!row || (row.target_session_id !== caller.session_id && row.owner_session_id !== caller.session_id))
      throw scheduleNotFound(id);
    return row;
  }

  async createForTool(caller: ScheduleCaller, body: Record<string, unknown>) {
    const target = body.target_session_id ?? caller.session_id;
    if (target !== caller.session_id)
      throw bad('schedule_target_forbidden', 'a run may only schedule work into its own session');
    const view = await this.create(
      { ...body, target_session_id: caller.session_id },
      {
        owner_session_id: caller.session_id,
        owner_agent_id: caller.agent_id,
        created_by_run_id: caller.run_id,
        creation_key: `${caller.run_id}:${caller.tool_call_id}`,
      },
    );
    return trimForTool(view);
  }

  async listForTool(caller: ScheduleCaller) {
    const rows = await schedulesOfSession(this.db, caller.session_id, 100);
    return (await this.views(rows, TOOL_EXECUTIONS)).map(trimForTool);
  }

  async getForTool(caller: ScheduleCaller, id: string) {
    return trimForTool(await this.view(await this.owned(caller, id), TOOL_EXECUTIONS));
  }

  async actForTool(caller: ScheduleCaller, id: string, action: ScheduleAction) {
    await this.owned(caller, id);
    const { schedule } = await this[action](id);
    return trimForTool(schedule);
  }
}

function normalizeMisfire(input: z.infer<typeof ScheduleCreateRequest>['misfire_policy']): MisfirePolicy {
  if (input === undefined || input === null) return { type: 'coalesce_once' };
  if (typeof input === 'string') return { type: input };
  if (input.type === 'catch_up') {
    if (!Number.isSafeInteger(input.max) || input.max < 1 || input.max > MAX_CATCH_UP)
      throw bad(
        'invalid_misfire_policy',
        `misfire_policy catch_up needs max between 1 and ${MAX_CATCH_UP} (got ${input.max})`,
      );
    return { type: 'catch_up', max: input.max };
  }
  return { type: input.type };
}
