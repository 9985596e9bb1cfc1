// docs/channels.md, followed as written: its files are written where the page names them, the
// daemon starts with the page's `serve` flags, every `kheish-daemon` line of its shell blocks runs
// in order, and the output block after a command holds what it printed (message ids, which are
// random, compared as a shape; replies that run in parallel compared in any order).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { http } from '../helpers/daemon.ts';
import { assertShown, cliLine, readPage, runShellBlocks, startPageDaemon } from './walkthrough.ts';

const page = readPage('channels.md');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const flat = (l: string) =>
  l
    .replace(/msg-[0-9a-z]{26}/g, 'msg-ID')
    .replace(/\s+/g, ' ')
    .trim();

test('docs/channels.md: a human asks, two agents answer under the policy, as the page shows', async () => {
  const { base, serve, d } = await startPageDaemon(page, {
    prefix: 'kheish-channels-doc-',
    named: /`([^`]+\.(?:toml|json))`:$/,
    files: ['routes.toml', 'script.json', 'members.json'],
  });
  try {
    const settle = async () => {
      for (let i = 0; i < 200; i++) {
        const res = await http(d.url, 'GET', '/v1/channels/design/leases');
        if (res.status === 200 && res.body.leases.length === 0) return;
        await sleep(50);
      }
      throw new Error('turns did not end');
    };
    const checked = await runShellBlocks(page.blocks, {
      skip: serve,
      run: async (line) => {
        if (/channels (messages list|leases|get)/.test(line)) await settle();
        return cliLine(d, base, line);
      },
      check: (last, shown, b) => {
        if (/channels messages list/.test(b.body)) {
          const printed = last.trimEnd().split('\n').map(flat);
          const want = shown.trimEnd().split('\n').map(flat);
          assert.deepEqual([...printed].sort(), [...want].sort(), b.where);
        } else assertShown(last, shown, b.where, { norm: flat });
      },
    });
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
