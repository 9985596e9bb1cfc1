// docs/observations.md, followed as written: the daemon starts, each `export` line sets the
// variable for the next commands, every `kheish-daemon` line of its shell blocks runs in order from
// a scratch directory holding `frame-001.png`, and the text block after a command holds lines that
// command printed. The page's JSON bodies are then sent as they are.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { http, startDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { png, pngBase64 } from '../helpers/observations.ts';
import { shellWords } from './markdown.ts';
import { cliLine, readPage, runShellBlocks } from './walkthrough.ts';

const { blocks } = readPage('observations.md');

test('docs/observations.md: the walkthrough runs as written and prints what the page shows', async () => {
  const dir = realpathSync(tempDir('kheish-observations-doc-'));
  writeFileSync(join(dir, 'frame-001.png'), png(1));
  const d = await startDaemon({ script: { default: { turns: [{ text: 'summary' }] } } });
  const env: Record<string, string> = {};
  try {
    let ran = 0;
    const checked = await runShellBlocks(blocks, {
      run: (line) => {
        const exported = /^export (\w+)=(\S+)$/.exec(line);
        if (exported) {
          env[exported[1]!] = exported[2]!;
          return undefined;
        }
        ran++;
        return cliLine(d, dir, line, { env, words: shellWords });
      },
    });
    assert.equal(checked, 6, 'every command with an output block was checked');
    assert.equal(ran, 12);

    // What the page says beyond the printed lines.
    const obs = (await http(d.url, 'GET', '/v1/observations?source_id=screen-main&stream_id=call-7')).body;
    assert.equal(obs.length, 1);
    assert.equal(obs[0].idempotency_key, 'screen-main:frame-001');
    assert.equal(obs[0].metadata.capture_group_id, 'call-context-1');
    const [schedule] = (await http(d.url, 'GET', '/v1/schedules?session_id=incident-review')).body;
    assert.equal(schedule.observation_materialization.selection.type, 'latest_from_stream');
    assert.equal(schedule.name, 'screen-main observations');
    const runs = (await http(d.url, 'GET', '/v1/runs?session_id=incident-review')).body;
    assert.equal(runs[0].kind, 'observation_materialization');
    await waitForRun(d.url, runs[0].run_id);
    const config = join(dir, 'capture-configs', 'laptop-01.toml');
    assert.ok(existsSync(config));
    assert.equal(statSync(config).mode & 0o777, 0o600, 'the config holding tokens is owner-only');
    assert.match(readFileSync(config, 'utf8'), /heartbeat_token = "khb_/);
    const agent = (await http(d.url, 'GET', '/v1/capture-agents/laptop-01')).body;
    assert.equal(agent.status, 'revoked');
    const audit = (await http(d.url, 'GET', '/v1/observation-audit?source_id=screen-main')).text;
    assert.ok(!audit.includes('screen-upload-token-000'), 'no token in the audit');

    // The HTTP bodies of the page are accepted as they are.
    const json = blocks.filter((b) => b.lang === 'json').map((b) => JSON.parse(b.body));
    assert.equal(json.length, 3);
    const created = await http(d.url, 'POST', '/v1/observation-sources', {
      ...json[0],
      source_id: 'screen-http',
    });
    assert.equal(created.status, 201, created.text);
    const body = { ...json[1], upload: { ...json[1].upload, content_base64: pngBase64(2) } };
    const up = await http(d.url, 'POST', '/v1/observation-sources/screen-http/observations', body, {
      authorization: `Bearer ${json[0].upload_token}`,
    });
    assert.equal(up.status, 201, up.text);
    const m = await http(d.url, 'POST', '/v1/observation-materializations', {
      ...json[2],
      selection: { ...json[2].selection, source_id: 'screen-http' },
    });
    assert.equal(m.status, 202, m.text);
    assert.equal(m.body.kind, 'observation_materialization');
  } finally {
    await d.kill();
    await d.cleanup();
  }
});
