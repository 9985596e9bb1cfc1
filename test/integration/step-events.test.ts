// Steps are events (docs/events.md): one scripted run that reads a file, meets a 429, writes a file
// after an approval, asks a question and answers. Every durable step trace appears once, in order,
// on the run stream, on the session stream, in GET /v1/runs/{id}/events, and again after a restart.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  collectSse,
  http,
  type SseFrame,
  startDaemon,
  type TestDaemon,
  tempDir,
  waitForRun,
} from '../helpers/daemon.ts';

const LONG = 'x'.repeat(1000);
const SCRIPT = {
  rules: [
    {
      match: '^steps$',
      turns: [
        {
          tool_calls: [{ name: 'read_file', arguments: { path: 'r.txt' } }],
          usage: { input_tokens: 7, output_tokens: 3 },
        },
        { error: { status: 429, retry_after_ms: 0 } },
        { tool_calls: [{ name: 'write_file', arguments: { path: 'w.txt', content: LONG } }] },
        {
          tool_calls: [
            {
              name: 'ask_user_question',
              arguments: {
                questions: [
                  {
                    id: 'q1',
                    header: 'Colour',
                    question: 'Which one?',
                    options: [{ id: 'blue', label: 'Blue' }],
                  },
                ],
              },
            },
          ],
        },
        { text: 'all done' },
      ],
    },
  ],
};

const DURABLE = [
  'model_turn_finished',
  'permission_decided',
  'tool_call_started',
  'tool_call_finished',
  'model_retry',
  'model_turn_finished',
  'permission_decided',
  'approval_requested',
  'approval_resolved',
  'tool_call_started',
  'tool_call_finished',
  'model_turn_finished',
  'question_asked',
  'question_resolved',
  'model_turn_finished',
];
const LIVE_ONLY = new Set(['model_turn_started', 'assistant_text_delta']);

let d: TestDaemon;
const workspace = tempDir('kheish-step-events-ws-');

before(async () => {
  writeFileSync(join(workspace, 'r.txt'), 'hello from r');
  d = await startDaemon({ script: SCRIPT, args: ['--workspace-root', workspace] });
});
after(async () => {
  await d.kill();
  await d.cleanup();
});

const traces = (frames: SseFrame[], runId: string) =>
  frames.filter((f) => f.event === 'trace' && f.data.trace.run_id === runId).map((f) => f.data.trace);
const durable = (ts: any[]) => ts.filter((t) => !LIVE_ONLY.has(t.kind));
const ended = (runId: string) => (frames: SseFrame[]) =>
  frames.some(
    (f) => f.event === 'run_updated' && f.data.run.run_id === runId && f.data.run.status === 'completed',
  );

async function runEventTraces(runId: string) {
  const res = await http(d.url, 'GET', `/v1/runs/${runId}/events`);
  assert.equal(res.status, 200);
  return (res.body as any[]).filter((e) => e.event.type === 'trace').map((e) => e.event.trace);
}

test('every step of a run is a durable trace, once and in order, live, listed and after a restart', async () => {
  const session = (await http(d.url, 'POST', '/v1/sessions', {})).body.session_id as string;
  const submitted = await http(d.url, 'POST', `/v1/sessions/${session}/runs`, { content: 'steps' });
  assert.equal(submitted.status, 202, submitted.text);
  const runId = submitted.body.run_id as string;
  // From the run's start (cursor 0), then live: nothing durable the run did is missed.
  let opened: () => void = () => {};
  const connected = new Promise<void>((r) => {
    opened = r;
  });
  const live = collectSse(`${d.url}/v1/runs/${runId}/stream?cursor=0`, {
    until: (frames) => {
      if (frames.length > 0) opened();
      return ended(runId)(frames);
    },
    timeoutMs: 60_000,
  });
  await connected;

  const parked = await waitForRun(d.url, runId, (r) => r.status !== 'running' && r.status !== 'queued');
  assert.equal(parked.status, 'waiting_for_approval', JSON.stringify(parked));
  const approval = parked.pending_approvals[0];
  const allow = await http(d.url, 'POST', `/v1/runs/${runId}/approvals`, {
    resolutions: [{ request_id: approval.id, behavior: 'allow', justification: 'fine' }],
  });
  assert.equal(allow.status, 202, allow.text);
  const asked = await waitForRun(d.url, runId, (r) => r.status === 'waiting_for_user_question');
  const question = asked.pending_questions[0];
  const answer = await http(d.url, 'POST', `/v1/runs/${runId}/questions`, {
    resolution: {
      request_id: question.id,
      declined: false,
      answers: [{ question_id: 'q1', selected_option_ids: ['blue'] }],
    },
  });
  assert.equal(answer.status, 202, answer.text);
  const done = await waitForRun(d.url, runId);
  assert.equal(done.status, 'completed', JSON.stringify(done));
  assert.equal(readFileSync(join(workspace, 'w.txt'), 'utf8'), LONG);

  const stream = traces((await live).frames, runId);
  assert.deepEqual(
    durable(stream).map((t) => t.kind),
    DURABLE,
  );
  // The start of each model call is live only; the calls after the approval began while this
  // stream was open (earlier ones may have started before it connected).
  const starts = stream.filter((t) => t.kind === 'model_turn_started');
  assert.ok(starts.length >= 2, JSON.stringify(starts));
  assert.equal(starts.at(-1).route_id, 'local');
  assert.equal(starts.at(-1).call_index, 4);

  const steps = durable(stream);
  const [turn0, read, readStarted, readDone, retry] = steps;
  assert.equal(turn0.route_id, 'local');
  assert.equal(turn0.model, 'scripted');
  assert.deepEqual(turn0.usage, { input_tokens: 7, output_tokens: 3 });
  assert.equal(turn0.finish_reason, 'tool_use');
  assert.deepEqual(turn0.tool_calls, ['read_file']);
  assert.equal(typeof turn0.started_at_ms, 'number');
  assert.equal(typeof turn0.duration_ms, 'number');
  assert.equal(turn0.session_id, session);
  assert.equal(read.decision, 'allow');
  assert.equal(read.mode, 'default');
  assert.equal(read.matched_rule, '*');
  assert.deepEqual(readStarted.arguments, { path: 'r.txt' });
  assert.equal(readStarted.side_effects, false);
  assert.equal(readDone.outcome, 'ok');
  // read_file answers a JSON envelope: the preview is its head, the size its whole.
  assert.equal(JSON.parse(readDone.output_preview).content, 'hello from r');
  assert.equal(readDone.output_bytes, Buffer.byteLength(readDone.output_preview));
  assert.equal(readDone.output_truncated, false);
  assert.equal(readDone.tool_call_id, readStarted.tool_call_id);
  assert.equal(retry.status, 429);
  assert.equal(retry.attempt, 1);

  const write = steps[6];
  assert.equal(write.decision, 'ask');
  assert.equal(write.matched_rule, 'write_file');
  const requested = steps[7];
  assert.equal(requested.request_id, approval.id);
  assert.equal(requested.arguments.content, `${'x'.repeat(200)}…[cut: 1000 bytes]`);
  assert.equal(steps[8].behavior, 'allow');
  assert.equal(steps[8].request_id, approval.id);
  assert.equal(steps[9].side_effects, true);
  assert.equal(steps[9].arguments.content, `${'x'.repeat(200)}…[cut: 1000 bytes]`);
  assert.equal(steps[10].outcome, 'ok');
  assert.equal(steps[10].name, 'write_file');
  assert.equal(steps[12].request_id, question.id);
  assert.equal(steps[12].questions[0].question, 'Which one?');
  assert.equal(steps[13].status, 'answered');
  assert.deepEqual(steps[13].answers, [{ question_id: 'q1', selected_option_ids: ['blue'] }]);
  assert.equal(steps[14].finish_reason, 'end_turn');

  // The same steps, field for field, in the run's persisted event list and on the session stream.
  assert.deepEqual(await runEventTraces(runId), steps);
  const sessionStream = await collectSse(`${d.url}/v1/sessions/${session}/stream?cursor=0`, {
    until: ended(runId),
    timeoutMs: 30_000,
  });
  assert.deepEqual(durable(traces(sessionStream.frames, runId)), steps);

  // After a restart: replayed from the durable log, identical, and no live-only frame comes back.
  await d.stop();
  d = await d.restart();
  const replayed = await collectSse(`${d.url}/v1/runs/${runId}/stream?cursor=0`, {
    until: ended(runId),
    timeoutMs: 30_000,
  });
  assert.deepEqual(traces(replayed.frames, runId), steps);
  assert.deepEqual(await runEventTraces(runId), steps);
});

test('traces mask the value of every secret slot and credential-named arguments', async () => {
  const secret = 'sk-step-events-0123456789';
  writeFileSync(join(workspace, 's.txt'), `the token is ${secret}\n`);
  const script = {
    rules: [
      {
        match: 'secret',
        turns: [
          { tool_calls: [{ name: 'grep_search', arguments: { pattern: secret, path: '.', api_key: 'k' } }] },
          { text: 'found' },
        ],
      },
    ],
  };
  const s = await startDaemon({
    script,
    args: ['--workspace-root', workspace],
    env: { KHEISH_AUTH_STORE_MASTER_KEY: randomBytes(32).toString('base64') },
  });
  try {
    const put = await http(s.url, 'POST', '/v1/runtime/secrets', {
      slot_id: 'tool-key',
      provider: 'generic',
      mode: 'opaque_secret',
      state: { kind: 'opaque_secret', value: secret },
      updated_at_ms: 0,
    });
    assert.equal(put.status, 200, put.text);
    const session = (await http(s.url, 'POST', '/v1/sessions', {})).body.session_id as string;
    const run = await http(s.url, 'POST', `/v1/sessions/${session}/runs`, { content: 'secret' });
    assert.equal((await waitForRun(s.url, run.body.run_id)).status, 'completed');
    const events = (await http(s.url, 'GET', `/v1/runs/${run.body.run_id}/events`)).body as any[];
    const text = JSON.stringify(events.filter((e) => e.event.type === 'trace'));
    assert.ok(!text.includes(secret), text);
    const started = events.find((e) => e.event.trace?.kind === 'tool_call_started').event.trace;
    assert.deepEqual(started.arguments, { pattern: '[redacted]', path: '.', api_key: '[redacted]' });
    const finished = events.find((e) => e.event.trace?.kind === 'tool_call_finished').event.trace;
    assert.equal(finished.outcome, 'ok', finished.output_preview);
    assert.match(finished.output_preview, /the token is \[redacted\]/);
  } finally {
    await s.kill();
    await s.cleanup();
  }
});
