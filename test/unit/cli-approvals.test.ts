// `approvals`, `questions` and `runtime permissions` driven through the real CLI against a real
// daemon whose scripted model calls `bash` (approval required in default mode) or asks a question.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createCli } from '../../src/cli/program.ts';
import type { CliIo } from '../../src/cli/runtime.ts';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';

for (const name of ['KHEISH_DAEMON_URL', 'KHEISH_DAEMON_TOKEN', 'KHEISH_DAEMON_TOKEN_FILE'])
  delete process.env[name];

const bash = (command: string) => ({ tool_calls: [{ name: 'bash', arguments: { command } }] });
const SCRIPT = {
  rules: [
    { match: 'twice', turns: [bash('echo one'), bash('echo two'), { text: 'both done' }] },
    { match: 'approve', turns: [bash('echo hi'), { text: 'done' }] },
    {
      match: 'ask',
      turns: [
        {
          tool_calls: [
            {
              name: 'ask_user_question',
              arguments: {
                questions: [
                  {
                    id: 'q1',
                    header: 'H',
                    question: 'Pick',
                    options: [
                      { id: 'a', label: 'A' },
                      { id: 'b', label: 'B', description: 'the second' },
                    ],
                  },
                ],
              },
            },
          ],
        },
        { text: 'thanks' },
      ],
    },
  ],
};

/** Captures output; stdin is read whole (the piped-answers path). */
class FakeIo implements CliIo {
  out = '';
  err = '';
  stdin = '';
  stdout(text: string): void {
    this.out += text;
  }
  stderr(text: string): void {
    this.err += text;
  }
  async readStdin(): Promise<string> {
    return this.stdin;
  }
  onInterrupt(): () => void {
    return () => {};
  }
}

/** Like a terminal: answers arrive one line at a time, and we can see which prompt they answered. */
class LineIo extends FakeIo {
  lines: string[] = [];
  prompts = 0;
  async readLine(): Promise<string | undefined> {
    this.prompts++;
    return this.lines.shift();
  }
}

const waiting = (r: { status: string }) =>
  r.status.startsWith('waiting_') || ['completed', 'failed', 'interrupted', 'cancelled'].includes(r.status);

describe('approvals and questions commands against a real daemon', () => {
  let d: TestDaemon;
  let n = 0;

  before(async () => {
    d = await startDaemon({ script: SCRIPT });
  });
  after(async () => {
    await d.stop();
    d.cleanup();
  });

  async function cli(args: string[], io: FakeIo = new FakeIo()) {
    const code = await createCli({ io }).run(['node', 'kheish-daemon', '--base-url', d.url, ...args]);
    return { code, out: io.out, err: io.err };
  }

  /** A new session with one run, returned once it waits for the operator. */
  async function submit(content: string): Promise<any> {
    const session = `s${++n}`;
    await http(d.url, 'POST', '/v1/sessions', { session_id: session });
    const res = await http(d.url, 'POST', `/v1/sessions/${session}/runs`, { content });
    assert.equal(res.status, 202, res.text);
    return waitForRun(d.url, res.body.run_id, waiting);
  }

  const status = async (runId: string) => (await http(d.url, 'GET', `/v1/runs/${runId}`)).body.status;
  const events = async (runId: string) => (await http(d.url, 'GET', `/v1/runs/${runId}/events`)).text;

  test('list shows a table, show prints the full input; unknown ids exit 5', async () => {
    const run = await submit('approve this');
    const id = run.pending_approvals[0].id;
    const list = await cli(['approvals', 'list', '--session-id', run.session_id]);
    assert.equal(list.code, 0, list.err);
    const lines = list.out.trimEnd().split('\n');
    assert.match(lines[0], /^REQUEST +SESSION +RUN +TOOL +REASON +INPUT$/);
    assert.equal(lines.length, 2);
    assert.ok(lines[1].startsWith(id));
    assert.match(lines[1], /bash .*\{"command":"echo hi"\}$/);

    const json = await cli(['--output', 'json', 'approval', 'list']);
    assert.ok(JSON.parse(json.out).some((a: any) => a.request.id === id && a.run_id === run.run_id));

    const show = await cli(['approvals', 'show', id]);
    assert.equal(show.code, 0);
    assert.match(show.out, /^tool: +bash$/m);
    assert.match(show.out, /^input:\n {2}\{\n {4}"command": "echo hi"\n {2}\}$/m);
    assert.match(show.out, new RegExp(`approvals allow ${run.session_id} ${id}`));

    const missing = await cli(['approvals', 'show', 'approval-nope']);
    assert.equal(missing.code, 5);
    assert.match(missing.err, /approval approval-nope is not pending/);

    const allowed = await cli([
      'approvals',
      'allow',
      run.session_id,
      id,
      '--wait',
      '--poll-interval-ms',
      '20',
    ]);
    assert.equal(allowed.code, 0, allowed.err);
    assert.match(allowed.out, /^done\nrun .* completed/m);
    assert.equal(await status(run.run_id), 'completed');
    assert.equal(
      (await cli(['approvals', 'list', '--session-id', run.session_id])).out,
      'no pending approvals\n',
    );
  });

  test('allow with updated input, justification and an idempotency key; a retry is a no-op', async () => {
    const run = await submit('approve with changes');
    const id = run.pending_approvals[0].id;
    const args = ['approvals', 'allow', run.session_id, id, '--idempotency-key', 'k1'];
    const bad = await cli([...args, '--updated-input-json', '[1]']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /must be a JSON object/);
    const first = await cli([
      ...args,
      '--updated-input-json',
      '{"command":"echo changed"}',
      '--justification',
      'looked at it',
      '--remember-session',
    ]);
    assert.equal(first.code, 0, first.err);
    assert.match(first.out, new RegExp(`^allowed approval ${id}; run ${run.run_id} is `, 'm'));
    assert.match(first.out, /follow it with: kheish-daemon runs watch/);
    await waitForRun(d.url, run.run_id);
    const log = await events(run.run_id);
    assert.match(log, /echo changed/);
    assert.match(log, /looked at it/);
    const retry = await cli([
      ...args,
      '--updated-input-json',
      '{"command":"echo changed"}',
      '--justification',
      'looked at it',
      '--remember-session',
    ]);
    assert.equal(retry.code, 0, retry.err);
    // The remembered rule: bash is now allowed in that session.
    const check = await cli(['runtime', 'permissions', 'check', 'bash', '--session-id', run.session_id]);
    assert.match(check.out, /^decision: +allow$/m);
  });

  test('deny tells the model; --wait reports the outcome', async () => {
    const run = await submit('approve or not');
    const id = run.pending_approvals[0].id;
    const denied = await cli(['approvals', 'deny', run.session_id, id, '--reason', 'not today', '--wait']);
    assert.equal(denied.code, 0, denied.err);
    assert.match(denied.out, /completed/);
    assert.match(await events(run.run_id), /not today/);
    const again = await cli(['approvals', 'deny', run.session_id, id, '--reason', 'not today']);
    assert.equal(again.code, 0, 'the same decision again is a replay');
    const other = await cli(['approvals', 'allow', run.session_id, id]);
    assert.notEqual(other.code, 0, 'a different decision on a resolved approval is refused');
    assert.match(other.err, /^error: approval_/m);
  });

  test('--wait exits 1 when the run waits again, and says what is next', async () => {
    const run = await submit('twice please');
    const first = run.pending_approvals[0].id;
    const res = await cli([
      'approvals',
      'allow',
      run.session_id,
      first,
      '--wait',
      '--poll-interval-ms',
      '20',
    ]);
    assert.equal(res.code, 1);
    assert.match(res.out, new RegExp(`run ${run.run_id} is waiting_for_approval again`));
    assert.match(res.out, /approval .*: bash \{"command":"echo two"\}/);
    const json = await cli([
      '--output',
      'json',
      'approvals',
      'approve-all',
      '--session-id',
      run.session_id,
      '--wait',
    ]);
    assert.equal(json.code, 0, json.err);
    const results = JSON.parse(json.out);
    assert.equal(results.length, 1);
    assert.equal(results[0].run.status, 'completed');
  });

  test('allow-all resolves every run in its own batch; deny-all filters by session', async () => {
    const a = await submit('approve A');
    const b = await submit('twice B');
    const c = await submit('approve C');
    const denied = await cli(['approvals', 'deny-all', '--session-id', c.session_id, '--reason', 'no']);
    assert.equal(denied.code, 0, denied.err);
    assert.match(
      denied.out,
      new RegExp(`^run ${c.run_id} \\(session ${c.session_id}\\): denied 1 approval \\(bash\\)`),
    );
    const all = await cli([
      'approvals',
      'allow-all',
      '--justification',
      'bulk',
      '--idempotency-key',
      'bulk-1',
    ]);
    assert.equal(all.code, 0, all.err);
    const lines = all.out.trimEnd().split('\n');
    assert.equal(lines.length, 2, all.out);
    assert.match(all.out, new RegExp(`run ${a.run_id} .*allowed 1 approval`));
    assert.match(all.out, new RegExp(`run ${b.run_id} .*allowed 1 approval`));
    assert.equal((await waitForRun(d.url, a.run_id)).status, 'completed');
    await waitForRun(d.url, b.run_id, waiting);
    const again = await cli(['approvals', 'allow-all', '--session-id', b.session_id, '--wait']);
    assert.equal(again.code, 0, again.err);
    assert.equal(await status(b.run_id), 'completed');
    assert.equal((await waitForRun(d.url, c.run_id)).status, 'completed');
    assert.equal((await cli(['approvals', 'allow-all'])).out, 'no pending approvals\n');
  });

  test('questions list and show; answer --interactive reads choices line by line', async () => {
    const run = await submit('ask me');
    const id = run.pending_questions[0].id;
    const list = await cli(['questions', 'list', '--session-id', run.session_id]);
    assert.equal(list.code, 0, list.err);
    const lines = list.out.trimEnd().split('\n');
    assert.match(lines[0], /^REQUEST +SESSION +RUN +KIND +ASKED +QUESTION$/);
    assert.ok(lines[1].startsWith(id) && lines[1].endsWith('Pick'));
    const show = await cli(['question', 'show', id]);
    assert.match(show.out, /^1\/1 \[H\] Pick\n {2}1\) A \(a\)\n {2}2\) B - the second \(b\)$/m);

    const io = new LineIo();
    io.lines = ['', '9', 'b'];
    const res = await cli(
      ['questions', 'answer', id, '--interactive', '--wait', '--poll-interval-ms', '20'],
      io,
    );
    assert.equal(res.code, 0, res.err);
    assert.equal(io.prompts, 3);
    assert.match(res.out, /^\[H\] Pick\n {2}1\) A \(a\)/);
    assert.match(res.out, /there is no option 9; choose 1-2/);
    assert.match(res.out, /run .* completed/);
    assert.match(await events(run.run_id), /"selected_option_ids":\["b"\]/);
  });

  test('answer --interactive from piped stdin; free text becomes a freeform answer', async () => {
    const run = await submit('ask again');
    const id = run.pending_questions[0].id;
    const io = new FakeIo();
    io.stdin = 'something else entirely\n';
    const res = await cli(['--output', 'json', 'questions', 'answer', id, '--interactive'], io);
    assert.equal(res.code, 0, res.err);
    assert.match(res.err, /\[H\] Pick/, 'json mode keeps the dialogue off stdout');
    assert.equal(JSON.parse(res.out).run_id, run.run_id);
    await waitForRun(d.url, run.run_id);
    assert.match(await events(run.run_id), /"freeform_answer":"something else entirely"/);
  });

  test('answer from JSON, declined, invalid answers; input ending early sends nothing', async () => {
    const run = await submit('ask json');
    const id = run.pending_questions[0].id;
    const none = await cli(['questions', 'answer', id]);
    assert.equal(none.code, 2);
    assert.match(none.err, /no answer given/);
    const eof = await cli(['questions', 'answer', id, '--interactive'], new LineIo());
    assert.equal(eof.code, 2);
    assert.match(eof.err, /input ended before question q1 was answered/);
    const wrong = await cli([
      'questions',
      'answer',
      id,
      '--answers-json',
      '[{"question_id":"q1","selected_option_ids":["z"]}]',
    ]);
    assert.equal(wrong.code, 2);
    assert.match(wrong.err, /question_option_not_found/);
    assert.equal(await status(run.run_id), 'waiting_for_user_question');
    const ok = await cli([
      'questions',
      'answer',
      id,
      '--run-id',
      run.run_id,
      '--answers-json',
      '{"answers":[{"question_id":"q1","selected_option_ids":["a"]}]}',
      '--wait',
    ]);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /run .* completed/);

    const second = await submit('ask to decline');
    const qid = second.pending_questions[0].id;
    const declined = await cli(['questions', 'answer', qid, '--session-id', second.session_id, '--declined']);
    assert.equal(declined.code, 0, declined.err);
    assert.match(declined.out, new RegExp(`^declined question ${qid}; run ${second.run_id} is `));
  });

  test('questions list --page prints the envelope; cancel stops the waiting run', async () => {
    const run = await submit('ask to cancel');
    const id = run.pending_questions[0].id;
    const page = await cli(['--output', 'json', 'questions', 'list', '--page', '--limit', '1']);
    assert.equal(page.code, 0, page.err);
    const body = JSON.parse(page.out);
    assert.equal(body.items.length, 1);
    assert.equal(body.pagination.limit, 1);
    const needsRun = await cli(['questions', 'cancel', id, '--idempotency-key', 'c1']);
    assert.equal(needsRun.code, 2);
    assert.match(needsRun.err, /--idempotency-key needs --run-id/);
    const res = await cli(['questions', 'cancel', id, '--justification', 'not needed']);
    assert.equal(res.code, 0, res.err);
    assert.equal(res.out, `cancelled question ${id}; run ${run.run_id} is cancelled\n`);
    assert.equal(await status(run.run_id), 'cancelled');
    assert.equal((await cli(['questions', 'cancel', id])).code, 5);
    assert.equal(
      (await cli(['questions', 'list', '--session-id', run.session_id])).out,
      'no pending questions\n',
    );
  });

  test('runtime permissions check/matrix and set-permission-mode', async () => {
    const check = await cli(['runtime', 'permissions', 'check', 'bash', '--input-json', '{"command":"ls"}']);
    assert.equal(check.code, 0, check.err);
    assert.match(check.out, /^decision: +ask$/m);
    assert.match(check.out, /^matched rule: +bash \(session, static\)$/m);
    assert.match(check.out, /^approval: +required$/m);
    const planned = await cli(['runtime', 'permissions', 'check', 'write_file', '--mode', 'plan']);
    assert.match(planned.out, /^decision: +deny$/m);
    assert.equal((await cli(['runtime', 'permissions', 'check', 'bash', '--mode', 'nope'])).code, 2);
    const matrix = await cli(['runtime', 'permissions', 'matrix']);
    // Modes are printed as the API spells them (one spelling everywhere); kebab-case is input only.
    assert.match(matrix.out, /^TOOL +default +acceptEdits +bypassPermissions +plan +dontAsk$/m);
    assert.match(matrix.out, /^write_file +ask +allow +allow +deny +deny$/m);
    const bad = await cli(['runtime', 'set-permission-mode', 'yolo']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /accept-edits/);
    try {
      const set = await cli(['runtime', 'set-permission-mode', 'accept-edits']);
      assert.equal(set.code, 0, set.err);
      assert.match(set.out, /^permission mode: acceptEdits\nrevision: \d+$/m);
      const rev = Number(/revision: (\d+)/.exec(set.out)![1]);
      const stale = await cli([
        'runtime',
        'set-permission-mode',
        'plan',
        '--expected-revision',
        String(rev - 1),
      ]);
      assert.equal(stale.code, 6);
      const edit = await cli(['runtime', 'permissions', 'check', 'write_file']);
      assert.match(edit.out, /^decision: +allow$/m);
    } finally {
      await cli(['runtime', 'set-permission-mode', 'default']);
    }
  });
});
