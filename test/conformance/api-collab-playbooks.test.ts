// Playbooks conformance (api-collab §3.3–3.4; checklist #29–#32 and decisions 390–392): structural
// validation, digest stability, idempotent create, publish/revoke rules, startable states.
// Both stores (KHEISH_TEST_STORE=postgres).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { http } from '../helpers/daemon.ts';
import { manifest, playbooksDaemon, REVIEW } from './playbooks-support.ts';
import { assertProblem, createSession } from './support.ts';

const { base, ok, published } = playbooksDaemon();

test('api-collab #29: validate answers valid with a digest and warnings, stores nothing', async () => {
  const res = await ok('POST', '/v1/playbooks/validate', {
    manifest: { playbook_id: 'pb29', version: '1', title: 'T', objective: 'O' },
  });
  assert.equal(res.valid, true);
  assert.match(res.digest, /^[0-9a-f]{64}$/);
  assert.deepEqual(res.errors, []);
  assert.equal(res.warnings.length, 2, 'no phases, no acceptance criteria');
  assertProblem(await http(base(), 'GET', '/v1/playbooks/pb29'), 404, 'playbooks', 'playbook_not_found');
  assert.deepEqual(await ok('GET', '/v1/playbooks?query=pb29'), []);
});

test('api-collab #29: structurally invalid manifests list every error; create refuses them with a typed problem and stores nothing', async () => {
  const bad = {
    playbook_id: 'bad id',
    version: 'v/1',
    title: ' ',
    objective: '',
    inputs: [{ name: 'a' }, { name: 'a' }],
    roles: [{ role_id: 'r' }, { role_id: 'r' }],
    phases: [
      { phase_id: 'p', objective: 'x', required_evidence: [{ kind: 'manual', id: '' }] },
      { phase_id: 'p', objective: ' ' },
    ],
    required_evidence: [
      { kind: 'manual', id: 'x' },
      { kind: 'manual', id: 'x' },
    ],
    tools: { enforce: true, allow: ['bash'], deny: ['bash'] },
  };
  const res = await ok('POST', '/v1/playbooks/validate', { manifest: bad });
  assert.equal(res.valid, false);
  assert.equal(res.digest, undefined);
  const text = res.errors.join('\n');
  for (const needle of [
    'playbook_id',
    'version',
    'title',
    'objective',
    'input name a',
    'role_id r',
    'phase_id p is not unique',
    'phases[1].objective',
    'phases[0].required_evidence[0].id',
    'manual:x more than once',
    'bash is both allowed and denied',
  ])
    assert.ok(text.includes(needle), `${needle} in ${text}`);
  assertProblem(
    await http(base(), 'POST', '/v1/playbooks', { manifest: bad }),
    400,
    'playbooks',
    'invalid_manifest',
  );
  const noPolicy = { ...manifest('pb29e'), tools: { enforce: true } };
  const refused = await http(base(), 'POST', '/v1/playbooks', { manifest: noPolicy });
  assertProblem(refused, 400, 'playbooks', 'invalid_manifest');
  assert.match(refused.body.detail, /enforce=true needs/);
  // A wrong type is a 400 from the schema, not a 500.
  assertProblem(
    await http(base(), 'POST', '/v1/playbooks', { manifest: { playbook_id: 3 } }),
    400,
    null,
    'bad_request',
  );
  assertProblem(await http(base(), 'GET', '/v1/playbooks/pb29e'), 404, 'playbooks', 'playbook_not_found');
});

test('decision 390: the digest ignores key order and whitespace, and changes with any semantic change', async () => {
  const m = manifest('pb390', {
    metadata: { b: 1, a: [1, 2] },
    tools: { enforce: false, allow: ['read_file'] },
  });
  const digestOf = async (body: string) => {
    const res = await http(base(), 'POST', '/v1/playbooks/validate', body);
    assert.equal(res.status, 200, res.text);
    return res.body.digest as string;
  };
  const reorder = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(reorder)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .reverse()
              .map(([k, x]) => [k, reorder(x)]),
          )
        : v;
  const one = await digestOf(JSON.stringify({ manifest: m }));
  assert.equal(await digestOf(JSON.stringify({ manifest: reorder(m) }, null, 4)), one);
  assert.equal(
    await digestOf(JSON.stringify({ manifest: { ...m, preconditions: [] } })),
    one,
    'empty = absent',
  );
  for (const changed of [
    { ...m, title: 'Other' },
    { ...m, metadata: { b: 1, a: [2, 1] } },
    { ...m, tools: { enforce: true, allow: ['read_file'] } },
    { ...m, phases: [] },
  ])
    assert.notEqual(await digestOf(JSON.stringify({ manifest: changed })), one, JSON.stringify(changed));
});

test('api-collab #30: the same manifest twice returns the same digest; the same version with another body → 409', async () => {
  const m = manifest('pb30');
  const first = await ok('POST', '/v1/playbooks', { manifest: m });
  const again = await ok('POST', '/v1/playbooks', { manifest: m });
  assert.equal(first.selected_version.digest, again.selected_version.digest);
  assert.equal(again.versions.length, 1);
  assert.equal(again.versions[0].status, 'draft');
  const conflict = await http(base(), 'POST', '/v1/playbooks', { manifest: { ...m, objective: 'changed' } });
  assertProblem(conflict, 409, 'playbooks', 'playbook_version_conflict');
  const view = await ok('GET', '/v1/playbooks/pb30');
  assert.equal(view.selected_version.manifest.objective, m.objective);
  assert.equal(view.latest_version, '1.0.0');
  assert.equal(view.active_version, null);
});

test('api-collab #31: publishing needs evidence and the right digest; status defaults to active; one active version (decision 392)', async () => {
  const m = manifest('pb31');
  const digest = (await ok('POST', '/v1/playbooks', { manifest: m })).selected_version.digest;
  for (const status of ['verified', 'canary', 'active'])
    assertProblem(
      await http(base(), 'POST', '/v1/playbooks/pb31/publish', {
        version: '1.0.0',
        digest,
        status,
        evidence_refs: [],
      }),
      400,
      'playbooks',
      'evidence_required',
    );
  assertProblem(
    await http(base(), 'POST', '/v1/playbooks/pb31/publish', { version: '1.0.0', digest, status: 'active' }),
    400,
    'playbooks',
    'evidence_required',
  );
  assertProblem(
    await http(base(), 'POST', '/v1/playbooks/pb31/publish', {
      version: '1.0.0',
      digest: '0'.repeat(64),
      evidence_refs: REVIEW,
    }),
    409,
    'playbooks',
    'digest_mismatch',
  );
  assert.equal((await ok('GET', '/v1/playbooks/pb31')).versions[0].status, 'draft');
  const pub = await ok('POST', '/v1/playbooks/pb31/publish', {
    version: '1.0.0',
    digest,
    evidence_refs: REVIEW,
  });
  assert.equal(pub.active_version, '1.0.0');
  assert.deepEqual(pub.versions[0].evidence_refs, REVIEW);
  // A second version made active demotes the first (one active version).
  const m2 = { ...m, version: '2.0.0' };
  const d2 = (await ok('POST', '/v1/playbooks', { manifest: m2 })).selected_version.digest;
  const two = await ok('POST', '/v1/playbooks/pb31/publish', {
    version: '2.0.0',
    digest: d2,
    evidence_refs: REVIEW,
  });
  assert.equal(two.active_version, '2.0.0');
  assert.deepEqual(
    two.versions.map((v: any) => [v.version, v.status]),
    [
      ['1.0.0', 'canary'],
      ['2.0.0', 'active'],
    ],
  );
  assert.equal(two.latest_version, '2.0.0');
  assert.deepEqual(
    (await ok('GET', '/v1/playbooks?status=active'))
      .map((p: any) => p.playbook_id)
      .filter((id: string) => id === 'pb31'),
    ['pb31'],
  );
  const revoked = await ok('POST', '/v1/playbooks/pb31/revoke', {
    version: '2.0.0',
    digest: d2,
    reason: 'bad idea',
  });
  assert.equal(revoked.versions[1].status, 'revoked');
  assert.equal(revoked.versions[1].revoked_reason, 'bad idea');
  assert.equal(revoked.active_version, null);
});

test('api-collab #32: a flow on a draft or revoked version, or with a digest mismatch, is rejected and submits no run', async () => {
  await createSession(base(), 's32');
  const m = manifest('pb32');
  const digest = (await ok('POST', '/v1/playbooks', { manifest: m })).selected_version.digest;
  const start = (ref: unknown) =>
    http(base(), 'POST', '/v1/flows', { playbook_ref: ref, session_id: 's32', request: { content: 'hi' } });
  const ref = { playbook_id: 'pb32', version: '1.0.0', digest };
  assertProblem(await start(ref), 409, 'playbooks', 'playbook_not_startable');
  await ok('POST', '/v1/playbooks/pb32/publish', { ...ref, status: 'verified', evidence_refs: REVIEW });
  assertProblem(await start({ ...ref, digest: 'f'.repeat(64) }), 409, 'playbooks', 'digest_mismatch');
  await ok('POST', '/v1/playbooks/pb32/revoke', { ...ref });
  assertProblem(await start(ref), 409, 'playbooks', 'playbook_not_startable');
  assert.deepEqual(await ok('GET', '/v1/runs?session_id=s32'), []);
  assert.deepEqual(await ok('GET', '/v1/flows?session_id=s32'), []);
  // verified and canary versions do start.
  const m2 = manifest('pb32b');
  const ref2 = await published(m2, 'canary');
  const flow = await ok('POST', '/v1/flows', {
    playbook_ref: ref2,
    session_id: 's32',
    request: { content: 'hi' },
  });
  assert.ok(flow.run_id);
});
