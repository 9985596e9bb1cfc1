// Structured questions: listing pending requests, validating answers against the request
// (api-core §4.6 error catalogue), resuming the exact waiting run, cancel and expiry.

import type { Engine } from '../../engine/engine.ts';
import { questionResolved } from '../../engine/question-traces.ts';
import { appendTraces } from '../../engine/traces.ts';
import { buildRunView, buildSessionView } from '../../engine/views.ts';
import { DaemonError, errors } from '../../errors/daemon-error.ts';
import {
  pendingQuestions,
  type QuestionRow,
  questionsOfRun,
  setQuestionStatus,
} from '../../store/repos/approvals.ts';
import { getRun, liveRunsOfSession, type RunRow } from '../../store/repos/runs.ts';
import { getSession } from '../../store/repos/sessions.ts';
import type { UserQuestionRequest } from '../../tools/control/question.ts';
import { fingerprint, idempotencyKey, sha256 } from '../runs/service.ts';
import type { CancelQuestionRequest, ResolveUserQuestionRequest, UserQuestionResolution } from './schema.ts';

const bad = (code: string, detail: string) => new DaemonError(400, 'questions', code, detail);
const conflict = (code: string, detail: string) => new DaemonError(409, 'questions', code, detail);

/** What a settled question keeps of the request that settled it (answer or cancel). */
const receipt = (resolution: string | null): { fingerprint?: string; key_hash?: string } =>
  resolution ? JSON.parse(resolution) : {};

/**
 * Receipts are per run (api-core §13, item 6): a key already used on this run for another answer or
 * cancel — even of another question of the run — is a conflict. True when this is a replay.
 */
function replayedKey(rows: QuestionRow[], key: string | null, print: string): boolean {
  if (key === null) return false;
  const used = rows.map((q) => receipt(q.resolution)).filter((r) => r.key_hash === sha256(key));
  if (used.some((r) => r.fingerprint !== print))
    throw new DaemonError(
      409,
      'idempotency',
      'idempotency_conflict',
      'this idempotency key was used for a different answer or cancel on this run; use a new key',
    );
  return used.length > 0;
}

/** Checks a resolution against its request; throws the first catalogue error that applies. */
export function validateResolution(request: UserQuestionRequest, res: UserQuestionResolution): void {
  if (res.request_id !== request.id)
    throw bad(
      'question_request_mismatch',
      `request_id ${res.request_id} is not the pending request ${request.id}`,
    );
  if (res.declined) {
    if (res.answers.length > 0)
      throw bad('question_declined_with_answers', 'a declined resolution carries no answers');
    return;
  }
  const byId = new Map(request.questions.map((q) => [q.id, q]));
  const seen = new Set<string>();
  for (const a of res.answers) {
    const q = byId.get(a.question_id);
    if (!q) throw bad('question_unknown_answer', `no question ${a.question_id} in request ${request.id}`);
    if (seen.has(a.question_id))
      throw bad('question_duplicate_answer', `question ${a.question_id} is answered twice`);
    seen.add(a.question_id);
    if (new Set(a.selected_option_ids).size !== a.selected_option_ids.length)
      throw bad('question_duplicate_option', `an option is selected twice for question ${a.question_id}`);
    for (const o of a.selected_option_ids)
      if (!q.options.some((opt) => opt.id === o))
        throw bad('question_option_not_found', `question ${q.id} has no option ${o}`);
    if (!q.multi_select && a.selected_option_ids.length > 1)
      throw bad('question_single_select_violation', `question ${q.id} accepts one option`);
    if (a.selected_option_ids.length === 0 && !a.freeform_answer?.trim())
      throw bad('question_answer_empty', `the answer to ${q.id} selects nothing and has no text`);
  }
  for (const q of request.questions)
    if (!seen.has(q.id))
      throw bad(
        'question_answer_missing',
        `question ${q.id} has no answer; all questions are answered at once`,
      );
}

export class QuestionsService {
  private readonly engine: Engine;
  constructor(engine: Engine) {
    this.engine = engine;
  }
  private get db() {
    return this.engine.store.db;
  }

  async list(filter: { session_id?: string; after?: string; limit?: number }) {
    const rows = await pendingQuestions(this.db, filter);
    return Promise.all(rows.map((q) => this.view(q)));
  }

  private async view(q: QuestionRow) {
    const run = await getRun(this.db, q.run_id);
    const asks = run ? this.engine.questionRuns.get(run.kind) : undefined;
    return {
      session_id: q.session_id,
      agent_id: run?.agent_id,
      run_id: q.run_id,
      run_kind: run?.kind,
      ...(run && asks ? await asks.requester(this.db, run) : {}),
      request: JSON.parse(q.request),
    };
  }

  async resolveForRun(
    runId: string,
    body: ResolveUserQuestionRequest,
    header: string | string[] | undefined,
  ): Promise<RunRow> {
    const key = idempotencyKey(header, body.idempotency_key);
    const print = fingerprint(body.resolution);
    let resume: RunRow | null = null;
    const run = await this.engine.store.write(async (tx) => {
      const current = await getRun(tx.db, runId);
      if (!current) throw errors.runNotFound(runId);
      const rows = await questionsOfRun(tx.db, runId);
      if (replayedKey(rows, key, print)) return current;
      // The same answer again without a key: the same outcome.
      const target = rows.find((q) => q.request_id === body.resolution.request_id);
      if (target && target.status !== 'pending' && receipt(target.resolution).fingerprint === print)
        return current;
      if (current.status !== 'waiting_for_user_question')
        throw conflict(
          'question_state_conflict',
          `run ${runId} is ${current.status}, not waiting for a question`,
        );
      const pending = rows.find((q) => q.status === 'pending');
      if (!pending) throw conflict('question_state_conflict', `run ${runId} has no pending question`);
      if (pending.expires_at_ms !== null && pending.expires_at_ms <= tx.now)
        throw conflict('question_expired', `question ${pending.request_id} expired`);
      validateResolution(JSON.parse(pending.request) as UserQuestionRequest, body.resolution);
      const stored = {
        ...body.resolution,
        fingerprint: print,
        key_hash: key === null ? undefined : sha256(key),
      };
      await setQuestionStatus(
        tx.db,
        pending.request_id,
        body.resolution.declined ? 'declined' : 'answered',
        stored,
        tx.now,
      );
      const asks = this.engine.questionRuns.get(current.kind);
      if (asks) {
        // A parent clarification: the answer goes to the child and this run completes.
        await asks.resolve(tx, current, { ...body.resolution, source: 'operator' });
        return this.engine.transition(tx, runId, 'completed');
      }
      await appendTraces(this.engine.events, tx, current, [
        questionResolved(pending, body.resolution.declined ? 'declined' : 'answered', body.resolution),
      ]);
      await this.engine.recordRunChange(tx, current, {
        type: 'user_question_resolved',
        resolution: body.resolution,
      });
      resume = await this.engine.transition(tx, runId, 'running');
      return resume;
    });
    if (resume) this.engine.resume(resume);
    return run;
  }

  async resolveForRunView(
    runId: string,
    body: ResolveUserQuestionRequest,
    header: string | string[] | undefined,
  ) {
    const run = await this.resolveForRun(runId, body, header);
    return buildRunView(this.db, (await getRun(this.db, run.run_id)) ?? run);
  }

  async resolveForSession(
    sessionId: string,
    body: ResolveUserQuestionRequest,
    header: string | string[] | undefined,
  ) {
    const session = await getSession(this.db, sessionId);
    if (!session) throw errors.sessionNotFound(sessionId);
    const owner = await this.db
      .selectFrom('questions')
      .select('run_id')
      .where('request_id', '=', body.resolution.request_id)
      .where('session_id', '=', sessionId)
      .executeTakeFirst();
    const waiting = (await liveRunsOfSession(this.db, sessionId)).find(
      (r) => r.status === 'waiting_for_user_question',
    );
    const runId = owner?.run_id ?? waiting?.run_id;
    if (!runId)
      throw conflict('question_state_conflict', `session ${sessionId} has no run waiting for a question`);
    await this.resolveForRun(runId, body, header);
    return buildSessionView(this.db, (await getSession(this.db, sessionId))!);
  }

  /** Cancels the waiting run after checking the request is the one pending on it. */
  async cancel(
    runId: string,
    requestId: string,
    body: CancelQuestionRequest,
    header: string | string[] | undefined,
  ) {
    const key = idempotencyKey(header, body?.idempotency_key);
    const print = fingerprint({ cancel: requestId });
    await this.engine.store.write(async (tx) => {
      const run = await getRun(tx.db, runId);
      if (!run) throw errors.runNotFound(runId);
      const rows = await questionsOfRun(tx.db, runId);
      if (replayedKey(rows, key, print)) return;
      const q = rows.find((x) => x.request_id === requestId);
      if (q && q.status === 'cancelled') return;
      if (q?.status !== 'pending')
        throw bad('question_request_mismatch', `question ${requestId} is not pending on run ${runId}`);
      const stored = { fingerprint: print, key_hash: key === null ? undefined : sha256(key) };
      await setQuestionStatus(tx.db, requestId, 'cancelled', stored, tx.now);
      const asks = this.engine.questionRuns.get(run.kind);
      if (asks) {
        // Cancelling a parent clarification declines it; the run completes (api-core §4.1).
        await asks.resolve(tx, run, { declined: true, answers: [], source: 'operator_cancel' });
        await this.engine.transition(tx, runId, 'completed');
        return;
      }
      await appendTraces(this.engine.events, tx, run, [questionResolved(q, 'cancelled')]);
      await this.engine.transition(tx, runId, 'cancelled', {
        error: `question ${requestId} was cancelled by the operator`,
      });
    });
    return buildRunView(this.db, (await getRun(this.db, runId))!);
  }
}
