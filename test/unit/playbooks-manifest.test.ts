// Pure parts of the playbooks feature: the scope gate's "wider than" rule (decision 394) and the
// digest's invariance under key order (decision 390), property-checked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { manifestDigest } from '../../src/features/playbooks/manifest.ts';
import type { PlaybookManifest } from '../../src/features/playbooks/schema.ts';
import { widerThan } from '../../src/features/playbooks/scope-check.ts';

test('decision 394: a session scope is wider unless its allow entries are covered and it denies what is required', () => {
  const req = { skill_allow: ['review', 'lint*'], mcp_tool_deny: ['shell*'] };
  assert.deepEqual(widerThan(null, undefined), []);
  assert.equal(widerThan(null, req).length, 2, 'no scope at all is wider on both pairs');
  assert.deepEqual(widerThan({ skill_allow: ['review', 'lint-js'], mcp_tool_deny: ['shell*'] }, req), []);
  assert.deepEqual(widerThan({ skill_allow: ['lint*'], mcp_tool_deny: ['*'] }, req), []);
  assert.match(
    widerThan({ skill_allow: ['review', 'deploy'], mcp_tool_deny: ['shell*'] }, req).join(),
    /deploy/,
  );
  assert.match(widerThan({ skill_allow: ['review'], mcp_tool_deny: ['shell-a'] }, req).join(), /shell\*/);
  assert.deepEqual(
    widerThan({ skill_deny: ['*'], mcp_tool_deny: ['*'] }, req),
    [],
    'denying everything is narrowest',
  );
});

const reorder = (v: unknown, flip: boolean): unknown =>
  Array.isArray(v)
    ? v.map((x) => reorder(x, flip))
    : v && typeof v === 'object'
      ? Object.fromEntries(
          (flip ? Object.entries(v).reverse() : Object.entries(v)).map(([k, x]) => [k, reorder(x, !flip)]),
        )
      : v;

test('decision 390: the digest does not depend on key order, and a changed title changes it', () => {
  fc.assert(
    fc.property(
      fc.record({
        title: fc.string({ minLength: 1 }),
        objective: fc.string({ minLength: 1 }),
        metadata: fc.jsonValue(),
        acceptance_criteria: fc.array(fc.string()),
      }),
      (parts) => {
        const m = { playbook_id: 'p', version: '1', ...parts } as PlaybookManifest;
        const d = manifestDigest(m);
        assert.equal(manifestDigest(reorder(m, true) as PlaybookManifest), d);
        assert.notEqual(manifestDigest({ ...m, title: `${m.title}!` }), d);
      },
    ),
  );
});
