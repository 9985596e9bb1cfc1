import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compactionCut } from '../../src/engine/compaction.ts';
import { conversation, positionOf } from '../../src/engine/journal-view.ts';
import type { JournalEntry } from '../../src/store/repos/journal.ts';

let seq = 0;
const e = (kind: string, payload: Record<string, unknown> = {}): JournalEntry => ({
  session_id: 's',
  seq: ++seq,
  run_id: 'r',
  kind,
  created_at_ms: 0,
  payload,
});

test('position: calls, failures, fallback resets the scripted position, pending tool calls', () => {
  const entries = [
    e('input_received', { text: 'hi' }),
    e('model_call_failed'),
    e('route_switched', { route_id: 'b', model: 'm' }),
    e('assistant_message', {
      text: '',
      tool_calls: [
        { id: 't1', name: 'x', arguments: {} },
        { id: 't2', name: 'y', arguments: {} },
      ],
    }),
    e('tool_result', { tool_call_id: 't1' }),
  ];
  const pos = positionOf(entries);
  assert.equal(pos.calls, 2);
  assert.equal(pos.routeCalls, 1);
  assert.deepEqual(pos.route, { route_id: 'b', model: 'm' });
  assert.deepEqual(
    pos.pendingToolCalls.map((c) => c.id),
    ['t2'],
  );
  assert.equal(pos.finished, false);
});

test('position: a repair request makes the next call tool-free; the answer to it counts as a repair call', () => {
  const pos = positionOf([e('assistant_message', { text: 'bad' }), e('contract_repair', { text: 'fix' })]);
  assert.equal(pos.repairDue, true);
  assert.equal(pos.finished, false);
  const after = positionOf([
    e('assistant_message', { text: 'bad' }),
    e('contract_repair', { text: 'fix' }),
    e('assistant_message', { text: '{}', purpose: 'repair' }),
  ]);
  assert.equal(after.repairCalls, 1);
  assert.equal(after.repairs, 1);
  assert.equal(after.finished, true);
});

test('conversation: the latest summary replaces exactly the entries it covers', () => {
  seq = 0;
  const entries = [
    e('input_received', { text: 'one' }),
    e('assistant_message', { text: 'two' }),
    e('input_received', { text: 'three' }),
    e('compaction_boundary', { summary: 'S', upto_seq: 2 }),
    e('assistant_message', { text: 'four' }),
  ];
  assert.deepEqual(
    conversation(entries).map((m) => m.content),
    ['Summary of the earlier conversation:\nS', 'three', 'four'],
  );
});

test('compaction cut never separates tool results from their call', () => {
  seq = 0;
  const entries = [
    e('input_received', { text: 'a' }),
    e('assistant_message', { text: 'b' }),
    e('input_received', { text: 'c' }),
    e('assistant_message', { text: '', tool_calls: [{ id: 't', name: 'x', arguments: {} }] }),
    e('tool_result', { tool_call_id: 't' }),
    e('tool_result', { tool_call_id: 'u' }),
    e('assistant_message', { text: 'd' }),
  ];
  const cut = compactionCut(entries);
  assert.equal(entries[cut]!.kind, 'assistant_message');
  assert.ok(cut <= 3);
  assert.equal(compactionCut(entries.slice(0, 3)), -1, 'too short to compact');
});
