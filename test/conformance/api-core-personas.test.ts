// Personas conformance (api-core §9; #22 and #27 persona halves, #87, #88): records with versions,
// immutable session snapshots, binding conflicts, deletion of a bound persona, listing by persona,
// and snapshots that survive a SIGKILL of the daemon.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';
import { assertProblem, SCRIPT, submitRun } from './support.ts';

let d: TestDaemon;
const base = () => d.url;

before(async () => {
  d = await startDaemon({ script: SCRIPT });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

async function persona(body: Record<string, unknown>) {
  const res = await http(base(), 'POST', '/v1/personas', body);
  assert.equal(res.status, 201, res.text);
  return res.body;
}

const noSoulAnywhere = (body: unknown, soul: string, where: string) => {
  const text = JSON.stringify(body);
  assert.ok(!text.includes('"soul"'), `${where} has no soul field: ${text.slice(0, 400)}`);
  assert.ok(!text.includes(soul), `${where} does not leak the soul text`);
};

test('api-core #87: POST /v1/personas is 201 PersonaView with version; the same id again is 409; an unknown id is 404', async () => {
  const created = await http(base(), 'POST', '/v1/personas', {
    persona_id: 'reviewer',
    display_name: 'Reviewer',
    soul: 'You review diffs carefully.',
    capability_scope: { skill_allow: [' review', 'review', 'plan'] },
    metadata: { team: 'core' },
  });
  assert.equal(created.status, 201, created.text);
  const v = created.body;
  assert.equal(v.persona_id, 'reviewer');
  assert.equal(v.display_name, 'Reviewer');
  assert.equal(v.version, 1);
  assert.equal(v.soul, 'You review diffs carefully.');
  assert.deepEqual(v.capability_scope, { skill_allow: ['plan', 'review'] }, 'normalized like session scopes');
  assert.deepEqual(v.default_skills, []);
  assert.deepEqual(v.metadata, { team: 'core' });
  assert.ok(Number.isInteger(v.created_at_ms) && v.created_at_ms === v.updated_at_ms);

  const again = await http(base(), 'POST', '/v1/personas', {
    persona_id: 'reviewer',
    display_name: 'Other',
    soul: 'x',
  });
  assertProblem(again, 409, 'personas', 'persona_already_exists');
  assert.equal((await http(base(), 'GET', '/v1/personas/reviewer')).body.display_name, 'Reviewer');

  assertProblem(await http(base(), 'GET', '/v1/personas/nobody'), 404, 'personas', 'persona_not_found');
  assertProblem(
    await http(base(), 'PUT', '/v1/personas/nobody', { soul: 'x' }),
    404,
    'personas',
    'persona_not_found',
  );
  assertProblem(await http(base(), 'DELETE', '/v1/personas/nobody'), 404, 'personas', 'persona_not_found');

  const generated = await persona({ display_name: 'No id given', soul: '' });
  assert.match(generated.persona_id, /^persona-[0-9a-z]{26}$/);
});

test('api-core §9 (decision): invalid persona bodies are 400 and persist nothing', async () => {
  const before = (await http(base(), 'GET', '/v1/personas')).body.length;
  for (const body of [
    { soul: 'no display name' },
    { display_name: '  ', soul: 'blank name' },
    { display_name: 'x', soul: 'x', unknown_field: 1 },
    { display_name: 'x', soul: 'x', capability_scope: { route_allow: ['a'] } },
    { display_name: 'x', soul: 'x', default_skills: ['no-such-skill'] },
  ]) {
    const res = await http(base(), 'POST', '/v1/personas', body);
    assert.equal(res.status, 400, `${JSON.stringify(body)} -> ${res.text}`);
  }
  for (const id of ['.', '..', 'a/b', ' ']) {
    const res = await http(base(), 'POST', '/v1/personas', { persona_id: id, display_name: 'x', soul: 'x' });
    assertProblem(res, 400, 'personas', 'invalid_persona', `persona_id ${JSON.stringify(id)}`);
  }
  assertProblem(await http(base(), 'PUT', '/v1/personas/reviewer', {}), 400, 'personas', 'invalid_persona');
  assert.equal((await http(base(), 'GET', '/v1/personas')).body.length, before);
  assert.equal((await http(base(), 'GET', '/v1/personas/reviewer')).body.version, 1, 'no version bump');
});

test('api-core #88: after binding P to S and PUT /v1/personas/P with a new soul, GET /v1/sessions/S shows the original persona_version and never a soul', async () => {
  const p = await persona({ persona_id: 'writer', display_name: 'Writer', soul: 'SOUL-V1 write tersely' });
  const made = await http(base(), 'POST', '/v1/sessions', { session_id: 'bound-s', persona_id: 'writer' });
  assert.equal(made.status, 201, made.text);
  assert.deepEqual(Object.keys(made.body.persona).sort(), [
    'bound_at_ms',
    'display_name',
    'persona_id',
    'persona_version',
  ]);
  assert.equal(made.body.persona.persona_id, 'writer');
  assert.equal(made.body.persona.persona_version, 1);
  noSoulAnywhere(made.body, 'SOUL-V1', 'POST /v1/sessions');

  const put = await http(base(), 'PUT', `/v1/personas/${p.persona_id}`, {
    soul: 'SOUL-V2 write at length',
    display_name: 'Writer Two',
  });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.body.version, 2);
  assert.equal(put.body.soul, 'SOUL-V2 write at length');

  const s = await http(base(), 'GET', '/v1/sessions/bound-s');
  assert.equal(s.body.persona.persona_version, 1, 'the binding is a snapshot');
  assert.equal(s.body.persona.display_name, 'Writer');
  assert.equal(s.body.persona.bound_at_ms, made.body.persona.bound_at_ms);
  noSoulAnywhere(s.body, 'SOUL-V1', 'GET /v1/sessions/{id}');
  const listed = (await http(base(), 'GET', '/v1/sessions')).body.find(
    (x: any) => x.session_id === 'bound-s',
  );
  assert.equal(listed.persona.persona_version, 1);
  noSoulAnywhere(listed, 'SOUL-V1', 'GET /v1/sessions');
  noSoulAnywhere((await http(base(), 'GET', '/v1/sessions/bound-s/events')).body, 'SOUL-V1', 'events');

  // A new binding takes the latest record; a run on the old session keeps its snapshot.
  const fresh = await http(base(), 'POST', '/v1/sessions', { session_id: 'bound-new', persona_id: 'writer' });
  assert.equal(fresh.body.persona.persona_version, 2);
  assert.equal(fresh.body.persona.display_name, 'Writer Two');
  const run = await submitRun(base(), 'bound-s', { content: 'hello' });
  assert.equal((await waitForRun(base(), run.run_id)).status, 'completed');
  assert.equal((await http(base(), 'GET', '/v1/sessions/bound-s')).body.persona.persona_version, 1);
});

test('api-core #22 (persona half): re-posting an existing session with a different persona_id is 409; the same one reuses it', async () => {
  await persona({ persona_id: 'p22a', display_name: 'A', soul: 'a' });
  await persona({ persona_id: 'p22b', display_name: 'B', soul: 'b' });
  const first = await http(base(), 'POST', '/v1/sessions', { session_id: 's22', persona_id: 'p22a' });
  assert.equal(first.status, 201, first.text);
  assertProblem(
    await http(base(), 'POST', '/v1/sessions', { session_id: 's22', persona_id: 'p22b' }),
    409,
    'sessions',
    'session_binding_conflict',
  );
  // A session without a persona: binding one through a re-post is a conflict too.
  await http(base(), 'POST', '/v1/sessions', { session_id: 's22-none' });
  assertProblem(
    await http(base(), 'POST', '/v1/sessions', { session_id: 's22-none', persona_id: 'p22a' }),
    409,
    'sessions',
    'session_binding_conflict',
  );
  // Same persona (even after the record changed) or none: reused, the snapshot unchanged.
  await http(base(), 'PUT', '/v1/personas/p22a', { soul: 'a2' });
  const same = await http(base(), 'POST', '/v1/sessions', { session_id: 's22', persona_id: 'p22a' });
  assert.equal(same.status, 201, same.text);
  assert.equal(same.body.agent_id, first.body.agent_id);
  assert.equal(same.body.persona.persona_version, 1);
  assert.equal(
    (await http(base(), 'POST', '/v1/sessions', { session_id: 's22' })).body.persona.persona_id,
    'p22a',
  );
  // An unknown persona at creation is a 404 and creates nothing.
  assertProblem(
    await http(base(), 'POST', '/v1/sessions', { session_id: 's22-ghost', persona_id: 'ghost' }),
    404,
    'personas',
    'persona_not_found',
  );
  assertProblem(await http(base(), 'GET', '/v1/sessions/s22-ghost'), 404, 'sessions', 'session_not_found');
});

test('api-core #27 (persona half): binding or clearing a persona while a run is active or queued is 409 sessions/session_not_idle', async () => {
  await persona({ persona_id: 'p27', display_name: 'Busy', soul: 'b' });
  await http(base(), 'POST', '/v1/sessions', { session_id: 's27' });
  const slow = await submitRun(base(), 's27', { content: 'slow one' });
  const queued = await submitRun(base(), 's27', { content: 'queued one' });
  for (const [method, body] of [
    ['POST', { persona_id: 'p27' }],
    ['PUT', { persona_id: 'p27' }],
    ['DELETE', undefined],
  ] as const) {
    const res = await http(base(), method, '/v1/sessions/s27/persona', body);
    assertProblem(res, 409, 'sessions', 'session_not_idle', `${method} persona while busy`);
  }
  assert.equal((await http(base(), 'GET', '/v1/sessions/s27')).body.persona, undefined, 'nothing bound');
  await waitForRun(base(), slow.run_id);
  await waitForRun(base(), queued.run_id);
  const bound = await http(base(), 'PUT', '/v1/sessions/s27/persona', { persona_id: 'p27' });
  assert.equal(bound.status, 200, bound.text);
  assert.equal(bound.body.persona.persona_id, 'p27');
});

test('api-core #27 (persona half): a child agent with live work keeps its parent session from rebinding (409) until it settles', async () => {
  await persona({ persona_id: 'p27-tree', display_name: 'Tree', soul: 't' });
  const parent = await http(base(), 'POST', '/v1/sessions', { session_id: 's27-parent' });
  const spawned = await http(base(), 'POST', `/v1/agents/${parent.body.agent_id}/sidechains`, {
    subtask: { name: 'slow-child', content: 'slow child work' },
  });
  assert.equal(spawned.status, 201, spawned.text);
  const busy = await http(base(), 'POST', '/v1/sessions/s27-parent/persona', { persona_id: 'p27-tree' });
  assertProblem(busy, 409, 'sessions', 'session_not_idle', 'parent with a live child');
  assert.match(busy.body.detail, /child agents with live work/);
  await waitForRun(base(), spawned.body.launch_run_id);
  // The child's outcome reaches the parent as a mailbox delivery run; the binding waits for it.
  let res = busy;
  for (let i = 0; i < 100 && res.status === 409; i++) {
    await new Promise((r) => setTimeout(r, 100));
    res = await http(base(), 'POST', '/v1/sessions/s27-parent/persona', { persona_id: 'p27-tree' });
  }
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.persona.persona_id, 'p27-tree');
});

test('api-core §9: POST/PUT/DELETE /v1/sessions/{id}/persona bind the current record, rebind, and clear', async () => {
  await persona({ persona_id: 'pb1', display_name: 'One', soul: 'one' });
  await persona({ persona_id: 'pb2', display_name: 'Two', soul: 'two' });
  await http(base(), 'POST', '/v1/sessions', { session_id: 'sb' });
  const one = await http(base(), 'POST', '/v1/sessions/sb/persona', { persona_id: 'pb1' });
  assert.equal(one.status, 200, one.text);
  assert.equal(one.body.persona.persona_id, 'pb1');
  await http(base(), 'PUT', '/v1/personas/pb1', { display_name: 'One v2' });
  const rebound = await http(base(), 'POST', '/v1/sessions/sb/persona', { persona_id: 'pb1' });
  assert.equal(rebound.body.persona.persona_version, 2, 'binding again takes the current record');
  const two = await http(base(), 'PUT', '/v1/sessions/sb/persona', { persona_id: 'pb2' });
  assert.equal(two.body.persona.persona_id, 'pb2');
  assertProblem(
    await http(base(), 'POST', '/v1/sessions/sb/persona', { persona_id: 'ghost' }),
    404,
    'personas',
    'persona_not_found',
  );
  assert.equal((await http(base(), 'GET', '/v1/sessions/sb')).body.persona.persona_id, 'pb2', 'unchanged');
  assertProblem(
    await http(base(), 'POST', '/v1/sessions/nosuch/persona', { persona_id: 'pb1' }),
    404,
    'sessions',
    'session_not_found',
  );
  assert.equal((await http(base(), 'POST', '/v1/sessions/sb/persona', {})).status, 400);
  const cleared = await http(base(), 'DELETE', '/v1/sessions/sb/persona');
  assert.equal(cleared.status, 200, cleared.text);
  assert.equal(cleared.body.persona, undefined);
});

test('api-core §9: GET /v1/sessions?persona_id= filters by the bound snapshot; GET /v1/personas?query= and pagination (persona_id_asc)', async () => {
  await persona({ persona_id: 'lister', display_name: 'Listing Persona', soul: 'l' });
  for (const id of ['ls-1', 'ls-2'])
    await http(base(), 'POST', '/v1/sessions', { session_id: id, persona_id: 'lister' });
  await http(base(), 'POST', '/v1/sessions', { session_id: 'ls-3' });
  const bound = await http(base(), 'GET', '/v1/sessions?persona_id=lister');
  assert.deepEqual(
    bound.body.map((s: any) => s.session_id),
    ['ls-1', 'ls-2'],
  );
  const paged = await http(base(), 'GET', '/v1/sessions?persona_id=lister&page=true&limit=1');
  assert.equal(paged.body.pagination.total_count, 2);
  assert.equal(paged.body.items[0].session_id, 'ls-1');

  const q = await http(base(), 'GET', '/v1/personas?query=LISTING');
  assert.deepEqual(
    q.body.map((p: any) => p.persona_id),
    ['lister'],
  );
  assert.deepEqual(Object.keys(q.body[0]).sort(), [
    'created_at_ms',
    'display_name',
    'persona_id',
    'updated_at_ms',
    'version',
  ]);
  const all = (await http(base(), 'GET', '/v1/personas')).body.map((p: any) => p.persona_id);
  assert.deepEqual(all, [...all].sort());
  const first = await http(base(), 'GET', '/v1/personas?page=true&limit=2');
  assert.equal(first.body.pagination.order, 'persona_id_asc');
  assert.equal(first.body.pagination.total_count, all.length);
  assert.equal(first.body.pagination.has_more, true);
  const next = await http(base(), 'GET', `/v1/personas?cursor=${first.body.pagination.next_cursor}&limit=2`);
  assert.deepEqual(
    [...first.body.items, ...next.body.items].map((p: any) => p.persona_id),
    all.slice(0, 4),
  );
  assertProblem(await http(base(), 'GET', '/v1/personas?limit=0'), 400, 'pagination', 'invalid_limit');
});

test('api-core §9 (decision): deleting a bound persona answers {"deleted": true}; bound sessions keep their snapshot, new bindings are 404', async () => {
  await persona({ persona_id: 'doomed', display_name: 'Doomed', soul: 'DOOMED-SOUL' });
  await http(base(), 'POST', '/v1/sessions', { session_id: 's-doomed', persona_id: 'doomed' });
  const del = await http(base(), 'DELETE', '/v1/personas/doomed');
  assert.equal(del.status, 200, del.text);
  assert.deepEqual(del.body, { deleted: true });
  assertProblem(await http(base(), 'GET', '/v1/personas/doomed'), 404, 'personas', 'persona_not_found');
  const s = await http(base(), 'GET', '/v1/sessions/s-doomed');
  assert.equal(s.body.persona.persona_id, 'doomed');
  assert.equal(s.body.persona.persona_version, 1);
  const run = await submitRun(base(), 's-doomed', { content: 'still works' });
  assert.equal((await waitForRun(base(), run.run_id)).status, 'completed');
  assertProblem(
    await http(base(), 'POST', '/v1/sessions', { session_id: 's-doomed-2', persona_id: 'doomed' }),
    404,
    'personas',
    'persona_not_found',
  );
  // The id is free again: a new record starts over at version 1; the old binding is untouched.
  assert.equal((await persona({ persona_id: 'doomed', display_name: 'Reborn', soul: 'r' })).version, 1);
  assert.equal((await http(base(), 'GET', '/v1/sessions/s-doomed')).body.persona.display_name, 'Doomed');
});

test('api-core §9 (restart): persona records and session snapshots survive a SIGKILL of the daemon', async () => {
  await persona({
    persona_id: 'durable',
    display_name: 'Durable',
    soul: 'v1',
    capability_scope: { skill_deny: ['x'] },
  });
  await http(base(), 'POST', '/v1/sessions', { session_id: 's-durable', persona_id: 'durable' });
  await http(base(), 'PUT', '/v1/personas/durable', { soul: 'v2' });
  const before = (await http(base(), 'GET', '/v1/sessions/s-durable')).body;
  await d.kill();
  d = await d.restart();
  const after = (await http(base(), 'GET', '/v1/sessions/s-durable')).body;
  assert.deepEqual(after.persona, before.persona);
  assert.deepEqual(after.effective_capability_scope, { skill_deny: ['x'] });
  const record = (await http(base(), 'GET', '/v1/personas/durable')).body;
  assert.equal(record.version, 2);
  assert.equal(record.soul, 'v2');
  assert.deepEqual(
    (await http(base(), 'GET', '/v1/sessions?persona_id=durable')).body.map((s: any) => s.session_id),
    ['s-durable'],
  );
});
