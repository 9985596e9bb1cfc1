// A run recorded with --record-cassette replays offline, call for call, through a scripted route.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { http, startDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';

test('record a run as a cassette, then replay it with a scripted route and get the same outputs', async () => {
  const cassettes = tempDir('kheish-cassette-');
  const original = {
    default: {
      turns: [
        { error: { status: 429, retry_after_ms: 0 } },
        {
          text: 'let me check',
          tool_calls: [{ id: 'c1', name: 'lookup', arguments: { q: 'x' } }],
          usage: { input_tokens: 9, output_tokens: 4 },
        },
        { text: 'the answer is 42', usage: { input_tokens: 20, output_tokens: 6 } },
      ],
    },
  };
  const rec = await startDaemon({ script: original, args: ['--record-cassette', cassettes] });
  let recorded: any;
  try {
    await http(rec.url, 'POST', '/v1/sessions', { session_id: 'bug' });
    const run = (await http(rec.url, 'POST', '/v1/sessions/bug/runs', { content: 'question' })).body.run_id;
    recorded = await waitForRun(rec.url, run);
  } finally {
    await rec.kill();
    rec.cleanup();
  }
  assert.equal(recorded.status, 'completed');
  const files = readdirSync(cassettes);
  assert.deepEqual(files, [`${recorded.run_id}.local.json`]);
  const cassette = JSON.parse(readFileSync(join(cassettes, files[0]!), 'utf8'));
  assert.equal(cassette.default.turns.length, 3);
  assert.equal(cassette.default.turns[0].error.status, 429);

  const dir = tempDir('kheish-routes-');
  writeFileSync(
    join(dir, 'routes.toml'),
    `version = 1\n[routes.replay]\ndriver = "scripted"\ndefault_model = "cassette"\nscript_file = "${join(cassettes, files[0]!)}"\n`,
  );
  const replay = await startDaemon({ args: ['--routes-file', join(dir, 'routes.toml')] });
  try {
    await http(replay.url, 'POST', '/v1/sessions', { session_id: 'bug' });
    const run = (await http(replay.url, 'POST', '/v1/sessions/bug/runs', { content: 'question' })).body
      .run_id;
    const replayed = await waitForRun(replay.url, run);
    assert.equal(replayed.status, 'completed');
    assert.deepEqual(
      replayed.outputs.map((o: { content: string }) => o.content),
      recorded.outputs.map((o: { content: string }) => o.content),
    );
    assert.deepEqual({ ...replayed.usage, cost_usd: 0 }, { ...recorded.usage, cost_usd: 0 });
  } finally {
    await replay.kill();
    replay.cleanup();
  }
});
