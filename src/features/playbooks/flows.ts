// Flows (api-collab §3.5–3.7): starting a Flow submits one ordinary `input` run on the target
// session carrying `kheish_flow` in its metadata; the Flow record only correlates. Reads derive
// the status (projection.ts); cancel delegates to the root run; evidence is appended by kind+id.
import { randomUUID } from 'node:crypto';
import { effectiveCapabilityScope, effectiveCredentialScope } from '../../engine/capability-scope.ts';
import type { Engine } from '../../engine/engine.ts';
import type { StoredRunRequest } from '../../engine/types.ts';
import { buildRunView } from '../../engine/views.ts';
import { getRun } from '../../store/repos/runs.ts';
import { getSession } from '../../store/repos/sessions.ts';
import type { Executor, FlowsTable } from '../../store/schema.ts';
import type { Store } from '../../store/store.ts';
import type { RunsService } from '../runs/service.ts';
import { type PlaybookCatalog, playbookEvent, STARTABLE } from './catalog.ts';
import { pbErrors as E } from './errors.ts';
import { canonicalManifest, sha256Hex } from './manifest.ts';
import { collect, contractOf, deriveStatus, NO_PRIMITIVES, resolves, TERMINAL_FLOW } from './projection.ts';
import type { EvidenceRef, PlaybookManifest, StartFlowRequest } from './schema.ts';
import { widerThan } from './scope-check.ts';
import { productViewChecks, productViewRef, readReport, type VerifyRequest } from './verify.ts';

export const FLOW_METADATA_KEY = 'kheish_flow';
type FlowRow = FlowsTable;

const canonical = (v: unknown) => canonicalManifest({ v } as unknown as PlaybookManifest);

export class FlowsService {
  private readonly store: Store;
  private readonly engine: Engine;
  private readonly catalog: PlaybookCatalog;
  private readonly runs: () => RunsService;

  constructor(store: Store, engine: Engine, catalog: PlaybookCatalog, runs: () => RunsService) {
    this.store = store;
    this.engine = engine;
    this.catalog = catalog;
    this.runs = runs;
  }

  private async manifestOf(db: Executor, flow: FlowRow): Promise<PlaybookManifest> {
    const row = await db
      .selectFrom('playbook_versions')
      .select('manifest')
      .where('playbook_id', '=', flow.playbook_id)
      .where('version', '=', flow.version)
      .executeTakeFirstOrThrow();
    return JSON.parse(row.manifest) as PlaybookManifest;
  }

  async start(body: StartFlowRequest) {
    const meta = body.request.metadata;
    if (meta !== undefined && (meta === null || typeof meta !== 'object' || Array.isArray(meta)))
      throw E.metadataNotObject();
    if (meta && FLOW_METADATA_KEY in (meta as object)) throw E.reservedMetadata();
    const ref = body.playbook_ref;
    const evidence = body.evidence_refs ?? [];
    // What a retry must repeat (the request compared by digest, decision 395).
    const requestDigest = sha256Hex(
      canonical({
        idempotency_key: body.idempotency_key ?? null,
        playbook_ref: ref,
        session_id: body.session_id,
        request: body.request,
        metadata: body.metadata ?? null,
        evidence_refs: evidence,
      }),
    );
    // The standard session-run path: normalization, reply targets, the session's input contract.
    const submitted = await this.runs().prepareInput(body.session_id, body.request);
    const flowId = await this.store.write(async (tx) => {
      const existing = await this.existing(tx.db, body);
      if (existing) {
        if (existing.request_digest !== requestDigest) throw E.flowConflict(existing.flow_id);
        return existing.flow_id;
      }
      const version = await this.catalog.version(tx.db, ref.playbook_id, ref.version, ref.digest);
      if (!STARTABLE.has(version.status)) throw E.notStartable(ref.playbook_id, ref.version, version.status);
      const manifest = JSON.parse(version.manifest) as PlaybookManifest;
      const session = await getSession(tx.db, body.session_id);
      if (!session) throw E.sessionNotFound(body.session_id);
      const cap = widerThan(
        await effectiveCapabilityScope(tx.db, session),
        manifest.scopes?.required_capability_scope,
      );
      if (cap.length) throw E.scopeTooWide('capability scope', cap.join('; '));
      const cred = widerThan(
        await effectiveCredentialScope(tx.db, session),
        manifest.scopes?.required_credential_scope,
      );
      if (cred.length) throw E.scopeTooWide('credential scope', cred.join('; '));
      const id = body.flow_id ?? `flow-${randomUUID()}`;
      const nonce = randomUUID();
      const request: StoredRunRequest = {
        ...submitted,
        metadata: {
          ...((meta as Record<string, unknown> | undefined) ?? {}),
          [FLOW_METADATA_KEY]: {
            flow_id: id,
            playbook_id: ref.playbook_id,
            version: ref.version,
            digest: ref.digest,
            nonce,
          },
        },
      };
      // runtime_defaults apply through normal route selection, below an explicit request choice.
      const defaults = manifest.runtime_defaults;
      if (defaults?.provider && request.provider === undefined) request.provider = defaults.provider;
      if (defaults?.model && request.generation?.model === undefined)
        request.generation = { ...request.generation, model: defaults.model };
      const { run } = await this.engine.submitInTx(tx, session.session_id, request, { kind: 'input' });
      await tx.db
        .insertInto('flows')
        .values({
          flow_id: id,
          idempotency_key: body.idempotency_key ?? null,
          playbook_id: ref.playbook_id,
          version: ref.version,
          digest: ref.digest,
          session_id: session.session_id,
          run_id: run.run_id,
          nonce,
          request_digest: requestDigest,
          metadata: body.metadata ? JSON.stringify(body.metadata) : null,
          evidence_refs: JSON.stringify(evidence),
          cancelled_at_ms: null,
          completed_at_ms: null,
          created_at_ms: tx.now,
          updated_at_ms: tx.now,
        })
        .execute();
      await playbookEvent(tx, 'flow_started', ref.playbook_id, id, {
        run_id: run.run_id,
        session_id: session.session_id,
      });
      return id;
    });
    return this.get(flowId);
  }

  /** The Flow a retry names: by flow_id, else by idempotency key on the same session. */
  private async existing(db: Executor, body: StartFlowRequest): Promise<FlowRow | undefined> {
    if (body.flow_id)
      return db.selectFrom('flows').selectAll().where('flow_id', '=', body.flow_id).executeTakeFirst();
    if (!body.idempotency_key) return undefined;
    return db
      .selectFrom('flows')
      .selectAll()
      .where('idempotency_key', '=', body.idempotency_key)
      .where('session_id', '=', body.session_id)
      .executeTakeFirst();
  }

  private async row(db: Executor, flowId: string): Promise<FlowRow> {
    const row = await db.selectFrom('flows').selectAll().where('flow_id', '=', flowId).executeTakeFirst();
    if (!row) throw E.flowNotFound(flowId);
    return row;
  }

  async get(flowId: string) {
    return this.view(await this.row(this.store.db, flowId));
  }

  async list(q: { playbook_id?: string; session_id?: string; status?: string }) {
    let query = this.store.db.selectFrom('flows').selectAll().orderBy('created_at_ms').orderBy('flow_id');
    if (q.playbook_id) query = query.where('playbook_id', '=', q.playbook_id);
    if (q.session_id) query = query.where('session_id', '=', q.session_id);
    const views = await Promise.all((await query.execute()).map((r) => this.view(r)));
    return q.status ? views.filter((v) => v.status === q.status) : views;
  }

  /** The projection; the first terminal one records its boundary (never the status itself). */
  async view(flow: FlowRow) {
    const db = this.store.db;
    const manifest = await this.manifestOf(db, flow);
    const until = flow.completed_at_ms === null ? null : Number(flow.completed_at_ms);
    const p = flow.run_id ? await collect(db, flow.run_id, until) : null;
    const evidence = JSON.parse(flow.evidence_refs) as EvidenceRef[];
    const { contract, phase_states } = contractOf(manifest, flow.flow_id, evidence, p ?? NO_PRIMITIVES);
    const status = deriveStatus(flow, p, contract);
    let completedAt = until;
    if (completedAt === null && TERMINAL_FLOW.has(status)) {
      completedAt = await this.store.write(async (tx) => {
        await tx.db
          .updateTable('flows')
          .set({ completed_at_ms: tx.now })
          .where('flow_id', '=', flow.flow_id)
          .where('completed_at_ms', 'is', null)
          .execute();
        const r = await this.row(tx.db, flow.flow_id);
        return Number(r.completed_at_ms);
      });
    }
    const root = p?.runs.find((r) => r.run_id === flow.run_id);
    return {
      flow_id: flow.flow_id,
      status,
      playbook_ref: { playbook_id: flow.playbook_id, version: flow.version, digest: flow.digest },
      session_id: flow.session_id,
      run_id: flow.run_id,
      primitive_refs: {
        run_ids: p?.runs.map((r) => r.run_id) ?? [],
        task_ids: p?.tasks.map((t) => t.task_id) ?? [],
        agent_ids: p?.agent_ids ?? [],
        approval_ids: p?.approval_ids ?? [],
        question_ids: p?.question_ids ?? [],
        schedule_ids: p?.schedule_ids ?? [],
        output_ids: p?.output_ids ?? [],
      },
      phase_states: phase_states.map((ph) =>
        ph.status === 'pending' && status === 'succeeded' ? { ...ph, status: 'satisfied' } : ph,
      ),
      contract,
      run: root ? await buildRunView(db, root) : null,
      run_stream_url: flow.run_id ? `/v1/runs/${flow.run_id}/stream` : null,
      created_at_ms: Number(flow.created_at_ms),
      updated_at_ms: Number(flow.updated_at_ms),
      completed_at_ms: completedAt,
      cancelled_at_ms: flow.cancelled_at_ms === null ? null : Number(flow.cancelled_at_ms),
      metadata: flow.metadata ? (JSON.parse(flow.metadata) as unknown) : null,
      evidence_refs: evidence,
    };
  }

  async rootRunId(flowId: string): Promise<string | null> {
    return (await this.row(this.store.db, flowId)).run_id;
  }

  /** Delegates to the root run; a terminal root run stays as it is. */
  async cancel(flowId: string) {
    const flow = await this.row(this.store.db, flowId);
    if (!flow.run_id) {
      await this.store.write(async (tx) => {
        await tx.db
          .updateTable('flows')
          .set({ cancelled_at_ms: tx.now, updated_at_ms: tx.now })
          .where('flow_id', '=', flowId)
          .where('cancelled_at_ms', 'is', null)
          .execute();
        await playbookEvent(tx, 'flow_cancelled', flow.playbook_id, flowId, { run_id: null });
      });
      return this.get(flowId);
    }
    const run = await getRun(this.store.db, flow.run_id);
    if (run && !['completed', 'failed', 'cancelled', 'interrupted'].includes(run.status))
      await this.engine.cancel(flow.run_id);
    return this.get(flowId);
  }

  /** The product-view verifier (verify.ts); a pass records a `product_view` evidence ref. */
  async verifyProductView(flowId: string, body: VerifyRequest) {
    const flow = await this.row(this.store.db, flowId);
    const report = await readReport(this.engine.opts.workspaceRoot, body.report_path);
    const manifest = await this.manifestOf(this.store.db, flow);
    const p = flow.run_id ? await collect(this.store.db, flow.run_id, null) : NO_PRIMITIVES;
    const checks = productViewChecks(report, body, manifest, p);
    const passed = checks.every((c) => c.passed);
    const evidence = passed ? [productViewRef(report.path)] : [];
    if (passed) await this.appendEvidence(flowId, evidence);
    return { flow_id: flowId, passed, checks, evidence };
  }

  /** Idempotent by kind+id; known primitive kinds must resolve inside the projection. */
  async appendEvidence(flowId: string, refs: EvidenceRef[]) {
    await this.store.write(async (tx) => {
      const flow = await this.row(tx.db, flowId);
      const p = flow.run_id ? await collect(tx.db, flow.run_id, null) : null;
      for (const r of refs) {
        const ok = resolves(r, flowId, p ?? NO_PRIMITIVES);
        if (!ok) throw E.evidenceUnresolved(r.kind, r.id);
      }
      const current = JSON.parse(flow.evidence_refs) as EvidenceRef[];
      const keys = new Set(current.map((e) => `${e.kind}:${e.id}`));
      const added = refs.filter((r) => {
        const k = `${r.kind}:${r.id}`;
        if (keys.has(k)) return false;
        keys.add(k);
        return true;
      });
      if (!added.length) return;
      await tx.db
        .updateTable('flows')
        .set({ evidence_refs: JSON.stringify([...current, ...added]), updated_at_ms: tx.now })
        .where('flow_id', '=', flowId)
        .execute();
      await playbookEvent(tx, 'flow_evidence_appended', flow.playbook_id, flowId, { evidence_refs: added });
    });
    return this.get(flowId);
  }
}
