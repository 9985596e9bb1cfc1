// The console's chat fold (console/src/chat-model.ts): frames seen twice (a replay overlapping a
// reconnect) change nothing, a turn streamed again after a restart replaces its partial text, and
// the final output replaces the stream, so each line of a conversation shows once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFrame, type ChatState, emptyChat } from '../../console/src/chat-model.ts';
import type { SseFrame } from '../../src/sdk/index.ts';

let nextId = 1;
const frame = (data: Record<string, unknown>, id: string | undefined = String(nextId++)): SseFrame =>
  ({ id, event: String(data.type), data }) as unknown as SseFrame;
const trace = (t: Record<string, unknown>, id?: string) =>
  frame({ type: 'trace', trace: { run_id: 'r1', ...t } }, id);
const fold = (frames: SseFrame[], state: ChatState = emptyChat()) => frames.reduce(applyFrame, state);

const submitted = frame({
  type: 'run_updated',
  run: { run_id: 'r1', status: 'running', request: { text_preview: 'hello' }, submitted_at_ms: 1 },
});

test('console chat model: a frame id seen before is ignored (replay after a reconnect)', () => {
  const out = frame({ type: 'output', output: { run_id: 'r1', content: 'hi there' } });
  const once = fold([submitted, out]);
  const twice = fold([out, submitted], once);
  assert.equal(twice, once, 'nothing changed');
  assert.deepEqual(twice.runs[0]!.answers, ['hi there']);
  assert.equal(twice.runs[0]!.input, 'hello');
});

test('console chat model: a turn replayed after a restart replaces its partial text; the output replaces the stream', () => {
  const state = fold([
    submitted,
    trace({ kind: 'model_turn_started', attempt: 1 }),
    trace({ kind: 'assistant_text_delta', delta: 'Here is the' }, undefined),
    // The daemon died here; the resumed run plays the turn again from its start.
    trace({ kind: 'model_turn_started', attempt: 1 }),
    trace({ kind: 'assistant_text_delta', delta: 'Here is ' }, undefined),
    trace({ kind: 'assistant_text_delta', delta: 'the answer.' }, undefined),
  ]);
  assert.equal(state.runs[0]!.streaming, 'Here is the answer.');
  const done = fold(
    [frame({ type: 'output', output: { run_id: 'r1', content: 'Here is the answer.' } })],
    state,
  );
  assert.equal(done.runs[0]!.streaming, '');
  assert.deepEqual(done.runs[0]!.answers, ['Here is the answer.']);
});

test('console chat model: tool calls carry their arguments and result; approvals stay pending until the run says otherwise', () => {
  const state = fold([
    submitted,
    trace({ kind: 'permission_decided', name: 'write_file', decision: 'ask', mode: 'default' }),
    trace({ kind: 'approval_requested', name: 'write_file', request_id: 'ap1', arguments: { path: 'a' } }),
    frame({
      type: 'run_updated',
      run: { run_id: 'r1', status: 'waiting_for_approval', pending_approval_ids: ['ap1'] },
    }),
  ]);
  assert.deepEqual(state.runs[0]!.pendingApprovalIds, ['ap1']);
  const after = fold(
    [
      trace({ kind: 'approval_resolved', name: 'write_file', behavior: 'allow', request_id: 'ap1' }),
      frame({ type: 'run_updated', run: { run_id: 'r1', status: 'running' } }),
      trace({ kind: 'tool_call_started', name: 'write_file', tool_call_id: 'c1', arguments: { path: 'a' } }),
      trace({
        kind: 'tool_call_finished',
        name: 'write_file',
        tool_call_id: 'c1',
        outcome: 'ok',
        output_preview: 'wrote a',
      }),
      trace({ kind: 'model_turn_started', attempt: 2 }),
      trace({ kind: 'sidechain_spawned', child_agent_id: 'agent-2' }),
    ],
    state,
  );
  const run = after.runs[0]!;
  assert.deepEqual(run.pendingApprovalIds, []);
  assert.deepEqual(
    run.steps.map((s) => [s.kind, s.title]),
    [
      ['permission', 'write_file: ask'],
      ['approval', 'approval needed for write_file'],
      ['decision', 'write_file: approved'],
      ['tool', 'write_file'],
      ['retry', 'model call retried (attempt 2)'],
      ['child', 'child agent started'],
    ],
  );
  assert.deepEqual(run.steps[3]!.args, { path: 'a' });
  assert.equal(run.steps[3]!.result, 'wrote a');
  assert.equal(run.steps[3]!.outcome, 'ok');
});
