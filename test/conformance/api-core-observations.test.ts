// Observation sources, tokens and capture agents (api-core §8.1–8.2, #14 and #85; concepts §4.14),
// on the store KHEISH_TEST_STORE picks. Upload acceptance, replay and rate limits are in
// api-core-observations-ingest.test.ts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { sourceBody, upload, uploadBody } from '../helpers/observations.ts';
import { queryState } from '../helpers/state-query.ts';
import { assertProblem, sleep } from './support.ts';

const ADMIN = 'admin-token-observations-0123456789';
const READONLY = 'readonly-token-observations-0123456789';
let d: TestDaemon;
const seen: string[] = [];
const adm = async (method: string, path: string, body?: unknown) => {
  const res = await http(d.url, method, path, body, { authorization: `Bearer ${ADMIN}` });
  seen.push(res.text);
  return res;
};

before(async () => {
  d = await startDaemon({
    args: ['--http-admin-token', ADMIN, '--http-readonly-token', READONLY],
    env: { KHEISH_OBSERVATION_SWEEP_MS: '100' },
  });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

const TOKEN = 'screen-upload-token-0001';

test('api-core #85: source views never carry upload_token; stream_id without source_id is 400', async () => {
  const created = await adm('POST', '/v1/observation-sources', sourceBody('screen-main', TOKEN));
  assert.equal(created.status, 201, created.text);
  const v = created.body;
  assert.equal(v.source_id, 'screen-main');
  assert.equal(v.kind, 'screen_snapshot');
  assert.deepEqual(v.accepted_media_types, ['image/png', 'image/jpeg']);
  // §8.2 defaults.
  assert.equal(v.sensitivity, 'sensitive');
  assert.equal(v.retention_seconds, 7 * 24 * 3600);
  assert.equal(v.max_active_observations, 512);
  assert.equal(v.max_active_bytes, 512 * 1024 * 1024);
  assert.equal(v.ingest_rate_limit_window_ms, 60_000);
  assert.equal(v.ingest_rate_limit_burst, 120);
  assert.equal(v.purge_raw_on_retention, false);
  assert.equal(v.allow_materialization, true);
  assert.equal(v.allow_output_delivery, false);
  assert.equal(v.upload_token_version, 1);
  for (const res of [
    created,
    await adm('GET', '/v1/observation-sources/screen-main'),
    await adm('GET', '/v1/observation-sources'),
    await adm('GET', '/v1/observation-sources?query=main&page=true'),
  ]) {
    assert.ok(res.status < 300, res.text);
    assert.ok(!res.text.includes('upload_token"'), `no upload_token field: ${res.text}`);
    assert.ok(!res.text.includes(TOKEN), 'the token value never comes back');
  }
  assertProblem(await adm('GET', '/v1/observations?stream_id=x'), 400, 'observations', 'invalid_query');
  assert.equal((await adm('GET', '/v1/observations?source_id=screen-main&stream_id=x')).status, 200);

  const generated = await adm('POST', '/v1/observation-sources', {
    display_name: 'No id',
    kind: 'microphone_segment',
    upload_token: 'mic-upload-token-00001',
  });
  assert.equal(generated.status, 201);
  assert.match(generated.body.source_id, /^source-[0-9a-z]{26}$/);
  assert.deepEqual(generated.body.accepted_media_types, ['audio/wav', 'audio/webm']);
  for (const bad of [
    sourceBody('a/b', TOKEN),
    sourceBody('..', TOKEN),
    sourceBody('x'.repeat(129), TOKEN),
    sourceBody('ok-id', 'short'),
    { ...sourceBody('ok-id', TOKEN), kind: 'keyboard' },
  ]) {
    const res = await adm('POST', '/v1/observation-sources', bad);
    assert.equal(res.status, 400, `${JSON.stringify(bad).slice(0, 80)} -> ${res.text}`);
  }
  assertProblem(
    await adm('GET', '/v1/observation-sources/nope'),
    404,
    'observations',
    'observation_source_not_found',
  );
});

test('api-core #14: the upload route refuses the admin token, a missing token and a wrong one with 401', async () => {
  await adm('POST', '/v1/observation-sources', sourceBody('screen-14', 'screen-14-upload-token'));
  for (const token of [ADMIN, null, 'screen-14-upload-tokeX', 'screen-upload-token-0001']) {
    const res = await upload(d.url, 'screen-14', token, uploadBody('k1'));
    assertProblem(res, 401, 'observation_ingress', 'invalid_upload_token', String(token));
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer /);
  }
  // An unknown source answers the same (no probing for source ids), even with a body that is not valid.
  assertProblem(
    await upload(d.url, 'no-such-source', 'screen-14-upload-token', { junk: true }),
    401,
    'observation_ingress',
  );
  // The control plane still requires the admin token; the read-only one reads none of it (decision 245).
  assert.equal((await http(d.url, 'GET', '/v1/observation-sources')).status, 401);
  for (const path of [
    '/v1/observation-sources',
    '/v1/observations',
    '/v1/observation-audit',
    '/v1/capture-agents',
    '/v1/capture-alerts',
  ])
    assertProblem(
      await http(d.url, 'GET', path, undefined, { authorization: `Bearer ${READONLY}` }),
      403,
      'auth',
      'insufficient_access',
      path,
    );
  assertProblem(await upload(d.url, 'screen-14', READONLY, uploadBody('k1')), 401, 'observation_ingress');
  const audit = await adm('GET', '/v1/observation-audit?source_id=screen-14&event=upload_rejected');
  assert.equal(audit.body.length, 5, 'each refusal is audited');
  assert.ok(!audit.text.includes(ADMIN) && !audit.text.includes('screen-14-upload-token'));
});

test('api-core §8.2: rotate-token keeps the previous token for grace_period_ms; recreate bumps the version with no grace; revoke ends both', async () => {
  const first = 'rotate-upload-token-0001';
  const second = 'rotate-upload-token-0002';
  const third = 'rotate-upload-token-0003';
  await adm('POST', '/v1/observation-sources', sourceBody('rot', first));
  await adm('POST', '/v1/observation-sources', sourceBody('rot', first, { display_name: 'Renamed' }));
  const v = (await adm('GET', '/v1/observation-sources/rot')).body;
  assert.equal(v.upload_token_version, 1, 'same token: same version');
  assert.equal(v.display_name, 'Renamed');

  const rotated = await adm('POST', '/v1/observation-sources/rot/rotate-token', {
    upload_token: second,
    grace_period_ms: 1500,
  });
  assert.equal(rotated.status, 200, rotated.text);
  assert.equal(rotated.body.upload_token_version, 2);
  assert.ok(rotated.body.previous_token_valid_until_ms > Date.now());
  assert.ok(!rotated.text.includes(second) && !rotated.text.includes(first));
  // Both tokens pass the token check during the grace window (an invalid body is 400, not 401).
  for (const t of [first, second]) assert.equal((await upload(d.url, 'rot', t, { junk: true })).status, 400);
  await sleep(1700);
  assertProblem(await upload(d.url, 'rot', first, { junk: true }), 401, 'observation_ingress');
  assert.equal((await upload(d.url, 'rot', second, { junk: true })).status, 400);

  const recreated = await adm('POST', '/v1/observation-sources', sourceBody('rot', third));
  assert.equal(recreated.status, 200);
  assert.equal(recreated.body.upload_token_version, 3);
  assert.equal(recreated.body.previous_token_valid_until_ms, null);
  assertProblem(
    await upload(d.url, 'rot', second, { junk: true }),
    401,
    'observation_ingress',
    undefined,
    'no grace on recreate',
  );

  const revoked = await adm('POST', '/v1/observation-sources/rot/revoke-token', {
    reason: 'leaked token sk-abcdef',
  });
  assert.equal(revoked.status, 200);
  assert.equal(revoked.body.upload_token_state, 'revoked');
  assertProblem(await upload(d.url, 'rot', third, { junk: true }), 401, 'observation_ingress');
  const events = (await adm('GET', '/v1/observation-audit?source_id=rot')).body.map((r: any) => r.event);
  for (const e of ['source_created', 'token_rotated', 'token_revoked', 'upload_rejected'])
    assert.ok(events.includes(e), e);
  const rev = (await adm('GET', '/v1/observation-audit?source_id=rot&event=token_revoked')).body[0];
  assert.equal(rev.detail.reason, 'operator_reason_redacted', 'secret-looking reasons are not stored');
  assert.equal((await adm('GET', '/v1/observation-audit?limit=2')).body.length, 2);
});

test('concepts §4.14: capture agents — provision (raw tokens once), heartbeat, missing alert, recovery, re-provision, revoke', async () => {
  const provision = {
    batch_id: 'batch-1',
    daemon_base_url: d.url,
    agents: [{ machine_id: 'laptop-01' }],
    sources: { screen: true, microphone: true },
    heartbeat_interval_ms: 300,
    heartbeat_grace_ms: 200,
  };
  const res = await adm('POST', '/v1/capture-agent-provisions', provision);
  assert.equal(res.status, 201, res.text);
  const agent = res.body.agents[0];
  assert.deepEqual(agent.source_ids, ['laptop-01-screen', 'laptop-01-microphone']);
  assert.match(agent.heartbeat_token, /^khb_/);
  const screenToken = agent.upload_tokens['laptop-01-screen'];
  assert.match(screenToken, /^kup_/);
  assert.match(agent.config_toml, /heartbeat_token = "khb_/);
  assert.equal(agent.agent.status, 'active');
  assert.equal(agent.agent.leases.length, 2);
  assertProblem(
    await adm('POST', '/v1/capture-agent-provisions', provision),
    409,
    'capture',
    'batch_already_applied',
  );
  assertProblem(
    await adm('POST', '/v1/capture-agent-provisions', {
      ...provision,
      batch_id: 'b-linux',
      os_profile: 'linux',
    }),
    400,
    'capture',
    'unsupported_capture_source',
  );

  // Capture-owned sources refuse the generic token endpoints.
  const src = await adm('GET', '/v1/observation-sources/laptop-01-screen');
  assert.equal(src.body.capture_owned, true);
  assertProblem(
    await adm('POST', '/v1/observation-sources/laptop-01-screen/rotate-token', {
      upload_token: 'x'.repeat(20),
    }),
    409,
    'observations',
    'capture_owned_source',
  );
  assertProblem(
    await adm('POST', '/v1/observation-sources/laptop-01-screen/revoke-token', {}),
    409,
    'observations',
    'capture_owned_source',
  );
  assertProblem(
    await adm('POST', '/v1/observation-sources', sourceBody('laptop-01-screen', 'y'.repeat(20))),
    409,
    'observations',
    'capture_owned_source',
  );
  assert.equal(
    (await upload(d.url, 'laptop-01-screen', screenToken, { junk: true })).status,
    400,
    'lease token passes the token check',
  );

  const hb = (
    token: string,
    body: unknown = { observed_source_ids: ['laptop-01-screen'], agent_version: 'kheish-capture-agent/dev' },
  ) =>
    http(d.url, 'POST', '/v1/capture-agents/laptop-01/heartbeat', body, { authorization: `Bearer ${token}` });
  assertProblem(await hb(screenToken), 401, 'capture', 'invalid_heartbeat_token');
  assertProblem(await hb(ADMIN), 401, 'capture', 'invalid_heartbeat_token');
  const beat = await hb(agent.heartbeat_token);
  assert.equal(beat.status, 200, beat.text);
  assert.equal(beat.body.heartbeat_state, 'healthy');
  assert.deepEqual(beat.body.last_heartbeat_unobserved_source_ids, ['laptop-01-microphone']);
  assertProblem(
    await hb(agent.heartbeat_token, { observed_source_ids: ['other'] }),
    400,
    'capture',
    'invalid_heartbeat',
  );

  // Past the deadline the daemon materializes `missing` and one alert.
  await sleep(900);
  const missing = (await adm('GET', '/v1/capture-agents/laptop-01')).body;
  assert.equal(missing.heartbeat_state, 'missing');
  assert.ok(missing.heartbeat_missing_since_ms > 0);
  const alerts = (await adm('GET', '/v1/capture-alerts')).body;
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0].kind, 'missing_heartbeat');
  assert.equal(alerts[0].machine_id, 'laptop-01');
  const recovered = await hb(agent.heartbeat_token);
  assert.equal(recovered.body.heartbeat_state, 'healthy');
  assert.deepEqual((await adm('GET', '/v1/capture-alerts')).body, []);
  const audit = (await adm('GET', '/v1/observation-audit?machine_id=laptop-01')).body.map(
    (r: any) => r.event,
  );
  assert.equal(
    audit.filter((e: string) => e === 'agent_heartbeat_missing').length,
    1,
    'the transition is audited once',
  );
  assert.ok(audit.includes('agent_recovered'));

  // Re-provisioning rotates every lease: old upload and heartbeat tokens fail at once.
  const again = await adm('POST', '/v1/capture-agent-provisions', {
    ...provision,
    batch_id: 'batch-2',
    sources: { screen: true },
  });
  assert.equal(again.status, 201, again.text);
  const next = again.body.agents[0];
  assertProblem(
    await upload(d.url, 'laptop-01-screen', screenToken, { junk: true }),
    401,
    'observation_ingress',
  );
  assertProblem(
    await upload(d.url, 'laptop-01-microphone', agent.upload_tokens['laptop-01-microphone'], { junk: true }),
    401,
    'observation_ingress',
    undefined,
    'dropped source',
  );
  assertProblem(await hb(agent.heartbeat_token), 401, 'capture');
  assert.equal((await hb(next.heartbeat_token)).status, 200);
  const leases = next.agent.leases;
  assert.equal(leases.filter((l: any) => l.state === 'superseded').length, 2);
  assert.equal(leases.filter((l: any) => l.state === 'active').length, 1);
  assert.deepEqual(
    next.agent.source_ids,
    ['laptop-01-screen', 'laptop-01-microphone'],
    'history of owned sources',
  );

  // Revoke: idempotent, disables every owned source, old tokens fail.
  const revoked = await adm('POST', '/v1/capture-agents/laptop-01/revoke', { reason: 'host retired' });
  assert.equal(revoked.status, 200, revoked.text);
  assert.equal(revoked.body.status, 'revoked');
  assert.equal(revoked.body.revoke_reason, 'host retired');
  const twice = await adm('POST', '/v1/capture-agents/laptop-01/revoke', { reason: 'again' });
  assert.equal(twice.status, 200);
  assert.equal(twice.body.revoked_at_ms, revoked.body.revoked_at_ms);
  for (const id of ['laptop-01-screen', 'laptop-01-microphone'])
    assert.equal((await adm('GET', `/v1/observation-sources/${id}`)).body.disabled, true, id);
  assertProblem(
    await upload(d.url, 'laptop-01-screen', next.upload_tokens['laptop-01-screen'], { junk: true }),
    401,
    'observation_ingress',
  );
  assertProblem(await hb(next.heartbeat_token), 401, 'capture');
  assertProblem(
    await adm('POST', '/v1/capture-agents/nobody/revoke', {}),
    404,
    'capture',
    'capture_agent_not_found',
  );
  assert.equal((await adm('GET', '/v1/capture-agents')).body.length, 1);

  // Raw tokens appear in the provisioning responses only.
  const tokens = [
    screenToken,
    agent.heartbeat_token,
    next.heartbeat_token,
    ...Object.values(next.upload_tokens),
  ] as string[];
  const later = seen.filter((t) => !t.includes('"config_toml"'));
  for (const t of tokens)
    assert.ok(!later.some((text) => text.includes(t)), 'no view, list or audit repeats a raw token');
  const logs = d.logs();
  for (const t of [...tokens, TOKEN, 'rotate-upload-token-0002', 'screen-14-upload-token'])
    assert.ok(!logs.includes(t), 'no token in the daemon log');
  for (const table of [
    'observation_sources',
    'capture_agents',
    'observation_audit',
    'capture_provision_batches',
  ]) {
    const rows = JSON.stringify(await queryState(d, `select * from ${table}`));
    for (const t of [...tokens, TOKEN]) assert.ok(!rows.includes(t), `no raw token stored in ${table}`);
  }
});
