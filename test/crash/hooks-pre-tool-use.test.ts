// Crash scenario: the daemon is SIGKILLed while a blocking pre_tool_use hook is deciding a bash
// call. The assistant turn that asked for the call is durable before the hook runs, so after the
// restart the run re-evaluates the same call (same invocation_key), runs bash once, and finishes.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { http, startDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { journalPayloads } from '../helpers/state-query.ts';
import { commandHook, script, setHooks } from '../hooks/hook-scripts.ts';
import { sleep } from './crash-kit.ts';

test('crash: SIGKILL during a blocking pre_tool_use hook → after restart the call is re-evaluated under the same invocation_key and runs once', async () => {
  const workspace = tempDir('kheish-hook-crash-ws-');
  const dir = tempDir('kheish-hook-crash-');
  const keys = join(dir, 'keys.txt');
  const pidFile = join(dir, 'hook.pid');
  // First evaluation: note the key, then hang (the daemon dies meanwhile); later ones answer at once.
  const hook = script(
    dir,
    'slow-guard.sh',
    [
      `key=$(sed -n 's/.*"invocation_key":"\\([^"]*\\)".*/\\1/p')`,
      `echo "$key" >> ${keys}`,
      `if [ ! -f ${dir}/slept ]; then touch ${dir}/slept; echo $$ > ${pidFile}; sleep 30; fi`,
      `echo '{"decision":"approve"}'`,
    ].join('\n'),
  );
  const d = await startDaemon({
    script: {
      rules: [
        {
          match: 'append',
          turns: [
            { tool_calls: [{ name: 'bash', arguments: { command: 'echo ran >> ran.txt' } }] },
            { text: 'done' },
          ],
        },
      ],
    },
    args: ['--workspace-root', workspace],
  });
  let restarted: typeof d | null = null;
  try {
    await http(d.url, 'POST', '/v1/runtime/permission-mode', { mode: 'bypassPermissions' });
    const set = await setHooks(d.url, {
      pre_tool_use: [commandHook('slow-guard', hook, { matcher: 'bash' }, 30_000)],
    });
    assert.equal(set.status, 200, set.text);
    await http(d.url, 'POST', '/v1/sessions', { session_id: 'crash-hook' });
    const run = (await http(d.url, 'POST', '/v1/sessions/crash-hook/runs', { content: 'append a line' }))
      .body;
    for (let i = 0; i < 200 && !existsSync(pidFile); i++) await sleep(25);
    assert.ok(existsSync(pidFile), 'the hook is running');
    await d.kill();
    // The hook's process group outlived the daemon (it was SIGKILLed, nobody reaped it): end it.
    try {
      process.kill(-Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    } catch {
      // already gone
    }
    assert.equal(existsSync(join(workspace, 'ran.txt')), false, 'bash did not run before the crash');

    restarted = await d.restart();
    const done = await waitForRun(restarted.url, run.run_id, undefined, 20_000);
    assert.equal(done.status, 'completed', JSON.stringify(done));
    const seen = readFileSync(keys, 'utf8').trim().split('\n');
    assert.equal(seen.length, 2, 'evaluated once before the crash and once after');
    assert.equal(seen[0], seen[1], 'the same invocation_key');
    assert.match(seen[0]!, /^hk-[0-9a-f]{32}$/);
    assert.equal(readFileSync(join(workspace, 'ran.txt'), 'utf8'), 'ran\n', 'bash ran exactly once');
    assert.equal(
      (await journalPayloads(restarted, run.run_id, 'assistant_message')).length,
      2,
      'no model turn replayed',
    );
    assert.equal((await journalPayloads(restarted, run.run_id, 'tool_call_started')).length, 1);
  } finally {
    await (restarted ?? d).kill().catch(() => undefined);
    await (restarted ?? d).cleanup();
  }
});
