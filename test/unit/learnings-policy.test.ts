// The learning automation decision table (api-collab §4.5, concepts §4.10): rules × candidate
// origins × modes → the action and what it does to the candidate; the guards, quarantine, the
// judge envelope; the semantic key, conflicts, secret detection and verification term match.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  clampJudged,
  evaluate,
  judgeEnvelope,
  type ReviewSubject,
  stateAfterReview,
} from '../../src/features/learnings/decision.ts';
import { normalizePolicy, parsePolicyBody } from '../../src/features/learnings/policy.ts';
import {
  looksPersonal,
  looksSecret,
  semanticKey,
  subjectKey,
  supportedBy,
} from '../../src/features/learnings/semantic.ts';

const fact = (origin: 'api' | 'daemon', extra: Partial<ReviewSubject> = {}): ReviewSubject => ({
  origin,
  scope_kind: 'session',
  scope_id: 's1',
  kind: 'fact',
  sensitivity: 'scoped',
  confidence: 90,
  source: { session_id: 's1', run_id: 'r1' },
  evidence_refs: [{ kind: 'run_memory', run_id: 'r1' }],
  ...extra,
});

const RULES = {
  none: [],
  activeFacts: [{ name: 'facts', kind: 'fact', action: 'publish_active' }],
  trusted: [
    {
      name: 'trusted',
      kind: 'fact',
      require_evidence: true,
      require_source_run: true,
      require_source_session: true,
      action: 'publish_active',
    },
  ],
  provisionalHighConfidence: [{ name: 'hi', min_confidence: 95, action: 'publish_provisional' }],
  rejectSensitive: [{ name: 'nosens', sensitivity: 'sensitive', action: 'reject' }],
  quarantined: [
    { name: 'q', kind: 'fact', action: 'publish_active' },
    { name: 'fallback', action: 'reject' },
  ],
} as const;

// [rules, extra policy, origin, candidate override, conflict, expected action, matched rule]
type Row = [
  keyof typeof RULES,
  Record<string, unknown>,
  'api' | 'daemon',
  Partial<ReviewSubject>,
  boolean,
  string,
  string | null,
];
const TABLE: Row[] = [
  ['none', {}, 'api', {}, false, 'manual_review', null],
  ['none', {}, 'daemon', {}, false, 'manual_review', null],
  ['none', { default_action: 'reject' }, 'daemon', {}, false, 'reject', null],
  ['activeFacts', {}, 'daemon', {}, false, 'publish_active', 'facts'],
  // API-origin active publication is downgraded unless allowed.
  ['activeFacts', {}, 'api', {}, false, 'publish_provisional', 'facts'],
  ['activeFacts', { allow_api_origin_active_publication: true }, 'api', {}, false, 'publish_active', 'facts'],
  // A same-subject conflict sends an active publication to manual review.
  ['activeFacts', {}, 'daemon', {}, true, 'manual_review', 'facts'],
  ['activeFacts', {}, 'daemon', { kind: 'decision' }, false, 'manual_review', null],
  // require_* gates match daemon-origin candidates only.
  ['trusted', {}, 'daemon', {}, false, 'publish_active', 'trusted'],
  ['trusted', {}, 'api', {}, false, 'manual_review', null],
  ['trusted', {}, 'daemon', { evidence_refs: [] }, false, 'manual_review', null],
  ['trusted', {}, 'daemon', { source: { session_id: 's1' } }, false, 'manual_review', null],
  ['trusted', {}, 'daemon', { source: { run_id: 'r1' } }, false, 'manual_review', null],
  ['provisionalHighConfidence', {}, 'api', { confidence: 95 }, false, 'publish_provisional', 'hi'],
  ['provisionalHighConfidence', {}, 'api', { confidence: 94 }, false, 'manual_review', null],
  ['rejectSensitive', {}, 'daemon', { sensitivity: 'sensitive' }, false, 'reject', 'nosens'],
  ['rejectSensitive', {}, 'daemon', {}, false, 'manual_review', null],
  ['quarantined', {}, 'daemon', {}, false, 'publish_active', 'q'],
  ['quarantined', { quarantined_rule_names: ['q'] }, 'daemon', {}, false, 'reject', 'fallback'],
];

const MODES = ['manual_only', 'shadow', 'enabled'] as const;
const STATE_OF: Record<string, Record<(typeof MODES)[number], string | null>> = {
  manual_review: { manual_only: null, shadow: 'pending', enabled: 'escalated' },
  reject: { manual_only: null, shadow: 'pending', enabled: 'rejected' },
  publish_provisional: { manual_only: null, shadow: 'pending', enabled: 'published' },
  publish_active: { manual_only: null, shadow: 'pending', enabled: 'published' },
};

test('learning policy decision table: rules × origins × modes → action and candidate state', () => {
  for (const [rules, extra, origin, override, conflict, action, rule] of TABLE) {
    for (const mode of MODES) {
      const policy = normalizePolicy({ mode, publication: { rules: RULES[rules], ...extra } });
      const d = evaluate(fact(origin, override), policy, { conflict });
      const where = `${rules} ${JSON.stringify(extra)} ${origin} ${JSON.stringify(override)} conflict=${conflict} mode=${mode}`;
      assert.equal(d.action, action, where);
      assert.equal(d.matched_rule_name, rule, where);
      assert.equal(stateAfterReview(mode, d.action), STATE_OF[action]![mode], where);
    }
  }
});

test('learning policy: procedure never auto-publishes active, even through a hand-built rule', () => {
  const policy = normalizePolicy({ mode: 'enabled' });
  policy.publication.rules.push({
    name: 'sneaky',
    scope_kind: null,
    scope_id: null,
    kind: 'procedure',
    sensitivity: null,
    min_confidence: null,
    require_evidence: false,
    require_source_run: false,
    require_source_session: false,
    action: 'publish_active',
    expires_after_ms: 5000,
  });
  const d = evaluate(fact('daemon', { kind: 'procedure' }), policy, { conflict: false });
  assert.equal(d.action, 'publish_provisional');
  assert.equal(d.expires_after_ms, 5000);
  assert.match(d.reason, /procedure/);
});

test('learning judge envelope: the judge can lower but never raise the deterministic action', () => {
  assert.deepEqual(judgeEnvelope('manual_review'), ['manual_review', 'reject']);
  assert.deepEqual(judgeEnvelope('publish_provisional'), ['manual_review', 'reject', 'publish_provisional']);
  assert.equal(clampJudged('publish_provisional', 'publish_active'), 'publish_provisional');
  assert.equal(clampJudged('publish_active', 'reject'), 'reject');
  assert.equal(clampJudged('manual_review', 'publish_active'), 'manual_review');
});

test('learning policy body forms: wrapped, legacy flat, only expected_revision refused', () => {
  assert.equal(parsePolicyBody({ policy: { mode: 'enabled' }, expected_revision: 3 }).expected_revision, 3);
  assert.equal(parsePolicyBody({ mode: 'enabled', expected_revision: 3 }).policy.mode, 'enabled');
  assert.throws(() => parsePolicyBody({ expected_revision: 3 }), /no policy/);
  assert.throws(() => parsePolicyBody({ expected_revision: 3, skip_hooks: true }), /no policy/);
  assert.equal(parsePolicyBody({ policy: { mode: 'shadow' }, skip_hooks: true }).skip_hooks, true);
  assert.throws(() => parsePolicyBody({ policy: {}, extra: 1 }), /unknown field/);
  const rule = normalizePolicy({ publication: { rules: [{ scope_kind: 'workspace', action: 'reject' }] } });
  assert.equal(rule.publication.rules[0]!.scope_id, 'default');
});

test('semantic keys: equivalent phrasings share a key; same subject with another value conflicts', () => {
  assert.equal(semanticKey('Project codename is Atlas'), semanticKey('project codename: atlas'));
  assert.equal(semanticKey('Fact: Project codename is Atlas.'), semanticKey('project codename = ATLAS'));
  assert.notEqual(semanticKey('Project codename is Atlas'), semanticKey('Project codename is Hermes'));
  assert.equal(subjectKey('Project codename is Atlas'), subjectKey('project codename: Hermes'));
  assert.equal(subjectKey('Use the verification profile when checking scheduler regressions'), null);
});

test('secret detection: token shapes and the named assignments are secrets; plain prose is not', () => {
  for (const s of [
    'api-key: abc',
    'x-api-key: abc',
    'clientSecret: abc',
    'secret_token=abc',
    'personal access token=abc',
    'the key is sk-proj-abcdefghijklmnop',
    'Authorization: Bearer abcdefghijklmnop',
    'value [redacted]',
  ])
    assert.equal(looksSecret(s), true, s);
  for (const s of [
    'Project codename is Atlas',
    'Rotate the API key every 90 days',
    'The token bucket refills hourly',
  ])
    assert.equal(looksSecret(s), false, s);
  assert.equal(looksPersonal('Contact ops at alice@example.com'), true);
  assert.equal(looksPersonal('Contact ops on the #ops channel'), false);
});

test('verification: exact containment or every meaningful term; one shared word is not support', () => {
  const memory = 'User said: the project codename is Atlas and deploys happen on Tuesday.';
  assert.equal(supportedBy('Fact: project codename is Atlas', memory), true);
  assert.equal(supportedBy('Deploys happen Tuesday', memory), true);
  assert.equal(supportedBy('Deploys happen Friday', memory), false);
  assert.equal(supportedBy('Atlas', 'nothing related'), false);
});
