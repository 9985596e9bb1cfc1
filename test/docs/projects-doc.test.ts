// docs/projects.md, followed as written: its routes file and script are written where the page
// names them, the daemon starts with the page's `serve` flags, every `kheish-daemon` line of its
// shell blocks runs in order (the ids the page calls <message_id> and <run_id> are the ones the
// commands before printed), and the output block after a command holds lines it printed. Then
// what the page says happened: the task completed from the channel thread, the roster mirrors the
// members, the JSON bodies are accepted as written.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { http } from '../helpers/daemon.ts';
import { cliLine, filler, readPage, runShellBlocks, startPageDaemon } from './walkthrough.ts';

const page = readPage('projects.md');
const { blocks } = page;

test('docs/projects.md: the worked example runs as written; the task made from the thread completes', async () => {
  const { base, serve, d } = await startPageDaemon(page, {
    prefix: 'kheish-projects-doc-',
    files: ['routes.toml', 'script.json'],
  });
  const ids: Record<string, string> = {};
  const fill = filler(ids, /message_id|run_id/);
  try {
    const checked = await runShellBlocks(blocks, {
      skip: serve,
      fill,
      run: (line) => {
        const out = cliLine(d, base, fill(line));
        if (line.includes('channels messages post')) ids.message_id = /msg-[0-9a-z]+/.exec(out)![0];
        if (line.includes('tasks start')) ids.run_id = /run-[0-9a-z]+/.exec(out)![0];
        return out;
      },
    });
    assert.equal(checked, 4, 'every command with an output block was checked');

    const task = (await http(d.url, 'GET', '/v1/projects/release/tasks/check-routes')).body;
    assert.equal(task.status, 'completed');
    assert.equal(task.latest_run_id, ids.run_id);
    assert.deepEqual(task.discussion, { channel_id: 'release-room', thread_root_message_id: ids.message_id });
    const run = (await http(d.url, 'GET', `/v1/runs/${ids.run_id}`)).body;
    assert.equal(run.kind, 'input');
    assert.equal(run.session_id, 'impl');
    const roster = (await http(d.url, 'GET', '/v1/channels/release-room/members')).body.members.map(
      (m: any) => m.member_id,
    );
    for (const id of ['alice', 'impl', 'review', 'project:release:impl', 'project:release:alice'])
      assert.ok(roster.includes(id), `${id} in the roster ${roster}`);
    const kinds = (await http(d.url, 'GET', '/v1/projects/release/events')).body.map((e: any) => e.kind);
    for (const k of ['project_created', 'task_created', 'task_started', 'task_followed_run'])
      assert.ok(kinds.includes(k), `${k} in ${kinds}`);

    // The HTTP bodies of the page are accepted as they are.
    const json = blocks.filter((b) => b.lang === 'json').map((b) => JSON.parse(b.body));
    const created = await http(d.url, 'POST', '/v1/projects', json[1]);
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.channel_links[0].default_for_new_tasks, true);
    const t = await http(d.url, 'POST', '/v1/projects/release-http/tasks', json[2]);
    assert.equal(t.status, 201, t.text);
  } finally {
    await d.kill();
    await d.cleanup();
  }
});
