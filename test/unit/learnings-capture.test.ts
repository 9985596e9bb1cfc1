// Semantic capture and active verification against the RunMemoryPort contract (concepts §4.10),
// with an in-memory run-memory port and a fake model on a real SQLite store: model extraction,
// the label fallback, the per-run cap, secret drops, receipts settled once, a replay after a crash
// between insert and settle adding nothing, and verification publishing `active` + `verified`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pino from 'pino';
import type { Engine } from '../../src/engine/engine.ts';
import { Automation } from '../../src/features/learnings/automation.ts';
import { draftFor, labelledStatements, SemanticCapture } from '../../src/features/learnings/capture.ts';
import { LearningLifecycle } from '../../src/features/learnings/lifecycle.ts';
import type { ModelAsk } from '../../src/features/learnings/model-call.ts';
import { CandidatesService, RUN_SUMMARY_RETENTION_MS } from '../../src/features/learnings/service.ts';
import type { RunMemoryPort, RunMemoryRecord } from '../../src/features/memory/port.ts';
import { EventLog } from '../../src/store/event-log.ts';
import { Store } from '../../src/store/store.ts';
import { tempDir } from '../helpers/daemon.ts';

const records = new Map<string, RunMemoryRecord>();
const settled: Array<[string, string]> = [];
const memory: RunMemoryPort = {
  recordForRun: async (id) => records.get(id) ?? null,
  onRecorded: () => undefined,
  wantSemanticCapture: () => undefined,
  pendingSemanticCaptures: async () => [...records.values()].filter((r) => r.semantic_capture === 'pending'),
  settleSemanticCapture: async (id, receipt) => {
    settled.push([id, receipt]);
    const r = records.get(id);
    if (r) r.semantic_capture = receipt;
  },
  learningScopesFor: async (s) => [{ kind: 'session', id: s }],
};

let answers: Array<string | Error> = [];
const asked: ModelAsk[] = [];
const model = async (ask: ModelAsk) => {
  asked.push(ask);
  const a = answers.shift() ?? new Error('no answer');
  if (a instanceof Error) throw a;
  return a;
};

let store: Store;
let candidates: CandidatesService;
let capture: SemanticCapture;
before(async () => {
  store = await Store.open({ stateRoot: tempDir('kheish-learn-capture-') });
  const events = new EventLog(store, 1000);
  await events.init();
  const log = pino({ level: 'silent' });
  candidates = new CandidatesService({ store, events } as unknown as Engine, log);
  const lifecycle = new LearningLifecycle(store, candidates.events, log);
  candidates.lifecycle = lifecycle;
  const automation = new Automation(candidates, lifecycle, model, () => memory);
  candidates.review = (id) => automation.review(id);
  capture = new SemanticCapture(candidates, automation, model, memory);
});
after(async () => {
  await store?.close();
});

function record(
  runId: string,
  request: string,
  outcome = 'ok',
  status: RunMemoryRecord['status'] = 'completed',
) {
  const r: RunMemoryRecord = {
    run_id: runId,
    session_id: 'sess',
    captured_at_ms: Date.now(),
    status,
    summary: `${request}\n${outcome}`,
    request_preview: request,
    outcome_preview: outcome,
    artifact_ids: [],
    failure_markers: [],
    scope_keys: ['session:sess'],
    semantic_capture: 'pending',
  };
  records.set(runId, r);
  return r;
}
const ofRun = async (runId: string) =>
  (await candidates.list({})).filter((c) => c.source.run_id === runId && c.kind !== 'run_summary');
const policy = (extra: Record<string, unknown> = {}) =>
  candidates.applyPolicy({
    mode: 'shadow',
    capture: { semantic_candidates: { enabled: true, max_candidates_per_run: 2, model: 'route/m' } },
    ...extra,
  });

test('labels: explicit Fact/Preference/Decision lines are statements', () => {
  assert.deepEqual(labelledStatements('hello\nPreference: dark mode\n- Decision: ship weekly\nnote: x'), [
    { kind: 'preference', content: 'dark mode' },
    { kind: 'decision', content: 'ship weekly' },
  ]);
});

test('semantic capture: model proposals, capped, secrets dropped, daemon-origin session scope, receipt completed', async () => {
  policy();
  answers = [
    JSON.stringify({
      candidates: [
        { kind: 'fact', content: 'The api-key: abcdef123456 is in vault', confidence: 90 },
        { kind: 'fact', content: 'Project codename is Atlas', confidence: 88 },
        { kind: 'procedure', content: 'Not a semantic kind' },
        { kind: 'preference', content: 'Reports in French' },
        { kind: 'decision', content: 'Third one over the cap' },
      ],
    }),
  ];
  await capture.capture(record('run-a', 'Tell me about the project'));
  assert.equal(asked.at(-1)!.model, 'route/m');
  const got = await ofRun('run-a');
  assert.deepEqual(got.map((c) => c.content).sort(), ['Project codename is Atlas', 'Reports in French']);
  for (const c of got) {
    assert.equal(c.origin, 'daemon');
    assert.deepEqual(c.scope, { kind: 'session', id: 'sess' });
    assert.deepEqual(c.source, { session_id: 'sess', run_id: 'run-a' });
    assert.equal(c.evidence_refs.length, 1);
    assert.equal(c.automation_review?.mode, 'shadow');
  }
  assert.deepEqual(settled.at(-1), ['run-a', 'completed']);
});

test('semantic capture: a failed model call falls back to the request labels', async () => {
  policy();
  answers = [new Error('route down')];
  await capture.capture(
    record('run-b', 'Preference: answers in bullet points\nFact: staging runs on Kubernetes'),
  );
  assert.deepEqual((await ofRun('run-b')).map((c) => c.kind).sort(), ['fact', 'preference']);
});

test('semantic capture: replayed after a crash between insert and settle, it adds nothing', async () => {
  policy();
  answers = [JSON.stringify({ candidates: [{ kind: 'fact', content: 'Build cache is warm' }] })];
  const r = record('run-c', 'anything');
  await capture.capture(r);
  // The receipt never settled (crash): replay it; the model would answer differently now.
  r.semantic_capture = 'pending';
  answers = [JSON.stringify({ candidates: [{ kind: 'fact', content: 'Something else entirely' }] })];
  await capture.replay();
  assert.deepEqual(
    (await ofRun('run-c')).map((c) => c.content),
    ['Build cache is warm'],
  );
  assert.equal(r.semantic_capture, 'completed');
});

test('semantic capture: the listener and the boot replay meeting on one record give one set', async () => {
  policy();
  answers = [
    JSON.stringify({ candidates: [{ kind: 'fact', content: 'Queue is Kafka' }] }),
    JSON.stringify({ candidates: [{ kind: 'fact', content: 'Queue is RabbitMQ' }] }),
  ];
  const r = record('run-g', 'anything');
  await Promise.all([capture.capture(r), capture.capture({ ...r }), capture.replay()]);
  assert.deepEqual(
    (await ofRun('run-g')).map((c) => c.content),
    ['Queue is Kafka'],
  );
  answers = [];
});

test('semantic capture: disabled policy or a failed run settles skipped without candidates', async () => {
  candidates.applyPolicy({ mode: 'shadow' });
  await capture.capture(record('run-d', 'Fact: ignored while off'));
  assert.deepEqual(settled.at(-1), ['run-d', 'skipped']);
  policy();
  await capture.capture(record('run-e', 'Fact: failed run', 'boom', 'failed'));
  assert.deepEqual(settled.at(-1), ['run-e', 'skipped']);
  assert.equal((await ofRun('run-d')).length + (await ofRun('run-e')).length, 0);
});

test('verification: a daemon fact the run memory states publishes active + verified; one it does not, provisional + failed', async () => {
  policy({
    mode: 'enabled',
    publication: { rules: [{ name: 'facts', kind: 'fact', action: 'publish_active' }] },
  });
  answers = [
    JSON.stringify({
      candidates: [
        { kind: 'fact', content: 'Deploy region is eu-west' },
        { kind: 'fact', content: 'Database is Postgres 17' },
      ],
    }),
  ];
  await capture.capture(record('run-f', 'Remember: the deploy region is eu-west.', 'Noted.'));
  const got = await ofRun('run-f');
  const byContent = Object.fromEntries(got.map((c) => [c.content, c]));
  const verified = await candidates.lifecycle.get(
    byContent['Deploy region is eu-west']!.published_learning_id!,
  );
  assert.equal(verified.status, 'active');
  assert.equal(verified.verification_status, 'verified');
  assert.equal(verified.policy_decision, 'automatic');
  const unsupported = await candidates.lifecycle.get(
    byContent['Database is Postgres 17']!.published_learning_id!,
  );
  assert.equal(unsupported.status, 'provisional');
  assert.equal(unsupported.verification_status, 'failed');
  // The port other features read: live learnings of a scope.
  const live = await candidates.lifecycle.liveInScopes([{ kind: 'session', id: 'sess' }], Date.now());
  assert.ok(live.some((l) => l.learning_id === verified.learning_id));
});

test('retire listener: revoking and superseding tell listeners (promoted skills hang on it)', async () => {
  const seen: string[] = [];
  candidates.lifecycle.onRetired((l, change) => {
    seen.push(`${change}:${l.content}`);
  });
  candidates.applyPolicy({ mode: 'manual_only' });
  const a = await candidates.create({
    scope: { kind: 'workspace' },
    kind: 'procedure',
    content: 'Run the smoke suite first',
  });
  const l = await candidates.publish(a.candidate_id, {});
  const next = await candidates.lifecycle.supersede(l.learning_id, { content: 'Run the full suite first' });
  await candidates.lifecycle.revoke(next.learning_id, 'obsolete');
  assert.deepEqual(seen, ['superseded:Run the smoke suite first', 'revoked:Run the full suite first']);
  assert.equal((await candidates.lifecycle.find(l.learning_id))?.status, 'superseded');
  assert.equal(await candidates.lifecycle.find('nope'), null);
});

test('retention: unreviewed daemon run summaries older than 30 days are dropped; escalated ones stay', async () => {
  const stale = draftFor('run-old', 'sess', 'run_summary', 'Run completed (input).', 50, []);
  const kept = {
    ...draftFor('run-kept', 'sess', 'run_summary', 'Run failed (input).', 50, []),
    state: 'escalated',
  };
  await store.write(async (tx) => {
    await candidates.insert(tx, stale);
    await candidates.insert(tx, kept);
  });
  assert.equal(await candidates.pruneStaleRunSummaries(Date.now()), 0, 'nothing is 30 days old yet');
  assert.equal(await candidates.pruneStaleRunSummaries(Date.now() + RUN_SUMMARY_RETENTION_MS + 1000), 1);
  const left = (await candidates.list({ kind: 'run_summary' })).map((c) => c.candidate_id);
  assert.deepEqual(left, [kept.candidate_id]);
});
