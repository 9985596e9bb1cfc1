// Recovered run memory under SIGKILL (concepts §4.9): a session runs tasks on a provider route, the
// daemon is killed — once while a model call is in flight — and restarted. Afterwards the killed run
// ends with exactly one record, boot repair deleted nothing that belongs to a terminal run, and the
// next prompt carries the memory of the runs before the crash, bounded by the policy.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FixtureServer } from '../fixtures/providers/harness.ts';
import { startOpenAiServer } from '../fixtures/providers/openai-server.ts';
import { http, tempDir, waitForRun } from '../helpers/daemon.ts';
import { promptOf, recoveredIds } from '../helpers/memory-prompt.ts';
import { writeScriptedAndOpenAiRoutes } from '../helpers/openai-route.ts';
import { queryState } from '../helpers/state-query.ts';
import { CrashRig, ITERATIONS, sleep } from './crash-kit.ts';

const dir = tempDir('kheish-crash-memory-');
writeFileSync(join(dir, 'script.json'), JSON.stringify({ default: { turns: [{ text: 'ok' }] } }));
let openai: FixtureServer;

before(async () => {
  openai = await startOpenAiServer();
  writeScriptedAndOpenAiRoutes(dir, openai.origin);
});
after(async () => {
  await openai?.close();
});

test('run memory survives SIGKILL: one record per terminal run, and the next prompt recalls runs before the crash', async () => {
  // One rig: the wire server's reply queue is shared, so runs go one at a time.
  const rig = await CrashRig.start({
    args: ['--routes-file', join(dir, 'routes.toml')],
    env: { TEST_OPENAI_KEY: 'sk-test-crash-memory', HOME: tempDir('kheish-crash-memory-home-') },
  });
  try {
    for (let it = 0; it < Math.min(ITERATIONS, 4); it++) {
      const session = `crash-mem-${it}`;
      assert.equal((await http(rig.url, 'POST', '/v1/sessions', { session_id: session })).status, 201);
      const before: string[] = [];
      for (const task of ['index the wiki', 'compress the archive', 'email the summary']) {
        before.push((await promptOf(rig.daemon, openai, session, `${task} (${it})`)).run.run_id);
      }
      // A run killed while its model call hangs: the kill waits until the wire server holds the
      // call, or a restart could take the `hang` reply meant for the killed one and never end.
      openai.enqueue({ kind: 'hang', deltas: ['partial'] });
      const callsBefore = openai.requests.length;
      const cut = await http(rig.url, 'POST', `/v1/sessions/${session}/runs`, {
        content: `rebuild the search index (${it})`,
        provider: 'gpt',
      });
      assert.equal(cut.status, 202, cut.text);
      await waitForRun(rig.url, cut.body.run_id, (r) => r.status === 'running', 15_000);
      for (let waited = 0; openai.requests.length === callsBefore; waited += 10) {
        assert.ok(waited < 15_000, 'the model call reached the wire server');
        await sleep(10);
      }
      await sleep(it * 30);
      await rig.crash();
      // The resumed model call's reply (a run that does not resume leaves it to the next one).
      openai.enqueue({ kind: 'text', deltas: ['rebuilt'] });
      await rig.restart();
      const ended = await waitForRun(rig.url, cut.body.run_id, undefined, 30_000);
      assert.ok(['completed', 'interrupted', 'failed'].includes(ended.status), ended.status);

      const records = await queryState(
        rig.daemon,
        'select run_id, status from run_memories where session_id = ?',
        [session],
      );
      const ids = records.map((r) => r.run_id).sort();
      assert.deepEqual(ids, [...before, cut.body.run_id].sort(), 'one record per terminal run, none lost');
      const killed = records.find((r) => r.run_id === cut.body.run_id)!;
      assert.equal(killed.status, ended.status);

      const next = await promptOf(rig.daemon, openai, session, 'what happened with the archive?');
      const seen = recoveredIds(next.system);
      assert.equal(seen.length, 3, next.system);
      assert.equal(seen[0], before[1], 'the archive task ranks first');
      const status = (await http(rig.url, 'GET', '/v1/status')).body.run_memory;
      assert.equal(status.maintenance.source, 'boot');
      assert.equal(status.maintenance.orphan_pruned, 0);
      assert.equal(status.maintenance.rebuilt, true);
    }
  } finally {
    await rig.dispose();
  }
});
