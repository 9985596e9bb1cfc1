import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLegalTransition, type RunStatus } from '../../src/engine/run-states.ts';
import { LEGAL } from '../helpers/run-states-oracle.ts';

const ALL: RunStatus[] = [
  'queued',
  'running',
  'waiting_for_approval',
  'waiting_for_user_question',
  'completed',
  'failed',
  'interrupted',
  'cancelled',
];

test('the transition table is exactly the spec table (api-core §3.8), self-moves are no-ops', () => {
  for (const from of ALL)
    for (const to of ALL) {
      const expected = from === to || LEGAL[from].includes(to);
      assert.equal(isLegalTransition(from, to), expected, `${from} -> ${to}`);
    }
});

test('running -> queued is legal only during restart recovery', () => {
  assert.equal(isLegalTransition('running', 'queued'), false);
  assert.equal(isLegalTransition('running', 'queued', { recovery: true }), true);
  assert.equal(isLegalTransition('completed', 'queued', { recovery: true }), false);
});
