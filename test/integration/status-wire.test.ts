// GET /v1/status and GET /v1/runtime carry the fields the published Kheish docs and runbooks read:
// health.ok, provider readiness counts and per-route capabilities, run ages and idle times with
// the stale-run warning, and the runtime config's store_path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { http, startDaemon, waitForRun } from '../helpers/daemon.ts';

const FLAGS = [
  'multimodal_input',
  'native_web_search',
  'image_generation',
  'image_edit',
  'audio_generation',
  'transcription',
];

test('status: provider readiness per route and health.ok on a healthy route inventory; runtime config.store_path', async () => {
  const d = await startDaemon({
    routesToml: `version = 1
default_route = "local"

[routes.local]
driver = "scripted"
default_model = "scripted"

[routes.vendor]
driver = "openai_compatible"
default_model = "llama3.2"
base_url = "http://127.0.0.1:9/v1"
`,
  });
  try {
    const s = (await http(d.url, 'GET', '/v1/status')).body;
    const pr = s.provider_readiness;
    assert.equal(pr.active_route_ready, true);
    assert.equal(pr.error_route_count, 0);
    assert.equal(pr.route_count, 2);
    const byId = Object.fromEntries(pr.routes.map((r: { route_id: string }) => [r.route_id, r]));
    assert.deepEqual(
      [byId.local.provider, byId.local.model, byId.local.active],
      ['scripted', 'scripted', true],
    );
    assert.deepEqual(
      [byId.vendor.provider, byId.vendor.model, byId.vendor.active],
      ['openai_compatible', 'llama3.2', false],
    );
    for (const r of pr.routes) {
      assert.equal(r.matrix_version, 2);
      for (const flag of FLAGS) assert.equal(typeof r[flag], 'boolean', `${r.route_id}.${flag}`);
    }
    // ok means no warning above info; an unsandboxed bash is a warning on hosts without bubblewrap.
    const loud = s.health.warnings.filter((w: { severity: string }) => w.severity !== 'info');
    assert.equal(s.health.ok, loud.length === 0, JSON.stringify(s.health.warnings));
    assert.equal(s.health.route_error_count, 0);
    assert.equal(s.runs.oldest_queued_run_age_ms, null);
    assert.equal(s.runs.oldest_non_terminal_run_idle_ms, null);
    assert.equal(s.runs.stale_non_terminal_run_threshold_ms, 30 * 60_000);

    const runtime = (await http(d.url, 'GET', '/v1/runtime')).body;
    assert.equal(typeof runtime.config.store_path, 'string');
    assert.equal(runtime.config.store_path, s.storage.location);
  } finally {
    await d.kill();
    await d.cleanup();
  }
});

test('status: an active route that is not ready makes active_route_ready false, counts it, and health.ok false', async () => {
  const d = await startDaemon({
    routesToml: `version = 1
default_route = "ant"

[routes.ant]
driver = "anthropic"
default_model = "claude"

[routes.ok]
driver = "scripted"
default_model = "m"
`,
  });
  try {
    const s = (await http(d.url, 'GET', '/v1/status')).body;
    assert.equal(s.provider_readiness.active_route_ready, false);
    assert.equal(s.provider_readiness.error_route_count, 1);
    assert.equal(s.health.route_error_count, 1);
    assert.equal(s.health.ok, false);
    assert.ok(s.health.warnings.some((w: { code: string }) => w.code === 'provider_active_route_not_ready'));
  } finally {
    await d.kill();
    await d.cleanup();
  }
});

test('status: queued age, idle time and the stale_non_terminal_runs warning past the threshold', async () => {
  const d = await startDaemon({
    script: { rules: [{ match: '^hang', turns: [{ hang: true }] }], default: { turns: [{ text: 'ok' }] } },
    env: { KHEISH_STALE_NON_TERMINAL_RUN_THRESHOLD_MS: '1' },
  });
  try {
    await http(d.url, 'POST', '/v1/sessions', { session_id: 'stuck' });
    const hung = (await http(d.url, 'POST', '/v1/sessions/stuck/runs', { content: 'hang' })).body;
    const queued = (await http(d.url, 'POST', '/v1/sessions/stuck/runs', { content: 'later' })).body;
    assert.equal(queued.status, 'queued');
    let s: any;
    // The run idles past a 1 ms threshold as soon as any time passes; poll instead of sleeping.
    for (;;) {
      s = (await http(d.url, 'GET', '/v1/status')).body;
      if (s.runs.stale_non_terminal_run_count === 2) break;
    }
    assert.equal(s.runs.stale_non_terminal_run_threshold_ms, 1);
    assert.equal(s.runs.oldest_queued_run_id, queued.run_id);
    assert.equal(typeof s.runs.oldest_queued_run_age_ms, 'number');
    assert.equal(s.runs.oldest_non_terminal_run_id, hung.run_id);
    assert.equal(typeof s.runs.oldest_non_terminal_run_idle_ms, 'number');
    assert.ok(s.runs.oldest_non_terminal_run_idle_ms >= 1);
    assert.equal(s.runs.max_session_queue_depth, 1);
    assert.deepEqual([...s.runs.stale_non_terminal_run_ids].sort(), [hung.run_id, queued.run_id].sort());
    const stale = s.health.warnings.find((w: { code: string }) => w.code === 'stale_non_terminal_runs');
    assert.ok(stale, JSON.stringify(s.health.warnings));
    assert.equal(stale.severity, 'warning');
    assert.ok([hung.run_id, queued.run_id].includes(stale.related_id));
    assert.equal(s.health.ok, false);

    await http(d.url, 'POST', `/v1/runs/${hung.run_id}/cancel`);
    await http(d.url, 'POST', `/v1/runs/${queued.run_id}/cancel`);
    await waitForRun(d.url, queued.run_id);
    const after = (await http(d.url, 'GET', '/v1/status')).body;
    assert.equal(after.runs.stale_non_terminal_run_count, 0);
    assert.equal(after.runs.oldest_non_terminal_run_idle_ms, null);
    assert.ok(!after.health.warnings.some((w: { code: string }) => w.code === 'stale_non_terminal_runs'));
  } finally {
    await d.kill();
    await d.cleanup();
  }
});
