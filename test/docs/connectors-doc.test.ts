// docs/connectors.md, followed as written: its files are written where the page names them, the
// daemon starts with the page's `serve` flags, the shell blocks run in order in one bash session
// (with `kheish-daemon` on PATH and the receiver on a free port instead of 9000), and the block
// after a command holds what it printed (text line by line, JSON as a value, run ids normalized).
// The receiver's line needs the deliveries feature's http plugin: it is checked when the daemon
// has `/v1/deliveries`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { BIN, http, startDaemon, tempDir } from '../helpers/daemon.ts';
import { freePort } from '../helpers/external-sidecar.ts';
import { checkShownOutputs, runBashSession } from './bash-session.ts';
import { fencedBlocks } from './markdown.ts';

const DOC = resolve(import.meta.dirname, '../../docs/connectors.md');
const text = readFileSync(DOC, 'utf8');
const blocks = fencedBlocks('docs/connectors.md', text);
const KEY = spawnSync(BIN, ['secrets', 'generate'], { encoding: 'utf8' }).stdout.trim();

const normalize = (l: string) =>
  l
    .replace(/run-[0-9a-z]{26}/g, 'run-ID')
    .replace(/\s+/g, ' ')
    .trim();

test('docs/connectors.md: the webhook quickstart runs as written and prints what the page shows', async () => {
  const dir = realpathSync(tempDir('kheish-connectors-doc-'));
  const port = String(await freePort());
  const byLang = (lang: string) => blocks.filter((b) => b.lang === lang);
  writeFileSync(join(dir, 'connectors.toml'), `${byLang('toml')[0]!.body}\n`);
  writeFileSync(join(dir, 'receiver.py'), `${byLang('python')[0]!.body}\n`);
  const alerts = byLang('json').find((b) => b.body.includes('"hmac_secret"'))!;
  writeFileSync(join(dir, 'alerts.json'), `${alerts.body.replaceAll('9000', port)}\n`);

  const serve = byLang('sh').find((b) => b.body.startsWith('kheish-daemon serve'))!;
  const flags = serve.body
    .trim()
    .split(/\s+/)
    .slice(2)
    .map((w) => (w.endsWith('.toml') ? join(dir, w) : w));
  const d = await startDaemon({
    script: { default: { turns: [{ text: 'disk cleaned' }] } },
    args: flags,
    env: { KHEISH_AUTH_STORE_MASTER_KEY: KEY, STATUS_PAGE_TOKEN: 'status-token' },
  });
  try {
    const deliveries = (await http(d.url, 'GET', '/v1/deliveries')).status !== 404;
    const shells = byLang('sh').filter(
      (b) => b !== serve && (deliveries || !b.body.includes('replies.log ]')),
    );
    const outputs = runBashSession(shells, {
      cwd: dir,
      daemon: d,
      edit: (s) => s.replaceAll('9000', port),
      killJobs: true,
    });
    const checked = checkShownOutputs(blocks, shells, outputs, {
      norm: normalize,
      normJson: true,
      notOutput: (shown) => shown === alerts,
    });
    assert.equal(checked, deliveries ? 6 : 5, 'every command with an output block was checked');

    // What the page says beyond the printed lines.
    const view = (await http(d.url, 'GET', '/v1/runtime/connectors/http/alerts')).body;
    assert.deepEqual(view.hmac_secret, {
      configured: true,
      source: 'secret_ref',
      secret_ref: 'connectors.http.alerts.hmac_secret',
      env: null,
    });
    assert.ok(!JSON.stringify(view).includes('change-me-hmac-secret'));
    const runId = JSON.parse(readFileSync(join(dir, 'accepted.json'), 'utf8')).run_id;
    const r = (await http(d.url, 'GET', `/v1/runs/${runId}`)).body;
    assert.equal(r.kind, 'input');
    assert.equal(r.request.source_plugin, 'http');
    const bad = await http(
      d.url,
      'POST',
      '/v1/connectors/http/alerts',
      '{"content":"x","idempotency_key":"z"}',
      {
        'x-kheish-timestamp': String(Math.floor(Date.now() / 1000)),
        'x-kheish-signature': `v1=${'0'.repeat(64)}`,
      },
    );
    assert.equal(bad.status, 401);
    const file = (await http(d.url, 'GET', '/v1/runtime/connectors/http/status-page')).body;
    assert.equal(file.source, 'file');
    const ok = await http(
      d.url,
      'POST',
      '/v1/connectors/http/status-page',
      { content: 'up', idempotency_key: 's1' },
      {
        authorization: 'Bearer status-token',
      },
    );
    assert.equal(ok.status, 202, ok.text);
    assert.equal(ok.body.session_id, 'status');
  } finally {
    await d.kill();
    await d.cleanup();
  }
});
