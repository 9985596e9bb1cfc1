// Schedules on a real daemon: an interval firing on the wall clock, the schedule tools used by a
// run, and the `schedules` CLI end to end.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createCli } from '../../src/cli/program.ts';
import type { CliIo } from '../../src/cli/runtime.ts';
import { http, readJournal, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';

for (const name of ['KHEISH_DAEMON_URL', 'KHEISH_DAEMON_TOKEN', 'KHEISH_DAEMON_TOKEN_FILE'])
  delete process.env[name];

const SCRIPT = {
  rules: [
    {
      match: 'plan a check',
      turns: [
        {
          tool_calls: [
            {
              name: 'schedule_create',
              arguments: {
                name: 'self-check',
                content: 'check again',
                every_seconds: 3600,
                max_executions: 3,
              },
            },
          ],
        },
        { tool_calls: [{ name: 'schedule_list', arguments: {} }] },
        { text: 'scheduled' },
      ],
    },
  ],
  default: { turns: [{ text: 'ok' }] },
};

let d: TestDaemon;
let base: string;

before(async () => {
  d = await startDaemon({ script: SCRIPT });
  base = d.url;
});

after(async () => {
  await d?.stop();
  d?.cleanup();
});

async function session(id: string): Promise<string> {
  const res = await http(base, 'POST', '/v1/sessions', { session_id: id });
  assert.equal(res.status, 201, res.text);
  return id;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('an interval schedule fires scheduled_input runs on the wall clock and records them', async () => {
  const sid = await session('interval-wall');
  const created = await http(base, 'POST', '/v1/schedules', {
    name: 'every-5s',
    target_session_id: sid,
    cadence: { type: 'interval', every_seconds: 5 },
    request: { content: 'tick' },
  });
  assert.equal(created.status, 201, created.text);
  const id = created.body.schedule_id;
  const settled = await until('the first fire to settle', async () => {
    const v = (await http(base, 'GET', `/v1/schedules/${id}`)).body;
    return v.recent_executions.some((e: any) => e.status === 'settled') ? v : undefined;
  });
  const first = settled.recent_executions[0];
  assert.equal(
    first.fire_at_ms,
    created.body.next_fire_at_ms,
    'fired for the occurrence announced at creation',
  );
  assert.equal(first.run_status, 'completed');
  assert.ok(first.dispatched_at_ms >= first.fire_at_ms);
  const run = await waitForRun(base, first.run_id);
  assert.equal(run.kind, 'scheduled_input');
  assert.equal(run.input_metadata.scheduled_for_ms, first.fire_at_ms);
  assert.equal(run.outputs[0].content, 'ok');
  await http(base, 'POST', `/v1/schedules/${id}/cancel`);
});

test('a run creates and lists schedules with the schedule tools; they belong to its session', async () => {
  const sid = await session('tool-user');
  const res = await http(base, 'POST', `/v1/sessions/${sid}/runs`, { content: 'plan a check' });
  assert.equal(res.status, 202, res.text);
  const run = await waitForRun(base, res.body.run_id);
  assert.equal(run.status, 'completed', JSON.stringify(run));
  const list = (await http(base, 'GET', `/v1/schedules?session_id=${sid}`)).body;
  assert.equal(list.length, 1);
  const s = list[0];
  assert.equal(s.name, 'self-check');
  assert.equal(s.owner_session_id, sid);
  assert.equal(s.created_by_run_id, run.run_id);
  assert.equal(s.max_executions, 3);
  assert.deepEqual(s.cadence, { type: 'interval', every_seconds: 3600 });
  assert.equal(s.request.content, 'check again');
  const results = readJournal(d.stateRoot, run.run_id, 'tool_result');
  assert.deepEqual(
    results.map((r) => [r.name, r.is_error]),
    [
      ['schedule_create', false],
      ['schedule_list', false],
    ],
  );
  assert.equal(JSON.parse(results[0].content).schedule_id, s.schedule_id);
  assert.deepEqual(
    JSON.parse(results[1].content).map((x: any) => x.schedule_id),
    [s.schedule_id],
  );
});

class FakeIo implements CliIo {
  out = '';
  err = '';
  stdout(text: string) {
    this.out += text;
  }
  stderr(text: string) {
    this.err += text;
  }
  async readStdin() {
    return 'from stdin\n';
  }
  onInterrupt() {
    return () => {};
  }
}

describe('schedules CLI', () => {
  async function cli(...args: string[]) {
    const io = new FakeIo();
    const code = await createCli({ io }).run(['node', 'kheish-daemon', '--base-url', base, ...args]);
    return { code, out: io.out, err: io.err };
  }
  const json = async (...args: string[]) => {
    const r = await cli('--output', 'json', ...args);
    assert.equal(r.code, 0, r.err);
    return JSON.parse(r.out);
  };

  test('create with every policy flag, then list, get, pause, resume, trigger-now, cancel', async () => {
    const sid = await session('cli-target');
    const s = await json(
      'schedules',
      'create',
      'nightly',
      sid,
      'summarize the day',
      '--cron',
      '0 0 2 * * *',
      '--timezone',
      'Europe/Paris',
      '--overlap-policy',
      'queue-one',
      '--misfire-policy',
      'catch-up:3',
      '--max-executions',
      '4',
      '--model',
      'scripted',
      '--temperature',
      '0.2',
    );
    assert.deepEqual(s.cadence, { type: 'cron', expression: '0 0 2 * * *', timezone: 'Europe/Paris' });
    assert.equal(s.overlap_policy, 'queue_one');
    assert.deepEqual(s.misfire_policy, { type: 'catch_up', max: 3 });
    assert.equal(s.max_executions, 4);
    assert.deepEqual(s.request.generation, { model: 'scripted', temperature: 0.2 });

    const listed = await cli('schedules', 'list', '--session-id', sid);
    assert.equal(listed.code, 0);
    assert.match(listed.out, /^SCHEDULE +NAME +SESSION +STATUS +CADENCE +NEXT FIRE +FIRES$/m);
    assert.match(
      listed.out,
      new RegExp(`${s.schedule_id} +nightly +${sid} +active +cron "0 0 2 \\* \\* \\*" Europe/Paris`),
    );
    const page = await json('schedules', 'list', '--session-id', sid, '--page', '--limit', '1');
    assert.equal(page.pagination.total_count, 1);

    const shown = await cli('schedules', 'get', s.schedule_id);
    assert.match(shown.out, /^status: +active$/m);
    assert.match(shown.out, /^misfire: +catch_up \(max 3\)$/m);
    assert.equal((await json('schedules', 'pause', s.schedule_id)).status, 'paused');
    assert.equal((await json('schedules', 'resume', s.schedule_id)).status, 'active');
    const fired = await json('schedules', 'trigger-now', s.schedule_id);
    assert.equal(fired.execution_count, 1);
    assert.equal(fired.recent_executions[0].manual, true);
    const canceled = await cli('schedules', 'cancel', s.schedule_id);
    assert.equal(canceled.code, 0);
    assert.match(canceled.out, /^status: +canceled$/m);
  });

  test('content from --stdin or --content-file; once with --at', async () => {
    const sid = await session('cli-content');
    const dir = mkdtempSync(join(tmpdir(), 'kheish-cli-'));
    try {
      writeFileSync(join(dir, 'msg.txt'), 'from a file\n');
      const a = await json(
        'schedules',
        'create',
        'f',
        sid,
        '--content-file',
        join(dir, 'msg.txt'),
        '--every-seconds',
        '60',
      );
      assert.equal(a.request.content, 'from a file');
      const b = await json('schedules', 'create', 'i', sid, '--stdin', '--at', '2099-01-01T00:00:00Z');
      assert.equal(b.request.content, 'from stdin');
      assert.deepEqual(b.cadence, { type: 'once', fire_at_ms: Date.parse('2099-01-01T00:00:00Z') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('usage mistakes exit 2 before any request; daemon refusals map to exit codes', async () => {
    const sid = await session('cli-errors');
    const both = await cli('schedules', 'create', 'x', sid, 'm', '--at', '1', '--cron', '0 0 2 * * *');
    assert.equal(both.code, 2);
    assert.match(both.err, /exactly one of --at, --every-seconds or --cron/);
    const none = await cli('schedules', 'create', 'x', sid, 'm');
    assert.equal(none.code, 2);
    const badMisfire = await cli(
      'schedules',
      'create',
      'x',
      sid,
      'm',
      '--every-seconds',
      '60',
      '--misfire-policy',
      'later',
    );
    assert.equal(badMisfire.code, 2);
    const tooFast = await cli('schedules', 'create', 'x', sid, 'm', '--every-seconds', '3');
    assert.equal(tooFast.code, 2);
    assert.match(tooFast.err, /invalid_cadence/);
    const missing = await cli('schedules', 'get', 'schedule-nope');
    assert.equal(missing.code, 5);
    assert.match(missing.err, /schedule_not_found/);
    const noSession = await cli('schedules', 'create', 'x', 'no-such-session', 'm', '--every-seconds', '60');
    assert.equal(noSession.code, 5);
  });
});
