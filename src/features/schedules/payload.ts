// The payload a schedule stores in its `request` column: the normalized `SubmitInputRequest` of a
// plain schedule, or `{ "observation_materialization": <body> }` for an embedded materialization,
// which the observations feature checks now and turns into a run at each fire (the engine's
// schedule-dispatch.ts tells the two apart by that key).
import { type InputAssetsPort, prepareRequest, referencedAssetIds } from '../../engine/input-assets.ts';
import {
  embeddedPayloadOf,
  FLOW_START_PAYLOAD,
  OBSERVATION_PAYLOAD,
} from '../../engine/schedule-dispatch.ts';
import type { StoredRunRequest } from '../../engine/types.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import type { ObservationsPort } from '../observations/port.ts';
import type { FlowSchedulePort } from '../playbooks/flow-schedule.ts';
import { normalizeSubmission } from '../runs/service.ts';
import type { ScheduleCreateRequest } from './schema.ts';

const bad = (code: string, detail: string) => new DaemonError(400, 'schedules', code, detail);

export interface SchedulePayload {
  /** The `request` column (JSON object, stamped with the scheduler's provenance for plain requests). */
  stored: Record<string, unknown>;
  /** The route the runs ask for, checked at creation. */
  provider: string | undefined;
  model: string | undefined;
}

/** Validates the one payload of a create body (the exactly-one rule and the target are checked before). */
export async function schedulePayload(
  body: ScheduleCreateRequest,
  observations: () => ObservationsPort | null,
  flows: () => FlowSchedulePort | null = () => null,
): Promise<SchedulePayload> {
  if (body.flow_start) {
    const port = flows();
    if (!port)
      throw bad(
        'flow_start_unsupported',
        'this daemon has no playbooks catalog, so it cannot schedule a Flow start',
      );
    let checked: Awaited<ReturnType<FlowSchedulePort['checkScheduled']>>;
    try {
      checked = await port.checkScheduled(body.flow_start, body.target_session_id);
    } catch (err) {
      // Shape errors are the schedule's; 403/404/409 answer as POST /v1/flows would.
      if (err instanceof DaemonError && err.status === 400)
        throw bad('invalid_schedule_request', `flow_start: ${err.detail}`);
      throw err;
    }
    return {
      stored: { [FLOW_START_PAYLOAD]: checked },
      provider: checked.request.provider ?? undefined,
      model: checked.request.generation?.model as string | undefined,
    };
  }
  if (body.observation_materialization) {
    const port = observations();
    if (!port)
      throw bad(
        'observation_materialization_unsupported',
        'this daemon has no observations store, so it cannot schedule observation materialization; schedule a request instead',
      );
    let checked: Awaited<ReturnType<ObservationsPort['checkScheduled']>>;
    try {
      // The target may be left out: it can only be the schedule's.
      checked = await port.checkScheduled({
        ...body.observation_materialization,
        target_session_id: body.target_session_id,
      });
    } catch (err) {
      if (err instanceof DaemonError && err.status === 400 && err.domain === 'observations')
        throw bad('invalid_schedule_request', `observation_materialization: ${err.detail}`);
      throw err;
    }
    return {
      stored: { [OBSERVATION_PAYLOAD]: checked },
      provider: checked.request.provider ?? undefined,
      model: checked.request.generation?.model as string | undefined,
    };
  }
  let request: ReturnType<typeof normalizeSubmission>;
  try {
    request = normalizeSubmission(body.request!);
  } catch (err) {
    if (err instanceof DaemonError && err.status === 400)
      throw bad('invalid_schedule_request', `request: ${err.detail}`);
    throw err;
  }
  return {
    stored: { ...request, source_plugin: 'scheduler', source_kind: 'scheduled_input' },
    provider: request.provider,
    model: request.generation?.model as string | undefined,
  };
}

/**
 * Imports the inline files of the payload's request once (after the route check, so a refused
 * create imports nothing) and names the assets the schedule holds references to.
 */
export async function preparePayload(
  port: InputAssetsPort | null,
  stored: Record<string, unknown>,
): Promise<{ stored: Record<string, unknown>; assetIds: string[] }> {
  const e = embeddedPayloadOf(stored);
  if (e) {
    const request = await prepareRequest(port, e.body.request as StoredRunRequest);
    return {
      stored: { [e.key]: { ...e.body, request } },
      assetIds: referencedAssetIds(request),
    };
  }
  const request = await prepareRequest(port, stored as unknown as StoredRunRequest);
  return { stored: { ...request }, assetIds: referencedAssetIds(request) };
}
