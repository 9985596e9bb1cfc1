// Published learnings (api-collab §4.4): listing with every filter, detail, revoke, supersede,
// bulk revoke-matching, expiry, and the port other features read (live learnings by scope, one
// learning by id, a notice when a learning is revoked or superseded).
import type { Logger } from 'pino';
import type { Store } from '../../store/store.ts';
import { learningErrors as E } from './errors.ts';
import type { LearningScope, LearningsPort } from './port.ts';
import { learningById, publishInTx } from './publish.ts';
import {
  type EventAppender,
  effectiveStatus,
  type LearningRow,
  type LearningView,
  learningEvent,
  learningView,
} from './repo.ts';
import type { LearningFilters, RevokeMatchingRequest, SupersedeRequest } from './schema.ts';
import { matchesQuery } from './semantic.ts';
import { checkConfidence, checkContent, checkReason, scopeFilter, scopeOf } from './validate.ts';

export type RetireChange = 'revoked' | 'superseded';
/** Called after a learning is revoked or superseded (the promoted-skill feature revokes its skill). */
export type RetiredListener = (learning: LearningView, change: RetireChange) => Promise<void> | void;

const LIVE = ['active', 'provisional'];

export class LearningLifecycle implements LearningsPort {
  private readonly store: Store;
  private readonly events: EventAppender;
  private readonly log: Logger;
  private readonly listeners: RetiredListener[] = [];

  constructor(store: Store, events: EventAppender, log: Logger) {
    this.store = store;
    this.events = events;
    this.log = log;
  }

  onRetired(listener: RetiredListener): void {
    this.listeners.push(listener);
  }

  /** Tells the listeners, after commit; a listener's failure is logged, never the caller's. */
  async retired(rows: LearningRow[], change: RetireChange): Promise<void> {
    for (const r of rows)
      for (const l of this.listeners)
        await Promise.resolve()
          .then(() => l(learningView(r), change))
          .catch((e: unknown) =>
            this.log.warn(
              { err: (e as Error).message, learning_id: r.learning_id },
              'learning retire listener failed',
            ),
          );
  }

  async row(id: string): Promise<LearningRow> {
    const r = await learningById(this.store.db, id);
    if (!r) throw E.learningNotFound(id);
    return r;
  }

  async get(id: string): Promise<LearningView> {
    return learningView(await this.row(id));
  }

  /** The learning, or null (for other features). */
  async find(id: string): Promise<LearningView | null> {
    const r = await learningById(this.store.db, id);
    return r ? learningView(r) : null;
  }

  /** Newest first. `status` filters on the effective status (an expired record reads `expired`). */
  async list(q: LearningFilters): Promise<LearningView[]> {
    const scope = scopeFilter(q);
    let sel = this.store.db.selectFrom('learnings').selectAll();
    if (scope.kind) sel = sel.where('scope_kind', '=', scope.kind).where('scope_id', '=', scope.id!);
    if (q.kind) sel = sel.where('kind', '=', q.kind);
    if (q.policy_decision) sel = sel.where('policy_decision', '=', q.policy_decision);
    if (q.policy_actor) sel = sel.where('policy_actor', '=', q.policy_actor);
    if (q.matched_rule_name) sel = sel.where('matched_rule_name', '=', q.matched_rule_name);
    const rows = await sel.orderBy('created_at_ms', 'desc').orderBy('learning_id', 'desc').execute();
    const now = Date.now();
    return rows
      .filter((r) => q.status === undefined || effectiveStatus(r, now) === q.status)
      .filter((r) => q.query === undefined || matchesQuery(r.content, q.query))
      .map((r) => learningView(r, now));
  }

  async revoke(id: string, reason: string | undefined): Promise<LearningView> {
    const why = checkReason(reason);
    const done = await this.store.write(async (tx) => {
      const r = await learningById(tx.db, id);
      if (!r) throw E.learningNotFound(id);
      if (!LIVE.includes(r.status)) throw E.learningState(id, r.status, 'revoked');
      return this.revokeInTx(tx, r, why);
    });
    await this.retired([done], 'revoked');
    return learningView(done);
  }

  private async revokeInTx(
    tx: Parameters<Parameters<Store['write']>[0]>[0],
    r: LearningRow,
    why: string | null,
  ) {
    const next = {
      ...r,
      status: 'revoked',
      revoke_reason: why,
      revoked_at_ms: tx.now,
      updated_at_ms: tx.now,
    };
    await tx.db
      .updateTable('learnings')
      .set({ status: 'revoked', revoke_reason: why, revoked_at_ms: tx.now, updated_at_ms: tx.now })
      .where('learning_id', '=', r.learning_id)
      .execute();
    await learningEvent(tx, this.events, next);
    return next;
  }

  /** A new active learning in the same scope; the old one becomes `superseded`. */
  async supersede(id: string, body: SupersedeRequest): Promise<LearningView> {
    const bad = E.invalidLearning;
    const content = checkContent(body.content, bad);
    const result = await this.store.write(async (tx) => {
      const old = await learningById(tx.db, id);
      if (!old) throw E.learningNotFound(id);
      if (!LIVE.includes(old.status)) throw E.learningState(id, old.status, 'superseded');
      if (body.scope) {
        const s = scopeOf(body.scope, bad);
        if (s.kind !== old.scope_kind || s.id !== old.scope_id)
          throw bad(
            'a replacement must stay in the scope of the learning it supersedes; publish a new learning and revoke the old one to move scopes',
          );
      }
      if (body.kind === 'run_summary' && old.kind !== 'run_summary') throw bad('run_summary is daemon-owned');
      return publishInTx(tx, this.events, null, {
        scope_kind: old.scope_kind,
        scope_id: old.scope_id,
        kind: body.kind ?? old.kind,
        sensitivity: body.sensitivity ?? old.sensitivity,
        content,
        confidence: checkConfidence(body.confidence, Number(old.confidence), bad),
        expires_at_ms: body.expires_at_ms ?? null,
        publish_tier: 'active',
        evidence_refs: JSON.parse(old.evidence_refs),
        source: JSON.parse(old.source),
        supersedes: id,
        policy_decision: 'manual',
        policy_actor: 'operator',
        matched_rule_name: null,
        verification_status: 'unverified',
      });
    });
    await this.retired(result.retired, 'superseded');
    return learningView(result.learning);
  }

  /**
   * Revokes every live learning the filters match. An empty filter set would revoke everything,
   * so it needs `all: true` (decision 487).
   */
  async revokeMatching(
    body: RevokeMatchingRequest,
  ): Promise<{ revoked_count: number; learning_ids: string[] }> {
    const { reason, all, ...filters } = body;
    const why = checkReason(reason);
    // A blank filter (`query: ""`) narrows nothing: it does not count as one.
    const given = Object.values(filters).some((v) => v !== undefined && v !== '');
    if (!given && all !== true)
      throw E.invalidFilter(
        'no filter given: this would revoke every learning; add filters or send `all: true`',
      );
    if (filters.status !== undefined && !LIVE.includes(filters.status))
      throw E.invalidFilter('only active or provisional learnings can be revoked');
    const ids = (await this.list(filters)).filter((l) => LIVE.includes(l.status)).map((l) => l.learning_id);
    const done: LearningRow[] = [];
    if (ids.length)
      await this.store.write(async (tx) => {
        for (const id of ids) {
          const r = await learningById(tx.db, id);
          if (r && LIVE.includes(r.status)) done.push(await this.revokeInTx(tx, r, why));
        }
      });
    await this.retired(done, 'revoked');
    return { revoked_count: done.length, learning_ids: done.map((r) => r.learning_id) };
  }

  /** Live records past their expiry become `expired` durably (the views already read them so). */
  async sweepExpired(nowMs = Date.now()): Promise<number> {
    const due = await this.store.db
      .selectFrom('learnings')
      .selectAll()
      .where('status', 'in', LIVE)
      .where('expires_at_ms', '<=', nowMs)
      .execute();
    if (!due.length) return 0;
    await this.store.write(async (tx) => {
      for (const r of due) {
        await tx.db
          .updateTable('learnings')
          .set({ status: 'expired', updated_at_ms: tx.now })
          .where('learning_id', '=', r.learning_id)
          .where('status', 'in', LIVE)
          .execute();
        await learningEvent(tx, this.events, { ...r, status: 'expired', updated_at_ms: tx.now });
      }
    });
    return due.length;
  }

  async liveInScopes(scopes: readonly LearningScope[], nowMs: number) {
    if (!scopes.length) return [];
    const rows = await this.store.db
      .selectFrom('learnings')
      .selectAll()
      .where('status', 'in', LIVE)
      .where((eb) =>
        eb.or(scopes.map((s) => eb.and([eb('scope_kind', '=', s.kind), eb('scope_id', '=', s.id)]))),
      )
      .orderBy('created_at_ms', 'desc')
      .orderBy('learning_id', 'desc')
      .execute();
    return rows.filter((r) => effectiveStatus(r, nowMs) !== 'expired').map((r) => learningView(r, nowMs));
  }
}
