// The ranking and eligibility rules of memory projections as a table (api-core §3.5, api-collab
// §4.4, concepts §4.10): every prompt exclusion, zero-score drop, the explicit-memory-request
// fallback, scope order and recency as tie-breaks, and the lexical scoring itself.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LearningRecord, LearningScope } from '../../src/features/learnings/port.ts';
import { promptExclusion, searchVisible } from '../../src/features/memory/eligibility.ts';
import { learnedContext } from '../../src/features/memory/projection.ts';
import {
  isExplicitMemoryRequest,
  neutralizeFences,
  queryTerms,
  scoreFields,
  stem,
} from '../../src/features/memory/ranking.ts';

const NOW = 1_000_000;
const SCOPES: LearningScope[] = [
  { kind: 'session', id: 's' },
  { kind: 'persona', id: 'p' },
  { kind: 'project', id: 'x' },
  { kind: 'workspace', id: 'default' },
];

let n = 0;
function learning(over: Partial<LearningRecord> = {}): LearningRecord {
  n++;
  return {
    learning_id: `l${String(n).padStart(3, '0')}`,
    scope: { kind: 'workspace', id: 'default' },
    kind: 'fact',
    sensitivity: 'scoped',
    content: 'The deploy target is the blue cluster',
    confidence: 80,
    status: 'active',
    publish_tier: 'active',
    verification_status: 'unverified',
    policy_decision: 'manual',
    policy_actor: 'operator',
    source: {},
    evidence_refs: [],
    supersedes: null,
    superseded_by: null,
    created_at_ms: 1000,
    updated_at_ms: 1000,
    expires_at_ms: null,
    ...over,
  };
}

test('prompt exclusions: each rule of api-collab §4.4 alone keeps a learning out; manual active ones stay', () => {
  const table: Array<[Partial<LearningRecord>, string | null]> = [
    [{}, null],
    [{ kind: 'preference' }, null],
    [{ kind: 'decision' }, null],
    [{ kind: 'procedure' }, 'kind_not_injected'],
    [{ kind: 'run_summary' }, 'kind_not_injected'],
    [{ sensitivity: 'sensitive' }, 'sensitive'],
    [{ status: 'revoked' }, 'status_revoked'],
    [{ status: 'superseded' }, 'status_superseded'],
    [{ status: 'expired' }, 'status_expired'],
    [{ status: 'provisional', publish_tier: 'provisional' }, 'status_provisional'],
    [{ publish_tier: 'provisional' }, 'provisional_tier'],
    [{ superseded_by: 'l999' }, 'superseded'],
    [{ expires_at_ms: NOW }, 'expired'],
    [{ expires_at_ms: NOW + 1 }, null],
    [{ verification_status: 'failed' }, 'verification_failed'],
    [{ policy_decision: 'escalated' }, 'escalated'],
    [{ policy_decision: 'automatic', policy_actor: 'policy' }, 'automatic_unverified'],
    [{ policy_decision: 'automatic', policy_actor: 'policy', verification_status: 'verified' }, null],
    [{ policy_decision: 'manual', verification_status: 'unverified' }, null],
  ];
  for (const [over, want] of table)
    assert.equal(promptExclusion(learning(over), NOW), want, JSON.stringify(over));
});

test('search visibility: sensitive, revoked and expired learnings never show; provisional ones do', () => {
  assert.equal(searchVisible(learning({ sensitivity: 'sensitive' }), NOW), false);
  assert.equal(searchVisible(learning({ status: 'revoked' }), NOW), false);
  assert.equal(searchVisible(learning({ expires_at_ms: NOW - 1 }), NOW), false);
  assert.equal(searchVisible(learning({ status: 'provisional', publish_tier: 'provisional' }), NOW), true);
});

test('learned_context: scoring ones drop the zero-score ones; none scoring gives nothing unless memory is asked for', () => {
  const blue = learning({ content: 'Deploys go to the blue cluster', updated_at_ms: 10 });
  const tabs = learning({
    content: 'The user prefers tabs over spaces',
    kind: 'preference',
    updated_at_ms: 30,
  });
  const sens = learning({
    content: 'The blue cluster root password rotates weekly',
    sensitivity: 'sensitive',
  });
  const proc = learning({ content: 'Procedure: deploy to blue cluster', kind: 'procedure' });
  const ids = (p: { entries: Array<{ id: string }> }) => p.entries.map((e) => e.id);
  const live = [blue, tabs, sens, proc];
  assert.deepEqual(ids(learnedContext(live, SCOPES, 'where do deploys go?', NOW)), [blue.learning_id]);
  assert.deepEqual(ids(learnedContext(live, SCOPES, 'write a haiku about autumn', NOW)), []);
  assert.deepEqual(
    ids(learnedContext(live, SCOPES, 'use what you remember about me', NOW)),
    [tabs.learning_id, blue.learning_id],
    'explicit memory request: recency fallback over the eligible ones only',
  );
  assert.deepEqual(
    ids(learnedContext(live, SCOPES, '', NOW, true)),
    [tabs.learning_id, blue.learning_id],
    'browse',
  );
});

test('learned_context ties: equal scores go newest first; the fallback breaks equal times by scope order', () => {
  const older = learning({ content: 'The release train leaves on Tuesday', updated_at_ms: 100 });
  const newer = learning({ content: 'The release notes live in docs/releases', updated_at_ms: 200 });
  const ids = (p: { entries: Array<{ id: string }> }) => p.entries.map((e) => e.id);
  assert.deepEqual(ids(learnedContext([older, newer], SCOPES, 'release', NOW)), [
    newer.learning_id,
    older.learning_id,
  ]);
  const both = learnedContext([older, newer], SCOPES, 'release train', NOW);
  assert.deepEqual(ids(both), [older.learning_id, newer.learning_id], 'a higher score beats recency');
  assert.equal(both.entries[0]!.score, 1);
  assert.equal(both.entries[1]!.score, 0.5);
  const ws = learning({ content: 'Remembered thing A', updated_at_ms: 500 });
  const session = learning({
    content: 'Remembered thing B',
    updated_at_ms: 500,
    scope: { kind: 'session', id: 's' },
  });
  const project = learning({
    content: 'Remembered thing C',
    updated_at_ms: 500,
    scope: { kind: 'project', id: 'x' },
  });
  assert.deepEqual(ids(learnedContext([ws, project, session], SCOPES, 'recall anything', NOW)), [
    session.learning_id,
    project.learning_id,
    ws.learning_id,
  ]);
});

test('learned_context is bounded by its entry limit and counts what it left out', () => {
  const many = Array.from({ length: 9 }, (_, i) =>
    learning({ content: `Cache rule ${i}`, updated_at_ms: i }),
  );
  const packed = learnedContext(many, SCOPES, 'cache', NOW);
  assert.equal(packed.entries.length, 6);
  assert.equal(packed.omitted, 3);
  assert.deepEqual(
    packed.entries.map((e) => e.item.content),
    ['Cache rule 8', 'Cache rule 7', 'Cache rule 6', 'Cache rule 5', 'Cache rule 4', 'Cache rule 3'],
  );
});

test('lexical scoring: Unicode-aware tokens, stop words out, light stemming, share of terms, fields named', () => {
  assert.deepEqual(queryTerms('What is the Café deploying?'), ['cafe', 'deploy']);
  assert.equal(stem('clusters'), 'cluster');
  assert.equal(stem('policies'), 'policy');
  assert.equal(stem('bus'), 'bus');
  const s = scoreFields(queryTerms('deploy cluster'), {
    summary: 'deployed it',
    request_preview: 'the clusters',
  });
  assert.deepEqual(s, { score: 1, matched_fields: ['summary', 'request_preview'] });
  assert.deepEqual(scoreFields([], { summary: 'x' }), { score: 0, matched_fields: [] });
  assert.equal(isExplicitMemoryRequest('Do you remember my editor?'), true);
  assert.equal(isExplicitMemoryRequest('Refactor this function'), false);
  assert.equal(neutralizeFences('a ```sh\nrm``` ~~~ b'), "a '''sh\nrm''' --- b");
});
