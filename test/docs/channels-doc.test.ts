// docs/channels.md, followed as written: its files are written where the page names them, the
// daemon starts with the page's `serve` flags, every `kheish-daemon` line of its shell blocks runs
// in order, and the output block after a command holds what it printed (message ids, which are
// random, compared as a shape; replies that run in parallel compared in any order).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { BIN, http, startDaemon, tempDir } from '../helpers/daemon.ts';
import { fencedBlocks, fileNamedBefore, cliArgs as words } from './markdown.ts';

const DOC = resolve(import.meta.dirname, '../../docs/channels.md');
const text = readFileSync(DOC, 'utf8');
const lines = text.split('\n');
const blocks = fencedBlocks('docs/channels.md', text);
const fileOf = (line: number) => fileNamedBefore(lines, line, /`([^`]+\.(?:toml|json))`:$/);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const flat = (l: string) =>
  l
    .replace(/msg-[0-9a-z]{26}/g, 'msg-ID')
    .replace(/\s+/g, ' ')
    .trim();

test('docs/channels.md: a human asks, two agents answer under the policy, as the page shows', async () => {
  const base = realpathSync(tempDir('kheish-channels-doc-'));
  const files = blocks
    .filter((b) => b.lang === 'toml' || b.lang === 'json')
    .map((b) => ({ path: fileOf(b.line), body: b.body }));
  assert.deepEqual(
    files.map((f) => f.path),
    ['routes.toml', 'script.json', 'members.json'],
  );
  for (const f of files) writeFileSync(join(base, f.path!), `${f.body}\n`);
  const serve = blocks.find((b) => b.lang === 'sh' && b.body.startsWith('kheish-daemon serve'))!;
  const flags = words(serve.body.trim())
    .slice(1)
    .map((w) => (w.startsWith('--') ? w : join(base, w)));
  const d = await startDaemon({ args: flags });
  try {
    const settle = async () => {
      for (let i = 0; i < 200; i++) {
        const res = await http(d.url, 'GET', '/v1/channels/design/leases');
        if (res.status === 200 && res.body.leases.length === 0) return;
        await sleep(50);
      }
      throw new Error('turns did not end');
    };
    const cli = async (line: string) => {
      if (/channels (messages list|leases|get)/.test(line)) await settle();
      const out = spawnSync(BIN, words(line), {
        cwd: base,
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, KHEISH_DAEMON_URL: d.url },
      });
      assert.equal(out.status, 0, `${line}\n${out.stderr}`);
      return out.stdout;
    };
    let checked = 0;
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i]!;
      if (b.lang !== 'sh' || b === serve) continue;
      let last = '';
      for (const line of b.body.trim().split('\n')) last = await cli(line);
      const shown = blocks[i + 1];
      if (shown?.lang !== 'text') continue;
      const printed = last.trimEnd().split('\n').map(flat);
      const want = shown.body.trimEnd().split('\n').map(flat);
      if (/channels messages list/.test(b.body))
        assert.deepEqual([...printed].sort(), [...want].sort(), b.where);
      else
        for (const w of want) assert.ok(printed.includes(w), `${b.where}: ${JSON.stringify(w)} in\n${last}`);
      checked++;
    }
    assert.equal(checked, 5, 'every command with an output block was checked');

    // What the page says beyond the printed lines.
    const messages = (await http(d.url, 'GET', '/v1/channels/design/messages')).body.messages;
    const replies = messages.filter((m: any) => m.sender.member_kind === 'session');
    for (const r of replies) {
      const run = (await http(d.url, 'GET', `/v1/runs/${r.origin_run_id}`)).body;
      assert.equal(run.kind, 'channel_delivery');
      assert.equal(run.session_id, r.sender.member_id, 'each agent speaks through a run in its own session');
      assert.equal(run.status, 'completed');
    }
    assert.equal(replies.length, 3);
    const policy = (await http(d.url, 'GET', '/v1/channels/design')).body.autonomy_policy;
    assert.deepEqual(policy, {
      max_parallel_public_speakers: 2,
      max_agent_replies_per_human_message: 2,
      member_cooldown_ms: 0,
      lease_timeout_ms: 60000,
      max_pending_stimuli: 32,
      max_autonomous_root_posts_per_hour: 4,
      max_active_autonomous_roots: 1,
      quiet_period_ms_after_root_post: 300000,
    });
  } finally {
    await d.kill();
    await d.cleanup();
  }
});
