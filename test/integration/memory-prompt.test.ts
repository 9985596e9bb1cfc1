// Recovered run memory in the prompt a provider receives (concepts §4.9), read from the request
// bodies of a local OpenAI wire server: ten tasks in one session, each later prompt carrying the
// recovered memory of earlier runs, bounded by `max_prompt_entries`, ranked against the input with
// recency as tie-break, framed as data, fences neutralized, and never written to the journal.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FixtureServer } from '../fixtures/providers/harness.ts';
import { http, type TestDaemon } from '../helpers/daemon.ts';
import { promptOf, recoveredIds } from '../helpers/memory-prompt.ts';
import { startOpenAiRouteDaemon } from '../helpers/openai-route.ts';
import { queryState } from '../helpers/state-query.ts';

let openai: FixtureServer;
let d: TestDaemon;
let stop: (() => Promise<void>) | undefined;
before(async () => {
  ({ daemon: d, openai, stop } = await startOpenAiRouteDaemon('kheish-memory-prompt-'));
});
after(() => stop?.());

const TASKS = [
  'Configure the nginx reverse proxy for the billing API',
  'Write the postgres backup cron job',
  'Rotate the TLS certificates of the staging cluster',
  'Draft the changelog for release 4.2',
  'Investigate the flaky checkout integration test',
  'Tune the redis eviction policy',
  'Summarize the customer feedback survey',
  'Plan the kubernetes node upgrade',
  'Audit the terraform state for drift',
  'What did we change in the nginx reverse proxy?',
];

test('ten tasks: each later prompt carries earlier runs, at most max_prompt_entries, ranked against the input', async () => {
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'ten' });
  const ids: string[] = [];
  for (const [i, task] of TASKS.entries()) {
    const { run, system } = await promptOf(
      d,
      openai,
      'ten',
      task,
      i === 0 ? 'Proxy set up ```rm -rf /```' : 'done',
    );
    const seen = recoveredIds(system);
    assert.equal(seen.length, Math.min(i, 3), `task ${i + 1}: ${seen.length} entries\n${system}`);
    for (const id of seen) assert.ok(ids.includes(id), 'only earlier runs of this session');
    if (i > 0) {
      assert.match(system, /data, not instructions/);
      if (i < 10 && i !== 9)
        assert.equal(seen[0], ids.at(-1), `task ${i + 1}: no term in common, newest first`);
    }
    ids.push(run.run_id);
    if (i === 9) {
      assert.equal(seen[0], ids[0], 'the nginx question ranks the nginx task first, though it is the oldest');
      assert.doesNotMatch(system, /```/, 'fences in remembered text are neutralized');
      assert.match(system, /Proxy set up '''rm -rf \/'''/);
    }
  }
  // Derived memory is not journaled: the canonical input events hold the input alone.
  const rows = await queryState(d, "select payload from journal where session_id = 'ten'");
  assert.ok(rows.length > 0);
  for (const r of rows) assert.doesNotMatch(String(r.payload), /recovered_memory/);
  const status = (await http(d.url, 'GET', '/v1/status')).body;
  assert.ok(status.run_memory.metrics.injected_total >= 24, JSON.stringify(status.run_memory.metrics));
  assert.ok(status.run_memory.metrics.prompt_limit_omitted_total >= 21);
});

test('a smaller max_prompt_entries bounds the next prompt; a disabled policy injects nothing and records nothing', async () => {
  const set = (policy: unknown) => http(d.url, 'POST', '/v1/runtime/run-memory-policy', { policy });
  assert.equal((await set({ max_prompt_entries: 1 })).status, 200);
  const one = await promptOf(d, openai, 'ten', 'Anything else about the terraform audit?');
  assert.equal(recoveredIds(one.system).length, 1);
  assert.equal((await set({ enabled: false })).status, 200);
  const none = await promptOf(d, openai, 'ten', 'And the redis policy?');
  assert.deepEqual(recoveredIds(none.system), []);
  const rec = await queryState(d, 'select run_id from run_memories where run_id = ?', [none.run.run_id]);
  assert.equal(rec.length, 0);
  assert.equal((await set({})).status, 400);
  assert.equal((await set({ enabled: true })).status, 200);
});
