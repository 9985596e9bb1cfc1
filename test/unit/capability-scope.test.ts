// The capability scope algebra (src/engine/capability-scope.ts): the intersection admits exactly
// what both sides admit (never more: a disjoint narrowing admits nothing), for exact skill entries
// and for MCP entries with `*` prefixes, checked over generated scopes and names.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  type CapabilityScopeLists,
  intersectScopes,
  normalizeScope,
  pairAdmits,
  skillAdmitted,
} from '../../src/engine/capability-scope.ts';

const names = ['a', 'ab', 'abc', 'b', 'mcp__x__t', 'mcp__x__u', 'mcp__y__t'];
const entry = fc.constantFrom(
  '*',
  'a',
  'ab',
  'a*',
  'ab*',
  'b',
  'mcp__x__*',
  'mcp__*',
  'mcp__x__t',
  'mcp__y__t',
);
const list = fc.option(fc.array(entry, { maxLength: 3 }), { nil: undefined });
const scope = fc.option(
  fc.record({ skill_allow: list, skill_deny: list, mcp_tool_allow: list, mcp_tool_deny: list }),
  { nil: null },
);
const toolAdmitted = (s: CapabilityScopeLists | null, n: string) =>
  !s || pairAdmits(s.mcp_tool_allow, s.mcp_tool_deny, n);

test('capability scope: a ∩ b admits a name exactly when a and b both admit it (skills exact, MCP prefixes)', () => {
  fc.assert(
    fc.property(scope, scope, (a, b) => {
      const both = intersectScopes(normalizeScope(a), normalizeScope(b));
      for (const n of names) {
        assert.equal(skillAdmitted(both, n), skillAdmitted(a, n) && skillAdmitted(b, n), `skill ${n}`);
        assert.equal(toolAdmitted(both, n), toolAdmitted(a, n) && toolAdmitted(b, n), `tool ${n}`);
      }
    }),
    { numRuns: 2000 },
  );
});

test('capability scope: the published examples (allow ∩ allow, empty side, `*` cannot widen, deny union, disjoint)', () => {
  assert.deepEqual(
    intersectScopes({ skill_allow: ['review', 'plan'] }, { skill_allow: ['review', 'ship'] }),
    {
      skill_allow: ['review'],
    },
  );
  assert.deepEqual(intersectScopes({ skill_allow: ['review', 'plan'] }, {}), {
    skill_allow: ['plan', 'review'],
  });
  assert.deepEqual(intersectScopes({ skill_allow: ['review'] }, { skill_allow: ['*'] }), {
    skill_allow: ['review'],
  });
  assert.deepEqual(intersectScopes({ skill_deny: ['ship'] }, { skill_deny: ['delete'] }), {
    skill_deny: ['delete', 'ship'],
  });
  assert.deepEqual(intersectScopes({ skill_allow: ['a'] }, { skill_allow: ['b'] }), { skill_deny: ['*'] });
  assert.deepEqual(
    intersectScopes({ mcp_tool_allow: ['mcp__x__*'] }, { mcp_tool_allow: ['mcp__x__t', 'mcp__y__t'] }),
    {
      mcp_tool_allow: ['mcp__x__t'],
    },
  );
  assert.equal(intersectScopes(null, null), null);
  assert.equal(skillAdmitted({ skill_allow: ['a*'] }, 'ab'), false, 'skills take no prefixes');
});
