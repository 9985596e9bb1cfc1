// docs/projects.md, followed as written: its routes file and script are written where the page
// names them, the daemon starts with the page's `serve` flags, every `kheish-daemon` line of its
// shell blocks runs in order (the ids the page calls <message_id> and <run_id> are the ones the
// commands before printed), and the output block after a command holds lines it printed. Then
// what the page says happened: the task completed from the channel thread, the roster mirrors the
// members, the JSON bodies are accepted as written.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { BIN, http, startDaemon, tempDir } from '../helpers/daemon.ts';
import { fencedBlocks, fileNamedBefore, cliArgs as words } from './markdown.ts';

const DOC = resolve(import.meta.dirname, '../../docs/projects.md');
const text = readFileSync(DOC, 'utf8');
const lines = text.split('\n');
const blocks = fencedBlocks('docs/projects.md', text);

test('docs/projects.md: the worked example runs as written; the task made from the thread completes', async () => {
  const base = realpathSync(tempDir('kheish-projects-doc-'));
  const files = blocks
    .filter((b) => b.lang === 'toml' || b.lang === 'json')
    .map((b) => ({ path: fileNamedBefore(lines, b.line, /^`([^`]+)`:$/), body: b.body }))
    .filter((f) => f.path !== undefined);
  assert.deepEqual(
    files.map((f) => f.path),
    ['routes.toml', 'script.json'],
  );
  for (const f of files) writeFileSync(join(base, f.path!), `${f.body}\n`);
  const serve = blocks.find((b) => b.lang === 'sh' && b.body.startsWith('kheish-daemon serve'))!;
  const flags = words(serve.body.trim())
    .slice(1)
    .map((w) => (w.startsWith('--') ? w : join(base, w)));
  const d = await startDaemon({ args: flags });
  const ids: Record<string, string> = {};
  const fill = (s: string) => s.replace(/<(message_id|run_id)>/g, (_, k: string) => ids[k] ?? `<${k}>`);
  try {
    const cli = (line: string) => {
      const out = spawnSync(BIN, words(fill(line)), {
        cwd: base,
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, KHEISH_DAEMON_URL: d.url },
      });
      assert.equal(out.status, 0, `${line}\n${out.stderr}`);
      if (line.includes('channels messages post')) ids.message_id = /msg-[0-9a-z]+/.exec(out.stdout)![0];
      if (line.includes('tasks start')) ids.run_id = /run-[0-9a-z]+/.exec(out.stdout)![0];
      return out.stdout;
    };
    let checked = 0;
    blocks.forEach((b, i) => {
      if (b.lang !== 'sh' || b === serve) return;
      let last = '';
      for (const line of b.body.trim().split('\n')) last = cli(line);
      const shown = blocks[i + 1];
      if (shown?.lang !== 'text') return;
      // Key/value views pad keys to the longest one printed: compare with spaces collapsed.
      const flat = (l: string) => l.replace(/\s+/g, ' ').trim();
      const printed = last.trimEnd().split('\n').map(flat);
      for (const want of fill(shown.body).trimEnd().split('\n'))
        assert.ok(printed.includes(flat(want)), `${b.where}: ${JSON.stringify(want)} in\n${last}`);
      checked++;
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
