// Schedules with an embedded materialization (concepts §4.14, api-core §6.3): the body is checked
// when the schedule is created (shape, request, the sources it names), and at each fire the engine's
// scheduler asks `runFor` — inside the occurrence's transaction — for the run request built from
// the observations present then. What would be a 4xx for an operator (nothing selected, a source
// that no longer allows materialization, a purged observation) skips that occurrence with the reason
// instead of failing or retrying it.
import type { ScheduledRun, ScheduleFire, SchedulePayloadPort } from '../../engine/ports.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import { getSource } from '../../store/repos/observations.ts';
import type { Executor } from '../../store/schema.ts';
import type { WriteTx } from '../../store/store.ts';
import { sourceNotFound } from './context.ts';
import { auditMaterialized, type Materializer, resolveSelection, runRequestOf } from './materialize.ts';
import { MaterializationRequest } from './schema.ts';

const invalid = (detail: string) =>
  new DaemonError(400, 'observations', 'invalid_materialization_request', detail);

function parse(raw: unknown): MaterializationRequest {
  const parsed = MaterializationRequest.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw invalid(
    parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'body'}: ${i.message}`).join('; '),
  );
}

/**
 * Validates an embedded materialization for a new schedule and returns it parsed. Errors: `400
 * observations/invalid_materialization_request` (shape or request), 404/403/409 as a materialization
 * of the same selection would answer (unknown source or observation, closed source, purged).
 */
export async function checkScheduled(db: Executor, raw: unknown): Promise<MaterializationRequest> {
  const body = parse(raw);
  const sel = body.selection;
  if (sel.type === 'observation_ids') await resolveSelection(db, sel, Date.now());
  else if (sel.type !== 'observation_group') {
    const source = await getSource(db, sel.source_id);
    if (!source) throw sourceNotFound(sel.source_id);
    // Fails the same way as at fire time when the source is closed: nothing selected is checked.
    await resolveSelection(db, { ...sel, max_observations: 1 }, Date.now());
    const req = body.request;
    if (
      (req.reply_targets?.length || req.reply_plugin || req.reply_address) &&
      source.allow_output_delivery !== 1
    )
      throw new DaemonError(
        403,
        'observations',
        'output_delivery_not_allowed',
        `observation source ${source.source_id} does not allow output delivery; drop reply_targets`,
      );
  }
  try {
    runRequestOf(body, '(evidence)', 'scheduled_observation_materialization', {});
  } catch (err) {
    if (err instanceof DaemonError && err.status === 400) throw invalid(`request: ${err.detail}`);
    throw err;
  }
  return body;
}

/** The engine's SchedulePayloadPort: one fire's run from the observations present at `now`. */
export class ScheduledMaterializations implements SchedulePayloadPort {
  private readonly materializer: Materializer;
  constructor(materializer: Materializer) {
    this.materializer = materializer;
  }

  async runFor(tx: WriteTx, payload: unknown, fire: ScheduleFire): Promise<ScheduledRun | { skip: string }> {
    let body: MaterializationRequest;
    try {
      body = { ...parse(payload), target_session_id: fire.session_id };
    } catch (err) {
      return { skip: `the stored materialization is no longer valid: ${(err as DaemonError).detail}` };
    }
    const kind = 'scheduled_observation_materialization' as const;
    try {
      const { request, rows } = await this.materializer.build(tx.db, body, fire.now, kind, false);
      return {
        kind,
        request,
        submitted: (t, run) => auditMaterialized(t, rows, run, { schedule_id: fire.schedule_id }),
      };
    } catch (err) {
      // Conditions of the observations themselves: this occurrence has nothing to run.
      if (err instanceof DaemonError && err.domain === 'observations')
        return { skip: `observations/${err.code}: ${err.detail}` };
      throw err;
    }
  }
}
