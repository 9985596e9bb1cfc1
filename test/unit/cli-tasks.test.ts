// `tasks list|get|output|stop` driven through the real CLI against a real daemon whose scripted
// model creates a work task and background shell tasks.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createCli } from '../../src/cli/program.ts';
import type { CliIo } from '../../src/cli/runtime.ts';
import { http, startDaemon, type TestDaemon, tempDir } from '../helpers/daemon.ts';

for (const name of ['KHEISH_DAEMON_URL', 'KHEISH_DAEMON_TOKEN', 'KHEISH_DAEMON_TOKEN_FILE'])
  delete process.env[name];

const workspace = tempDir('kheish-cli-tasks-ws-');
const bg = (command: string) => ({ name: 'bash', arguments: { command, run_in_background: true } });
const SCRIPT = {
  rules: [
    {
      match: '^setup$',
      turns: [
        {
          tool_calls: [
            { name: 'task_create', arguments: { title: 'review the diff' } },
            bg('echo waiting; while [ ! -f gate ]; do sleep 0.05; done; echo released'),
            bg('echo boom >&2; exit 4'),
          ],
        },
        { text: 'ready' },
      ],
    },
  ],
};

class FakeIo implements CliIo {
  out = '';
  err = '';
  stdout(text: string): void {
    this.out += text;
  }
  stderr(text: string): void {
    this.err += text;
  }
  async readStdin(): Promise<string> {
    return '';
  }
  onInterrupt(): () => void {
    return () => {};
  }
}

describe('tasks commands against a real daemon', () => {
  let d: TestDaemon;
  const sid = 'cli-tasks';
  let work: any;
  let gated: any;
  let failing: any;

  before(async () => {
    d = await startDaemon({ script: SCRIPT, args: ['--workspace-root', workspace] });
    await http(d.url, 'POST', '/v1/runtime/permission-mode', { mode: 'bypassPermissions' });
    await http(d.url, 'POST', '/v1/sessions', { session_id: sid });
    const res = await http(d.url, 'POST', `/v1/sessions/${sid}/input`, { content: 'setup' });
    assert.equal(res.status, 200, res.text);
    const tasks = (await http(d.url, 'GET', `/v1/sessions/${sid}/tasks`)).body;
    work = tasks.find((t: any) => t.kind === 'work');
    gated = tasks.find((t: any) => t.metadata.command?.startsWith('echo waiting'));
    failing = tasks.find((t: any) => t.metadata.command?.startsWith('echo boom'));
  });
  after(async () => {
    writeFileSync(join(workspace, 'gate'), '');
    await d.stop();
    d.cleanup();
  });

  async function cli(args: string[]) {
    const io = new FakeIo();
    const code = await createCli({ io }).run(['node', 'kheish-daemon', '--base-url', d.url, ...args]);
    return { code, out: io.out, err: io.err };
  }

  test('list: a table, a status filter in CLI spelling, the page envelope and json output', async () => {
    const list = await cli(['tasks', 'list', sid]);
    assert.equal(list.code, 0, list.err);
    const lines = list.out.trimEnd().split('\n');
    assert.match(lines[0]!, /^TASK +STATUS +KIND +OWNER +BLOCKED BY +TITLE$/);
    assert.equal(lines.length, 4);
    assert.ok(lines.some((l) => l.startsWith(work.id) && /pending +work .*review the diff$/.test(l)));

    const running = await cli(['task', 'list', sid, '--status', 'in-progress']);
    assert.ok(running.out.includes(gated.id));
    assert.ok(!running.out.includes(work.id));

    const page = await cli(['tasks', 'list', sid, '--page', '--limit', '1']);
    assert.match(page.out, /\(1 of 3\)\nnext page: --cursor \S+\n$/);

    const json = await cli(['--output', 'json', 'tasks', 'list', sid]);
    assert.deepEqual(
      JSON.parse(json.out)
        .map((t: any) => t.id)
        .sort(),
      [work.id, gated.id, failing.id].sort(),
    );

    const bad = await cli(['tasks', 'list', sid, '--status', 'done']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /in-progress/);
  });

  test('get shows one task; an unknown task exits 5', async () => {
    const get = await cli(['tasks', 'get', sid, gated.id]);
    assert.equal(get.code, 0, get.err);
    assert.match(get.out, /^status: +in_progress$/m);
    assert.match(get.out, /^command: +echo waiting/m);
    assert.match(get.out, new RegExp(`tasks output ${sid} ${gated.id} --wait`));
    const missing = await cli(['tasks', 'get', sid, 'task-nope']);
    assert.equal(missing.code, 5);
    assert.match(missing.err, /task task-nope was not found/);
  });

  test('output: the text on stdout, the summary on stderr; --wait exit codes follow the command', async () => {
    const timedOut = await cli(['tasks', 'output', sid, gated.id, '--wait', '--timeout-ms', '100']);
    assert.equal(timedOut.code, 7, 'the wait ran out');
    assert.equal(timedOut.out, 'waiting\n');
    assert.match(timedOut.err, /in_progress \(still running when the wait ended\)/);

    writeFileSync(join(workspace, 'gate'), '');
    const done = await cli(['tasks', 'output', sid, gated.id, '--wait', '--full']);
    assert.equal(done.code, 0, done.err);
    assert.equal(done.out, 'waiting\nreleased\n');
    assert.match(done.err, /completed, exit 0/);

    const failed = await cli(['tasks', 'output', sid, failing.id, '--wait', '--tail-bytes', '3']);
    assert.equal(failed.code, 1, 'retrieval worked, the command failed');
    assert.equal(failed.out, 'om\n');
    assert.match(failed.err, /failed, exit 4/);

    const json = await cli(['--output', 'json', 'tasks', 'output', sid, failing.id]);
    assert.equal(json.code, 0, 'without --wait reading is the whole job');
    assert.equal(JSON.parse(json.out).retrieval_status, 'success');
  });

  test('stop cancels a task and says so', async () => {
    const stop = await cli(['tasks', 'stop', sid, work.id, '--reason', 'not needed']);
    assert.equal(stop.code, 0, stop.err);
    assert.match(stop.out, new RegExp(`^task ${work.id} cancelled, stopped$`, 'm'));
    const after = (await http(d.url, 'GET', `/v1/sessions/${sid}/tasks/${work.id}`)).body;
    assert.equal(after.metadata.stop_reason, 'not needed');
  });
});
