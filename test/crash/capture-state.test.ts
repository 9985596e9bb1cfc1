// Crash scenario: SIGKILL right after token and capture-agent changes were acknowledged. After the
// restart the kept state is exactly what was acknowledged: rotated tokens (and the grace window of
// the previous one), revoked tokens, superseded capture leases, a revoked agent's disabled sources,
// and the heartbeat deadline that turns an agent `missing` while the daemon was down.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sourceBody } from '../helpers/observations.ts';
import { api, CrashRig, sleep } from './crash-kit.ts';

const tokenCheck = async (url: string, source: string, token: string) =>
  (
    await fetch(`${url}/v1/observation-sources/${source}/observations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"junk":true}',
    })
  ).status;

test('crash: SIGKILL after token rotations, provisioning and revocation — the acknowledged capture state is what restarts', async () => {
  const rig = await CrashRig.start({});
  try {
    const a1 = 'crash-token-alpha-0001';
    const a2 = 'crash-token-alpha-0002';
    const b1 = 'crash-token-bravo-0001';
    assert.equal(
      (await api(rig.url, 'POST', '/v1/observation-sources', sourceBody('alpha', a1))).status,
      201,
    );
    assert.equal(
      (await api(rig.url, 'POST', '/v1/observation-sources', sourceBody('bravo', b1))).status,
      201,
    );
    const rotated = await api(rig.url, 'POST', '/v1/observation-sources/alpha/rotate-token', {
      upload_token: a2,
      grace_period_ms: 60_000,
    });
    assert.equal(rotated.status, 200);
    assert.equal((await api(rig.url, 'POST', '/v1/observation-sources/bravo/revoke-token', {})).status, 200);
    const provision = (batch: string, sources: Record<string, boolean>) =>
      api(rig.url, 'POST', '/v1/capture-agent-provisions', {
        batch_id: batch,
        daemon_base_url: rig.url,
        agents: [{ machine_id: 'host-a' }, { machine_id: 'host-b' }],
        sources,
        heartbeat_interval_ms: 200,
        heartbeat_grace_ms: 100,
      });
    const first = (await provision('b1', { screen: true, microphone: true })).body;
    const second = (await provision('b2', { screen: true })).body;
    const hostA = second.agents.find((x: any) => x.machine_id === 'host-a');
    const hostB = second.agents.find((x: any) => x.machine_id === 'host-b');
    const oldA = first.agents.find((x: any) => x.machine_id === 'host-a');
    assert.equal(
      (await api(rig.url, 'POST', '/v1/capture-agents/host-b/revoke', { reason: 'retired' })).status,
      200,
    );

    await rig.crash();
    await sleep(400); // past host-a's heartbeat deadline while the daemon is down
    await rig.restart();

    assert.equal(
      await tokenCheck(rig.url, 'alpha', a1),
      400,
      'the previous token is still inside its grace window',
    );
    assert.equal(await tokenCheck(rig.url, 'alpha', a2), 400);
    assert.equal(await tokenCheck(rig.url, 'bravo', b1), 401, 'revoked stays revoked');
    assert.equal(await tokenCheck(rig.url, 'host-a-screen', hostA.upload_tokens['host-a-screen']), 400);
    assert.equal(
      await tokenCheck(rig.url, 'host-a-screen', oldA.upload_tokens['host-a-screen']),
      401,
      'superseded lease',
    );
    assert.equal(
      await tokenCheck(rig.url, 'host-a-microphone', oldA.upload_tokens['host-a-microphone']),
      401,
    );
    assert.equal(
      await tokenCheck(rig.url, 'host-b-screen', hostB.upload_tokens['host-b-screen']),
      401,
      'revoked agent',
    );
    const b = (await api(rig.url, 'GET', '/v1/capture-agents/host-b')).body;
    assert.equal(b.status, 'revoked');
    for (const id of b.source_ids)
      assert.equal((await api(rig.url, 'GET', `/v1/observation-sources/${id}`)).body.disabled, true, id);
    assert.equal(
      (
        await api(rig.url, 'POST', '/v1/capture-agent-provisions', {
          batch_id: 'b2',
          daemon_base_url: rig.url,
          agents: [{ machine_id: 'host-a' }],
          sources: { screen: true },
        })
      ).status,
      409,
      'applied batches survive',
    );
    const alerts = (await api(rig.url, 'GET', '/v1/capture-alerts')).body;
    assert.deepEqual(
      alerts.map((x: any) => x.machine_id),
      ['host-a'],
      'missing is materialized after the restart',
    );
    const beat = await fetch(`${rig.url}/v1/capture-agents/host-a/heartbeat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hostA.heartbeat_token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(beat.status, 200);
    const events = (await api(rig.url, 'GET', '/v1/observation-audit?limit=1000')).body.map(
      (r: any) => r.event,
    );
    for (const e of [
      'token_rotated',
      'token_revoked',
      'agent_provisioned',
      'agent_revoked',
      'agent_heartbeat_missing',
      'agent_recovered',
    ])
      assert.ok(events.includes(e), e);
  } finally {
    await rig.dispose();
  }
});
