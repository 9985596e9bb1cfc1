// Parking a tool batch for a human: approvals for calls the policy (or an unknown outcome after a
// restart) sends to the operator, or the question the model asked. Each park is one transaction
// that also carries the batch's first write (the assistant turn, its audits and traces).
import { monotonicFactory } from 'ulid';
import type { ToolCall } from '../models/driver.ts';
import {
  type ApprovalRow,
  approvalsOfRun,
  insertApprovals,
  insertQuestion,
} from '../store/repos/approvals.ts';
import type { RunRow } from '../store/repos/runs.ts';
import type { WriteTx } from '../store/store.ts';
import type { QuestionToolInput, UserQuestionRequest } from '../tools/control/question.ts';
import type { ToolPort } from './ports.ts';
import { whileRunning } from './run-guard.ts';
import { redactArguments } from './trace-redact.ts';
import { appendTraces, type Trace } from './traces.ts';
import { approvalRequestView } from './views.ts';

const ulid = monotonicFactory();

/**
 * A write that must ride on the batch's first transaction; gets the run row as read there. It may
 * return traces for the caller to append with its own (one insert per step).
 */
export type StepWrite = (tx: WriteTx, run: RunRow) => Promise<Trace[] | undefined>;

export async function park(
  engine: ToolPort,
  run: RunRow,
  asks: Array<{ call: ToolCall; reason: string }>,
  also: StepWrite,
): Promise<void> {
  await whileRunning(engine, run.run_id, async (tx, current) => {
    const before = (await also(tx, current)) ?? [];
    const pendingNow = (await approvalsOfRun(tx.db, run.run_id)).filter((a) => a.status === 'pending');
    const rows: ApprovalRow[] = asks
      .filter((a) => !pendingNow.some((p) => p.tool_call_id === a.call.id && p.reason === a.reason))
      .map((a) => ({
        request_id: `approval-${ulid().toLowerCase()}`,
        run_id: run.run_id,
        session_id: run.session_id,
        tool_call_id: a.call.id,
        tool_name: a.call.name,
        input: JSON.stringify(a.call.arguments),
        scope: 'session',
        reason: a.reason,
        status: 'pending',
        resolution: null,
        created_at_ms: tx.now,
        resolved_at_ms: null,
      }));
    await insertApprovals(tx.db, rows);
    const secrets = engine.secretValues();
    await appendTraces(engine.events, tx, run, [
      ...before,
      ...rows.map((a) => ({
        kind: 'approval_requested',
        request_id: a.request_id,
        tool_call_id: a.tool_call_id,
        name: a.tool_name,
        arguments: redactArguments(JSON.parse(a.input), secrets),
        reason: a.reason,
      })),
    ]);
    const pending = (await approvalsOfRun(tx.db, run.run_id)).filter((a) => a.status === 'pending');
    await engine.transition(tx, run.run_id, 'waiting_for_approval', {
      eventExtra: {
        request_ids: pending.map((a) => a.request_id),
        requests: pending.map(approvalRequestView),
      },
    });
  });
}

export async function parkForQuestion(
  engine: ToolPort,
  run: RunRow,
  call: ToolCall,
  input: QuestionToolInput,
  also: StepWrite,
): Promise<void> {
  await whileRunning(engine, run.run_id, async (tx, current) => {
    const before = (await also(tx, current)) ?? [];
    const id = `question-${ulid().toLowerCase()}`;
    const expires =
      input.expires_at_ms ?? (input.expires_after_ms ? tx.now + input.expires_after_ms : undefined);
    const request: UserQuestionRequest = {
      id,
      tool_call_id: call.id,
      questions: input.questions,
      created_at_ms: tx.now,
    };
    if (expires !== undefined) request.expires_at_ms = expires;
    await insertQuestion(tx.db, {
      request_id: id,
      run_id: run.run_id,
      session_id: run.session_id,
      tool_call_id: call.id,
      request: JSON.stringify(request),
      status: 'pending',
      resolution: null,
      created_at_ms: tx.now,
      expires_at_ms: expires ?? null,
      resolved_at_ms: null,
    });
    await appendTraces(engine.events, tx, run, [
      ...before,
      {
        kind: 'question_asked',
        request_id: id,
        tool_call_id: call.id,
        questions: input.questions.map((q) => ({
          id: q.id,
          header: q.header,
          question: q.question,
          options: q.options.map((o) => ({ id: o.id, label: o.label })),
          multi_select: q.multi_select ?? false,
        })),
        expires_at_ms: expires ?? null,
      },
    ]);
    await engine.transition(tx, run.run_id, 'waiting_for_user_question', {
      eventExtra: { request_ids: [id], requests: [request] },
    });
  });
}
