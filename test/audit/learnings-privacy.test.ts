// Privacy of the learning plane (concepts §4.10, decision 484): an API key or an e-mail address in
// candidate content, publication overrides, supersession text, evidence or reasons is refused
// before anything is written, so no file of the state root holds it; review material the daemon
// writes itself (run_summary) is masked.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { assertProblem, createSession, submitRun } from '../conformance/support.ts';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';

const KEY = 'sk-proj-LEARNPRIVACY0123456789';
const EMAIL = 'learn.privacy.marker@example.com';
const ASSIGN = 'clientSecret: LRNASSIGNMARKER99';

let d: TestDaemon;
before(async () => {
  d = await startDaemon({ script: { default: { turns: [{ text: 'done' }] } } });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
});

function walk(root: string): string[] {
  return readdirSync(root).flatMap((name) => {
    const path = join(root, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

test('learnings privacy: secret or personal text is refused everywhere and never reaches the state root', async () => {
  const refused = async (method: string, path: string, body: unknown) =>
    assertProblem(await http(d.url, method, path, body), 400, 'learnings', 'learning_content_rejected', path);
  const scope = { kind: 'workspace' };
  for (const content of [
    `The deploy key is ${KEY}`,
    `Escalate to ${EMAIL}`,
    ASSIGN,
    'x-api-key: LRNXKEY12345',
  ])
    await refused('POST', '/v1/learning-candidates', { scope, kind: 'fact', content });
  await refused('POST', '/v1/learning-candidates', {
    scope,
    kind: 'procedure',
    content: 'Rotate keys monthly',
    evidence_refs: [{ note: KEY }],
  });
  const ok = await http(d.url, 'POST', '/v1/learning-candidates', {
    scope,
    kind: 'fact',
    content: 'Keys rotate monthly',
  });
  assert.equal(ok.status, 201, ok.text);
  const id = ok.body.candidate_id;
  await refused('POST', `/v1/learning-candidates/${id}/publish`, { content: `Keys rotate monthly, ${KEY}` });
  await refused('POST', `/v1/learning-candidates/${id}/reject`, { reason: `see ${EMAIL}` });
  const l = await http(d.url, 'POST', `/v1/learning-candidates/${id}/publish`, {});
  assert.equal(l.status, 200, l.text);
  await refused('POST', `/v1/learnings/${l.body.learning_id}/supersede`, { content: ASSIGN });
  await refused('POST', `/v1/learnings/${l.body.learning_id}/revoke`, { reason: `token ${KEY}` });

  for (const file of walk(d.stateRoot)) {
    const text = readFileSync(file).toString('latin1');
    for (const marker of [KEY, EMAIL, 'LRNASSIGNMARKER99', 'LRNXKEY12345'])
      assert.ok(!text.includes(marker), `${marker} found in ${file}`);
  }
});

test('learnings privacy: a run_summary candidate masks keys and e-mail addresses of the run', async () => {
  await createSession(d.url, 'priv');
  const run = await submitRun(d.url, 'priv', {
    content: `use key sk-ant-RUNSUMMARYKEY12345 and mail ops.person@example.org`,
  });
  await waitForRun(d.url, run.run_id);
  let found: any[] = [];
  for (let i = 0; i < 50 && !found.length; i++) {
    found = (await http(d.url, 'GET', '/v1/learning-candidates?scope_kind=session&scope_id=priv')).body;
    if (!found.length) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(found.length, 1);
  assert.ok(!found[0].content.includes('RUNSUMMARYKEY12345'), found[0].content);
  assert.ok(!found[0].content.includes('ops.person@example.org'), found[0].content);
  assert.match(found[0].content, /\[redacted/);
});
