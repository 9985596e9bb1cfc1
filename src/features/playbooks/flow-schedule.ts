// Schedules that start a Flow (api-collab §3.5, decision 435): the payload
// `{ playbook_ref, request, metadata? }` mirrors POST /v1/flows with the schedule's target session.
// It is checked when the schedule is created (version startable, digest, scope gate, the request
// through the standard session-run path); at each fire, inside the occurrence's transaction, the
// engine asks `runFor` for the root run (`scheduled_input`, carrying `kheish_flow`) and writes the
// Flow record with it, so each occurrence is one Flow exactly once. What changed since creation
// (version revoked, scope widened, playbook gone) skips that occurrence with the reason.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { effectiveCapabilityScope, effectiveCredentialScope } from '../../engine/capability-scope.ts';
import type { ScheduledRun, ScheduleFire, SchedulePayloadPort } from '../../engine/ports.ts';
import type { StoredRunRequest } from '../../engine/types.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import { getSession } from '../../store/repos/sessions.ts';
import type { Executor } from '../../store/schema.ts';
import type { Store, WriteTx } from '../../store/store.ts';
import { SubmitInputRequest } from '../runs/schema.ts';
import type { RunsService } from '../runs/service.ts';
import { type PlaybookCatalog, playbookEvent, STARTABLE } from './catalog.ts';
import { pbErrors as E } from './errors.ts';
import { FLOW_METADATA_KEY } from './flows.ts';
import type { PlaybookManifest } from './schema.ts';
import { widerThan } from './scope-check.ts';

const Str = z.string().min(1);
export const FlowStartPayload = z
  .object({
    playbook_ref: z.object({ playbook_id: Str, version: Str, digest: Str }).strict(),
    request: SubmitInputRequest,
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type FlowStartPayload = z.infer<typeof FlowStartPayload>;
/** The stored form: the request normalized by the standard session-run path. */
export type StoredFlowStart = Omit<FlowStartPayload, 'request'> & { request: StoredRunRequest };

/** What the schedules feature asks when a create body carries `flow_start`. */
export interface FlowSchedulePort {
  /** The payload to store (request normalized), or a DaemonError as POST /v1/flows would answer. */
  checkScheduled(raw: unknown, sessionId: string): Promise<StoredFlowStart>;
}

/** Why this version cannot start a Flow on the session now (null: it can). */
async function gate(
  db: Executor,
  catalog: PlaybookCatalog,
  ref: FlowStartPayload['playbook_ref'],
  sessionId: string,
): Promise<{ manifest: PlaybookManifest } | DaemonError> {
  try {
    const version = await catalog.version(db, ref.playbook_id, ref.version, ref.digest);
    if (!STARTABLE.has(version.status)) return E.notStartable(ref.playbook_id, ref.version, version.status);
    const manifest = JSON.parse(version.manifest) as PlaybookManifest;
    const session = await getSession(db, sessionId);
    if (!session) return E.sessionNotFound(sessionId);
    const cap = widerThan(
      await effectiveCapabilityScope(db, session),
      manifest.scopes?.required_capability_scope,
    );
    if (cap.length) return E.scopeTooWide('capability scope', cap.join('; '));
    const cred = widerThan(
      await effectiveCredentialScope(db, session),
      manifest.scopes?.required_credential_scope,
    );
    if (cred.length) return E.scopeTooWide('credential scope', cred.join('; '));
    return { manifest };
  } catch (err) {
    if (err instanceof DaemonError) return err;
    throw err;
  }
}

export class ScheduledFlows implements SchedulePayloadPort, FlowSchedulePort {
  private readonly store: Store;
  private readonly catalog: PlaybookCatalog;
  private readonly runs: () => RunsService;
  constructor(store: Store, catalog: PlaybookCatalog, runs: () => RunsService) {
    this.store = store;
    this.catalog = catalog;
    this.runs = runs;
  }

  async checkScheduled(raw: unknown, sessionId: string): Promise<StoredFlowStart> {
    const parsed = FlowStartPayload.safeParse(raw);
    if (!parsed.success)
      throw new DaemonError(
        400,
        'flows',
        'invalid_request',
        parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
      );
    const body = parsed.data;
    const meta = body.request.metadata;
    if (meta !== undefined && (meta === null || typeof meta !== 'object' || Array.isArray(meta)))
      throw E.metadataNotObject();
    if (meta && FLOW_METADATA_KEY in (meta as object)) throw E.reservedMetadata();
    const checked = await gate(this.store.db, this.catalog, body.playbook_ref, sessionId);
    if (checked instanceof DaemonError) throw checked;
    const request = await this.runs().prepareInput(sessionId, body.request);
    // runtime_defaults apply below an explicit request choice, as POST /v1/flows does.
    const defaults = checked.manifest.runtime_defaults;
    if (defaults?.provider && request.provider === undefined) request.provider = defaults.provider;
    if (defaults?.model && request.generation?.model === undefined)
      request.generation = { ...request.generation, model: defaults.model };
    return { ...body, request };
  }

  async runFor(tx: WriteTx, payload: unknown, fire: ScheduleFire): Promise<ScheduledRun | { skip: string }> {
    const body = payload as StoredFlowStart;
    const ref = body.playbook_ref;
    const checked = await gate(tx.db, this.catalog, ref, fire.session_id);
    if (checked instanceof DaemonError)
      return { skip: `${checked.domain}/${checked.code}: ${checked.detail}` };
    const flowId = `flow-${randomUUID()}`;
    const nonce = randomUUID();
    const md = body.request.metadata as Record<string, unknown> | undefined;
    const request: StoredRunRequest = {
      ...body.request,
      metadata: {
        ...(md ?? {}),
        [FLOW_METADATA_KEY]: {
          flow_id: flowId,
          playbook_id: ref.playbook_id,
          version: ref.version,
          digest: ref.digest,
          nonce,
        },
      },
    };
    return {
      kind: 'scheduled_input',
      request,
      submitted: async (t, run) => {
        await t.db
          .insertInto('flows')
          .values({
            flow_id: flowId,
            idempotency_key: null,
            playbook_id: ref.playbook_id,
            version: ref.version,
            digest: ref.digest,
            session_id: fire.session_id,
            run_id: run.run_id,
            nonce,
            // No caller retries a scheduled start: the occurrence is its identity.
            request_digest: `schedule:${fire.schedule_id}:${run.run_id}`,
            metadata: JSON.stringify({ ...(body.metadata ?? {}), schedule_id: fire.schedule_id }),
            evidence_refs: '[]',
            cancelled_at_ms: null,
            completed_at_ms: null,
            created_at_ms: t.now,
            updated_at_ms: t.now,
          })
          .execute();
        await playbookEvent(t, 'flow_started', ref.playbook_id, flowId, {
          run_id: run.run_id,
          session_id: fire.session_id,
          schedule_id: fire.schedule_id,
        });
      },
    };
  }
}
