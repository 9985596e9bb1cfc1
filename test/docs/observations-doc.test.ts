// docs/observations.md, followed as written: the daemon starts, each `export` line sets the
// variable for the next commands, every `kheish-daemon` line of its shell blocks runs in order from
// a scratch directory holding `frame-001.png`, and the text block after a command holds lines that
// command printed. The page's JSON bodies are then sent as they are.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { BIN, http, startDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { png, pngBase64 } from '../helpers/observations.ts';
import { fencedBlocks, shellWords } from './markdown.ts';

const DOC = resolve(import.meta.dirname, '../../docs/observations.md');
const blocks = fencedBlocks('docs/observations.md', readFileSync(DOC, 'utf8'));

test('docs/observations.md: the walkthrough runs as written and prints what the page shows', async () => {
  const dir = realpathSync(tempDir('kheish-observations-doc-'));
  writeFileSync(join(dir, 'frame-001.png'), png(1));
  const d = await startDaemon({ script: { default: { turns: [{ text: 'summary' }] } } });
  const env: Record<string, string> = {};
  try {
    let checked = 0;
    let ran = 0;
    blocks.forEach((b, i) => {
      if (b.lang !== 'sh') return;
      let last = '';
      for (const line of b.body.trim().split('\n')) {
        const exported = /^export (\w+)=(\S+)$/.exec(line);
        if (exported) {
          env[exported[1]!] = exported[2]!;
          continue;
        }
        const out = spawnSync(BIN, shellWords(line).slice(1), {
          cwd: dir,
          encoding: 'utf8',
          timeout: 30_000,
          env: { ...process.env, ...env, KHEISH_DAEMON_URL: d.url },
        });
        assert.equal(out.status, 0, `${line}\n${out.stderr}`);
        last = out.stdout;
        ran++;
      }
      const shown = blocks[i + 1];
      if (shown?.lang !== 'text') return;
      const flat = (l: string) => l.replace(/\s+/g, ' ').trim();
      const printed = last.trimEnd().split('\n').map(flat);
      for (const want of shown.body.trimEnd().split('\n'))
        assert.ok(printed.includes(flat(want)), `${b.where}: ${JSON.stringify(want)} in\n${last}`);
      checked++;
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
