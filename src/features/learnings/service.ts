// Learning candidates (api-collab §4.3): creation through the API or by daemon capture, listing,
// operator publication and rejection. Every change commits with a `learning_candidate_updated`
// event; automatic review (automation.ts) runs after the candidate is durable.

import type { Logger } from 'pino';
import { monotonicFactory } from 'ulid';
import type { Engine } from '../../engine/engine.ts';
import { dialectOf } from '../../store/dialect.ts';
import type { Executor } from '../../store/schema.ts';
import type { WriteTx } from '../../store/store.ts';
import { learningErrors as E } from './errors.ts';
import type { LearningLifecycle } from './lifecycle.ts';
import { defaultPolicy, type LearningPolicy, normalizePolicy } from './policy.ts';
import { type PublishResult, publishInTx } from './publish.ts';
import { type CandidateRow, candidateEvent, candidateView, type EventAppender } from './repo.ts';
import type {
  CandidateView,
  CreateCandidateRequest,
  ListCandidatesQuery,
  PublishCandidateRequest,
} from './schema.ts';
import { matchesQuery, semanticKey } from './semantic.ts';
import {
  checkConfidence,
  checkContent,
  checkEvidence,
  checkReason,
  scopeFilter,
  scopeOf,
} from './validate.ts';

const ulid = monotonicFactory();
export const newCandidateId = () => `candidate-${ulid().toLowerCase()}`;

/** How long an unreviewed daemon run summary is kept (30 days, the run-memory retention default). */
export const RUN_SUMMARY_RETENTION_MS = 30 * 24 * 3600 * 1000;

/** A candidate about to be inserted (fields already checked). */
export type CandidateDraft = Omit<CandidateRow, 'created_at_ms' | 'updated_at_ms'>;

export class CandidatesService {
  readonly engine: Engine;
  readonly events: EventAppender;
  readonly log: Logger;
  private current: LearningPolicy = defaultPolicy();
  /** Set by the feature: the automatic reviewer and the learning lifecycle (for retire notices). */
  review: (candidateId: string) => Promise<void> = async () => undefined;
  lifecycle!: LearningLifecycle;

  constructor(engine: Engine, log: Logger) {
    this.engine = engine;
    this.events = engine.events;
    this.log = log;
  }

  get store() {
    return this.engine.store;
  }

  /** The automation policy in force (runtime setting `learning_policy`). */
  policy(): LearningPolicy {
    return this.current;
  }

  /** Puts a persisted policy in force; one this build cannot read falls back to the default. */
  applyPolicy(value: unknown): void {
    try {
      this.current = value === undefined || value === null ? defaultPolicy() : normalizePolicy(value);
    } catch (e) {
      this.current = defaultPolicy();
      this.log.warn(
        { err: (e as Error).message },
        'persisted learning policy is invalid for this build: default policy in force',
      );
    }
  }

  async row(db: Executor, id: string, lock = false): Promise<CandidateRow> {
    let q = db.selectFrom('learning_candidates').selectAll().where('candidate_id', '=', id);
    if (lock && dialectOf(db) === 'postgres') q = q.forUpdate();
    const r = await q.executeTakeFirst();
    if (!r) throw E.candidateNotFound(id);
    return r;
  }

  /** Inserts a candidate with its event; a daemon capture already recorded inserts nothing (null). */
  async insert(tx: WriteTx, draft: CandidateDraft): Promise<CandidateRow | null> {
    const row: CandidateRow = { ...draft, created_at_ms: tx.now, updated_at_ms: tx.now };
    const res = await tx.db
      .insertInto('learning_candidates')
      .values(row)
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    if (Number(res.numInsertedOrUpdatedRows ?? 0n) === 0) return null;
    await candidateEvent(tx, this.events, row);
    return row;
  }

  async create(body: CreateCandidateRequest): Promise<CandidateView> {
    const bad = E.invalidCandidate;
    if (body.kind === 'run_summary')
      throw bad(
        'run_summary candidates are captured by the daemon from terminal runs; the API cannot create them',
      );
    const scope = scopeOf(body.scope, bad);
    const content = checkContent(body.content, bad);
    const draft: CandidateDraft = {
      candidate_id: newCandidateId(),
      origin: 'api',
      state: 'pending',
      scope_kind: scope.kind,
      scope_id: scope.id,
      kind: body.kind,
      sensitivity: body.sensitivity ?? 'scoped',
      content,
      confidence: checkConfidence(body.confidence, 80, bad),
      source: JSON.stringify(body.source ?? {}),
      evidence_refs: JSON.stringify(checkEvidence(body.evidence_refs)),
      expires_at_ms: body.expires_at_ms ?? null,
      semantic_key: semanticKey(content),
      capture_run_id: null,
      automation_review: null,
      published_learning_id: null,
      reject_reason: null,
    };
    await this.store.write((tx) => this.insert(tx, draft));
    await this.review(draft.candidate_id).catch((e: unknown) =>
      this.log.warn(
        { err: (e as Error).message, candidate_id: draft.candidate_id },
        'learning review failed',
      ),
    );
    return this.get(draft.candidate_id);
  }

  /**
   * Run summaries are captured after every run; the ones nobody reviewed (still pending, daemon
   * origin) are dropped after RUN_SUMMARY_RETENTION_MS so the table does not grow with every run
   * forever (decision 502). Reviewed, escalated, published and rejected candidates are kept.
   */
  async pruneStaleRunSummaries(nowMs = Date.now()): Promise<number> {
    const stale = (db: Executor) =>
      db
        .selectFrom('learning_candidates')
        .select('candidate_id')
        .where('origin', '=', 'daemon')
        .where('kind', '=', 'run_summary')
        .where('state', '=', 'pending')
        .where('created_at_ms', '<', nowMs - RUN_SUMMARY_RETENTION_MS)
        .limit(500);
    // Read first: a sweep with nothing to drop writes nothing.
    if (!(await stale(this.store.db).execute()).length) return 0;
    return this.store.write(async (tx) => {
      const ids = (await stale(tx.db).execute()).map((r) => r.candidate_id);
      if (ids.length)
        await tx.db.deleteFrom('learning_candidates').where('candidate_id', 'in', ids).execute();
      return ids.length;
    });
  }

  async get(id: string): Promise<CandidateView> {
    return candidateView(await this.row(this.store.db, id));
  }

  /** Newest first; `query` matches content terms. */
  async list(q: ListCandidatesQuery): Promise<CandidateView[]> {
    const scope = scopeFilter(q);
    let sel = this.store.db.selectFrom('learning_candidates').selectAll();
    if (scope.kind) sel = sel.where('scope_kind', '=', scope.kind).where('scope_id', '=', scope.id!);
    if (q.kind) sel = sel.where('kind', '=', q.kind);
    if (q.state) sel = sel.where('state', '=', q.state);
    const rows = await sel.orderBy('created_at_ms', 'desc').orderBy('candidate_id', 'desc').execute();
    return rows.filter((r) => q.query === undefined || matchesQuery(r.content, q.query)).map(candidateView);
  }

  /** Operator publication: policy_decision manual, policy_actor operator (api-collab §4.3). */
  async publish(id: string, body: PublishCandidateRequest | null | undefined) {
    const b = body ?? {};
    const bad = E.invalidCandidate;
    const tier = b.publish_tier ?? 'active';
    if (b.supersedes !== undefined && tier !== 'active')
      throw bad('supersedes is accepted only with publish_tier=active');
    const result: PublishResult = await this.store.write(async (tx) => {
      const c = await this.row(tx.db, id, true);
      if (c.state !== 'pending' && c.state !== 'escalated') throw E.candidateState(id, c.state);
      if (b.kind === 'run_summary' && c.kind !== 'run_summary')
        throw bad('run_summary is daemon-owned: a candidate cannot be published as one');
      const scope = b.scope ? scopeOf(b.scope, bad) : { kind: c.scope_kind, id: c.scope_id };
      return publishInTx(tx, this.events, c, {
        scope_kind: scope.kind,
        scope_id: scope.id,
        kind: b.kind ?? c.kind,
        sensitivity: b.sensitivity ?? c.sensitivity,
        content: b.content === undefined ? c.content : checkContent(b.content, bad),
        confidence: checkConfidence(b.confidence, Number(c.confidence), bad),
        expires_at_ms:
          b.expires_at_ms === undefined
            ? c.expires_at_ms === null
              ? null
              : Number(c.expires_at_ms)
            : b.expires_at_ms,
        publish_tier: tier,
        evidence_refs:
          b.evidence_refs === undefined ? JSON.parse(c.evidence_refs) : checkEvidence(b.evidence_refs),
        source: JSON.parse(c.source),
        supersedes: b.supersedes ?? null,
        policy_decision: 'manual',
        policy_actor: 'operator',
        matched_rule_name: null,
        verification_status: 'unverified',
      });
    });
    await this.lifecycle.retired(result.retired, 'superseded');
    return this.lifecycle.get(result.learning.learning_id);
  }

  async reject(id: string, reason: string | undefined): Promise<CandidateView> {
    const why = checkReason(reason);
    await this.store.write(async (tx) => {
      const c = await this.row(tx.db, id, true);
      if (c.state !== 'pending' && c.state !== 'escalated') throw E.candidateState(id, c.state);
      await tx.db
        .updateTable('learning_candidates')
        .set({ state: 'rejected', reject_reason: why, updated_at_ms: tx.now })
        .where('candidate_id', '=', id)
        .execute();
      await candidateEvent(tx, this.events, { ...c, state: 'rejected', reject_reason: why });
    });
    return this.get(id);
  }
}
