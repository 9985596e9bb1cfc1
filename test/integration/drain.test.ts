// Draining, observed in-process so the window is deterministic: readiness flips to 503 and new
// work is refused with the same problem while in-flight runs are checkpointed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { resolveServeConfig } from '../../src/config/serve-options.ts';
import { startDaemon } from '../../src/daemon.ts';
import { http, tempDir, waitForRun, writeRoutes } from '../helpers/daemon.ts';

test('api-core #4: while draining, /readyz answers 503 readiness/daemon_draining and submits are refused', async () => {
  const stateRoot = tempDir();
  const routesFile = writeRoutes(tempDir(), { default: { turns: [{ delay_ms: 5000, text: 'late' }] } });
  const config = resolveServeConfig({ bind: '127.0.0.1:0', stateRoot, routesFile }, {});
  const daemon = await startDaemon(config, pino({ level: 'silent' }));
  try {
    assert.equal((await http(daemon.url, 'GET', '/readyz')).text, 'ready\n');
    await http(daemon.url, 'POST', '/v1/sessions', { session_id: 'd' });
    const run = (await http(daemon.url, 'POST', '/v1/sessions/d/runs', { content: 'x' })).body.run_id;
    await waitForRun(daemon.url, run, (r) => r.status === 'running');
    assert.equal(await daemon.engine.drain(), 1, 'one in-flight executor was stopped');
    const ready = await http(daemon.url, 'GET', '/readyz');
    assert.equal(ready.status, 503);
    assert.equal(ready.headers.get('content-type'), 'application/problem+json');
    assert.equal(ready.body.domain, 'readiness');
    assert.equal(ready.body.code, 'daemon_draining');
    const refused = await http(daemon.url, 'POST', '/v1/sessions/d/runs', { content: 'y' });
    assert.equal(refused.status, 503);
    assert.equal(refused.body.code, 'daemon_draining');
    const status = await http(daemon.url, 'GET', '/v1/status');
    assert.equal(status.body.status, 'draining');
    assert.equal(status.body.ready, false);
    assert.equal(
      (await http(daemon.url, 'GET', `/v1/runs/${run}`)).body.status,
      'running',
      'checkpointed, not failed',
    );
  } finally {
    await daemon.shutdown('test');
  }
});
