// Resource clients for the human loop: approvals of tool calls and structured questions.
import type { DaemonClient } from './client.ts';
import {
  type AnswerOptions,
  type Answers,
  approvalBatch,
  questionResolution,
  type ResolveOptions,
} from './human-loop.ts';
import type {
  CancelQuestionRequest,
  ListResult,
  PendingApprovalView,
  PendingQuestionView,
  QuestionListQuery,
  ResolveApprovalsRequest,
  ResolveUserQuestionRequest,
  RunView,
  SessionView,
} from './types.ts';

export class ApprovalsResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  /** Pending approvals, oldest first; `session_id` narrows to one session. */
  list(query: { session_id?: string } = {}): Promise<PendingApprovalView[]> {
    return this.http.listApprovals(query);
  }

  /** Allows the given pending approvals of one run (an atomic batch); 202 with the run. */
  approve(runId: string, requestIds: string[], opts: ResolveOptions = {}): Promise<RunView> {
    return this.resolve(runId, approvalBatch(requestIds, 'allow', opts));
  }

  /** Denies the given pending approvals of one run; the model is told why (`reason`). */
  deny(runId: string, requestIds: string[], opts: ResolveOptions = {}): Promise<RunView> {
    return this.resolve(runId, approvalBatch(requestIds, 'deny', opts));
  }

  /** The wire form: any mix of allow and deny, `updated_input`, `result` (daemon extension). */
  resolve(runId: string, body: ResolveApprovalsRequest): Promise<RunView> {
    return this.http.resolveRunApprovals(runId, body);
  }

  /** Resolves approvals of whichever run of the session waits; answers with the session. */
  resolveForSession(sessionId: string, body: ResolveApprovalsRequest): Promise<SessionView> {
    return this.http.resolveSessionApprovals(sessionId, body);
  }
}

export class QuestionsResource {
  private readonly http: DaemonClient;

  constructor(http: DaemonClient) {
    this.http = http;
  }

  /** Pending questions (a plain list, or a page with `page`/`cursor`). */
  list(query: QuestionListQuery = {}): Promise<ListResult<PendingQuestionView>> {
    return this.http.listQuestions(query);
  }

  /** Answers one question request: `{ question_id: ['option_id'] }` or `{ question_id: 'text' }`. */
  answer(runId: string, requestId: string, answers: Answers, opts: AnswerOptions = {}): Promise<RunView> {
    return this.resolve(runId, questionResolution(requestId, answers, opts));
  }

  /** Declines to answer; the run goes on without the answers. */
  decline(runId: string, requestId: string, opts: AnswerOptions = {}): Promise<RunView> {
    return this.resolve(runId, questionResolution(requestId, 'declined', opts));
  }

  resolve(runId: string, body: ResolveUserQuestionRequest): Promise<RunView> {
    return this.http.resolveRunQuestion(runId, body);
  }

  resolveForSession(sessionId: string, body: ResolveUserQuestionRequest): Promise<SessionView> {
    return this.http.resolveSessionQuestion(sessionId, body);
  }

  cancel(runId: string, requestId: string, body: CancelQuestionRequest = {}): Promise<RunView> {
    return this.http.cancelQuestion(runId, requestId, body);
  }
}
