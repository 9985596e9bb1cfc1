// The invariant checker must catch what it claims to: a clean synthetic snapshot passes, and each
// planted fault is reported by the right invariant. (A checker that never fails proves nothing.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkInvariants, type Ledger, type Snapshot } from './invariants.ts';

function clean(): { s: Snapshot; ledger: Ledger } {
  const run = {
    run_id: 'r1',
    session_id: 's1',
    status: 'completed',
    request: { text_preview: 'kind:tools #1' },
    outputs: [{ content: 'tools done' }],
  };
  const events = ['accepted', 'queued', 'started', 'output', 'completed'].map((type) => ({
    type,
    position: 0,
  }));
  const frame = (id: number, status: string) => ({
    id: String(id << 20),
    event: 'run_updated',
    data: { run: { run_id: 'r1', status } },
  });
  return {
    s: {
      url: 'http://127.0.0.1:1',
      status: {},
      runs: new Map([['r1', run]]),
      runEvents: new Map([['r1', events]]),
      sse: [frame(1, 'queued'), frame(3, 'running'), frame(5, 'running'), frame(7, 'completed')],
      verified: new Set(),
      journal: new Map([
        [
          'r1',
          [
            { kind: 'assistant_message', payload: { tool_calls: [{ id: 'c1' }] } },
            { kind: 'tool_result', payload: { tool_call_id: 'c1' } },
          ],
        ],
      ]),
    },
    ledger: { acked: new Set(['r1']) },
  };
}

const names = (v: string[]) => [...new Set(v.map((x) => /^\[([^\]]+)\]/.exec(x)![1]))];

test('invariants: a clean history passes every check', () => {
  const { s, ledger } = clean();
  assert.deepEqual(checkInvariants(s, ledger), []);
});

test('invariants: each planted fault is caught by its invariant', () => {
  const cases: Array<[string, (s: Snapshot, l: Ledger) => void]> = [
    ['every acknowledged run exists', (_s, l) => l.acked.add('lost')],
    ['run events follow the transition table', (s) => s.runEvents.get('r1')!.push({ type: 'started' })],
    [
      'run events follow the transition table',
      (s) =>
        s.runEvents.get('r1')!.splice(2, 1, { type: 'queued' }, { type: 'completed' }, { type: 'started' }),
    ],
    [
      'SSE run_updated frames follow the transition table',
      (s) =>
        s.sse.push({
          id: String(9 << 20),
          event: 'run_updated',
          data: { run: { run_id: 'r1', status: 'running' } },
        }),
    ],
    [
      'event ids strictly increase, no duplicates, no gaps on replay',
      (s) => s.sse.push({ ...s.sse[0]!, event: 'trace' }),
    ],
    [
      'event ids strictly increase, no duplicates, no gaps on replay',
      (s) => s.sse.unshift({ event: 'stream_gap', data: { reason: 'replay_window' } }),
    ],
    [
      'no tool call has two results',
      (s) => s.journal.get('r1')!.push({ kind: 'tool_result', payload: { tool_call_id: 'c1' } }),
    ],
    [
      'a completed run produced exactly its scripted outputs (nothing twice)',
      (s) => s.runs.get('r1').outputs.push({ content: 'tools done' }),
    ],
    [
      'one active run per session',
      (s) => {
        s.runs.set('r2', { run_id: 'r2', session_id: 's1', status: 'running', request: {} });
        s.runs.set('r3', { run_id: 'r3', session_id: 's1', status: 'running', request: {} });
      },
    ],
  ];
  for (const [invariant, plant] of cases) {
    const { s, ledger } = clean();
    plant(s, ledger);
    assert.ok(
      names(checkInvariants(s, ledger)).includes(invariant),
      `${invariant} not reported for ${plant}`,
    );
  }
});
