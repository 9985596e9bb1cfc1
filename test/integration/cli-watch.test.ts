// `runs watch` and `runs submit --watch` against real daemons: every step from the run's first
// event, one line each; the printed approval and question commands work as printed; json prints
// one event per line; a daemon restart in the middle of a slowly streamed answer leaves the
// notice on its own line and the resumed answer whole.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createCli } from '../../src/cli/program.ts';
import type { CliIo } from '../../src/cli/runtime.ts';
import { startDaemon, type TestDaemon, tempDir } from '../helpers/daemon.ts';

for (const name of ['KHEISH_DAEMON_URL', 'KHEISH_DAEMON_TOKEN', 'KHEISH_DAEMON_TOKEN_FILE'])
  delete process.env[name];

const ANSWER = 'The quick brown fox jumps over the lazy dog';
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
        { tool_calls: [{ name: 'write_file', arguments: { path: 'w.txt', content: 'x'.repeat(300) } }] },
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
    // Four deltas, 700 ms apart: time to restart the daemon in the middle of the answer.
    { match: '^slow$', turns: [{ text: ANSWER, delta_delay_ms: 700 }] },
  ],
};

/** stdout and stderr apart, and interleaved as a terminal would show them. */
class WatchIo implements CliIo {
  out = '';
  err = '';
  screen = '';
  lines: string[] = [];
  stdout(text: string): void {
    this.out += text;
    this.screen += text;
  }
  stderr(text: string): void {
    this.err += text;
    this.screen += text;
  }
  async readStdin(): Promise<string> {
    return '';
  }
  async readLine(): Promise<string | undefined> {
    return this.lines.shift();
  }
  onInterrupt(): () => void {
    return () => {};
  }
}

async function until<T>(
  probe: () => T | undefined | null | false,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Each pattern matches a line after the previous pattern's line. */
function assertInOrder(lines: string[], patterns: RegExp[]): void {
  let at = -1;
  for (const p of patterns) {
    const next = lines.findIndex((l, i) => i > at && p.test(l));
    assert.ok(next > at, `no line matching ${p} after line ${at}:\n${lines.join('\n')}`);
    at = next;
  }
}

const STEPS = [
  /^· model local\/scripted: asks for read_file \(7 in \/ 3 out tokens, \d+ms\)$/,
  /^· read_file path=r\.txt → ok, \d+ B, \d+ms$/,
  /^· model call failed \(429: scripted provider error 429\); retry 1 in 0ms$/,
  /^· model local\/scripted: asks for write_file /,
  /^· approval needed: write_file path=w\.txt content=x{30,}… \(rule `write_file` requires approval in default mode\)$/,
  /^ {2}allow with: kheish-daemon approvals allow w1 approval-\S+$/,
  /^ {2}deny with: {2}kheish-daemon approvals deny w1 approval-\S+$/,
  /^· waiting_for_approval$/,
  /^· approval allowed: write_file$/,
  /^· running$/,
  /^· write_file path=w\.txt content=x+… → ok, \d+ B, \d+ms$/,
  /^· model local\/scripted: asks for ask_user_question /,
  /^· question: Which one\? \[blue=Blue\]$/,
  /^ {2}answer with: kheish-daemon questions answer question-\S+ --run-id run-\S+ --interactive$/,
  /^ {2}decline with: kheish-daemon questions answer question-\S+ --run-id run-\S+ --declined$/,
  /^· waiting_for_user_question$/,
  /^· question answered: q1=blue$/,
  /^· running$/,
  /^all done$/,
  /^· model local\/scripted: answered \(end_turn\) /,
  /^run run-\S+ completed/,
];

describe('runs watch against real daemons', () => {
  let d: TestDaemon;
  let runId = '';
  const workspace = tempDir('kheish-cli-watch-ws-');

  before(async () => {
    writeFileSync(join(workspace, 'r.txt'), 'hello');
    d = await startDaemon({ script: SCRIPT, args: ['--workspace-root', workspace] });
  });
  after(async () => {
    await d.kill();
    await d.cleanup();
  });

  const cli = async (args: string[], io = new WatchIo()) => {
    const code = await createCli({ io }).run(['node', 'kheish-daemon', '--base-url', d.url, ...args]);
    return { code, io };
  };
  /** A printed `kheish-daemon …` command, run as printed. */
  const runPrinted = (command: string, io?: WatchIo) => cli(command.split(' ').slice(1), io);

  test('submit --watch shows every step once, in order; the printed commands answer the run', async () => {
    const io = new WatchIo();
    const watching = cli(['runs', 'submit', 'w1', 'steps', '--watch'], io);
    const allow = await until(
      () => /allow with: (kheish-daemon approvals allow \S+ \S+)/.exec(io.out),
      'approval',
    );
    const allowed = await runPrinted(allow[1]!);
    assert.equal(allowed.code, 0, allowed.io.err);
    const answer = await until(
      () => /answer with: (kheish-daemon questions answer .+)$/m.exec(io.out),
      'question',
    );
    const answerIo = new WatchIo();
    answerIo.lines = ['blue'];
    const answered = await runPrinted(answer[1]!, answerIo);
    assert.equal(answered.code, 0, answered.io.err);
    const { code } = await watching;
    assert.equal(code, 0, io.err);
    const lines = io.out.trimEnd().split('\n');
    runId = /^run (run-\S+) \(session w1\)/.exec(lines[0]!)![1]!;
    assertInOrder(lines, STEPS);
    // Once each: two tool lines, one approval, one question, one answer.
    assert.equal(lines.filter((l) => / → /.test(l)).length, 2, io.out);
    assert.equal(lines.filter((l) => l.startsWith('· approval needed')).length, 1);
    assert.equal(lines.filter((l) => l.startsWith('· question:')).length, 1);
    assert.equal(lines.filter((l) => l === 'all done').length, 1);
    assert.equal(io.err, '');
  });

  test('watch of a finished run replays it from its first event; json prints one event per line', async () => {
    const { code, io } = await cli(['runs', 'watch', runId]);
    assert.equal(code, 0, io.err);
    const lines = io.out.trimEnd().split('\n');
    assert.equal(lines[0], `run ${runId} (session w1)`);
    assert.equal(lines[1], '· queued');
    // The same steps; the answer comes whole with its output (text deltas are never replayed).
    assertInOrder(lines, [...STEPS.slice(0, -3), STEPS.at(-2)!, /^all done$/, STEPS.at(-1)!]);

    const json = await cli(['--output', 'json', 'runs', 'watch', runId]);
    assert.equal(json.code, 0, json.io.err);
    const events = json.io.out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(events.every((e) => typeof e.id === 'string' && e.data.type === e.event));
    // Nothing missed: the run's own first event (its submit) opens the replay.
    assert.equal(events[0].event, 'run_updated');
    assert.equal(events[0].data.run.status, 'queued');
    assert.deepEqual(
      events.filter((e) => e.event === 'trace').map((e) => e.data.trace.kind),
      [
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
      ],
    );
    assert.equal(events.at(-1).data.run.status, 'completed');
  });

  test("submit --watch in json: only the run's events, from its submit, live frames included", async () => {
    const { code, io } = await cli(['--output', 'json', 'runs', 'submit', 'j1', 'hello there', '--watch']);
    assert.equal(code, 0, io.err);
    const events = io.out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    const runOf = (e: any) => e.data.run?.run_id ?? e.data.trace?.run_id ?? e.data.output?.run_id;
    const id = runOf(events[0]);
    assert.ok(
      events.every((e) => runOf(e) === id && e.data.type === e.event),
      io.out,
    );
    assert.equal(events[0].data.run.status, 'queued');
    // Subscribed before the submit: the first model call's start and its text deltas arrive.
    const kinds = events.filter((e) => e.event === 'trace').map((e) => e.data.trace.kind);
    assert.equal(kinds[0], 'model_turn_started');
    const text = events
      .filter((e) => e.data.trace?.kind === 'assistant_text_delta')
      .map((e) => e.data.trace.delta);
    assert.equal(text.join(''), 'hello there');
    assert.equal(events.at(-1).data.run.status, 'completed');
  });

  test('runs events lists the steps afterwards', async () => {
    const { code, io } = await cli(['runs', 'events', runId]);
    assert.equal(code, 0, io.err);
    assertInOrder(io.out.split('\n'), [
      / {2}accepted$/,
      / {2}trace {2}model_turn_finished {2}model local\/scripted: asks for read_file/,
      / {2}trace {2}permission_decided {2}read_file: allow \(rule \*, default mode\)$/,
      / {2}trace {2}tool_call_started {2}read_file path=r\.txt$/,
      / {2}trace {2}tool_call_finished {2}read_file path=r\.txt → ok, /,
      / {2}trace {2}approval_requested {2}approval needed: write_file /,
      / {2}trace {2}question_resolved {2}question answered: q1=blue$/,
      / {2}completed$/,
    ]);
  });

  test('a restart in the middle of a streamed answer: the notice on its own line, the answer whole', async () => {
    const port = new URL(d.url).port;
    const io = new WatchIo();
    const watching = cli(['runs', 'submit', 'r1', 'slow', '--watch'], io);
    // The first of four deltas is on screen; the rest are still to come.
    await until(() => io.out.includes(ANSWER.slice(0, 11)), 'the first delta');
    assert.ok(!io.out.includes(ANSWER), io.out);
    await d.stop();
    d = await d.restart({ args: ['--bind', `127.0.0.1:${port}`] });
    const { code } = await watching;
    assert.equal(code, 0, io.screen);
    const screen = io.screen.split('\n');
    // The half answer ends its line before the notice, which stands on a line of its own.
    const notice = screen.findIndex((l) => l.startsWith('stream interrupted'));
    assert.ok(notice > 0, io.screen);
    assert.ok(ANSWER.startsWith(screen[notice - 1]!) && screen[notice - 1] !== ANSWER, io.screen);
    assertInOrder(screen, [
      /^stream interrupted/,
      /^· the daemon restarted; the run resumes from its last completed step$/,
      /^run run-\S+ completed/,
    ]);
    // The resumed answer, whole on a line of its own: streamed live when this watch saw its model
    // call begin, else printed with its output (after the model line).
    const resumed = screen.findIndex((l) => l.startsWith('· the daemon restarted'));
    const whole = screen.indexOf(ANSWER);
    assert.ok(whole > resumed, io.screen);
    assert.ok(screen.findIndex((l) => /^· model local\/scripted: answered \(end_turn\)/.test(l)) > resumed);
    // Never a half answer glued to the resumed one.
    assert.ok(!io.out.includes(`${ANSWER.slice(0, 11)}${ANSWER.slice(0, 3)}`), io.out);
    assert.equal(io.out.split('\n').filter((l) => l === ANSWER).length, 1, io.out);
  });
});
