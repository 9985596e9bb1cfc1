// BatchLimits (src/engine/tool-limits.ts): what one tool batch does with a ToolRuntimeLimits
// snapshot — refusals before a call runs, the timeout (and the exemption of calls that wait for an
// answer), output and cumulative caps, and the parallelism cap.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchLimits, mapWithLimit } from '../../src/engine/tool-limits.ts';
import { type ToolContext, ToolRegistry } from '../../src/tools/registry.ts';
import { DEFAULT_TOOL_RUNTIME_LIMITS, parseToolRuntimeLimits } from '../../src/tools/runtime-limits.ts';

const ctx = (signal = new AbortController().signal): ToolContext => ({
  run_id: 'r',
  session_id: 's',
  agent_id: 'a',
  tool_call_id: 'c',
  workspace_root: null,
  signal,
});

function registry(): ToolRegistry {
  const r = new ToolRegistry();
  const sleeper = (name: string, waits: boolean) =>
    r.register({
      name,
      description: name,
      input_schema: {},
      side_effects: false,
      ...(waits ? { waits_for_answer: true } : {}),
      execute: (args, c) =>
        new Promise((resolve, reject) => {
          const t = setTimeout(() => resolve({ content: 'done', is_error: false }), Number(args.ms));
          c.signal.addEventListener('abort', () => {
            clearTimeout(t);
            reject(c.signal.reason);
          });
        }),
    });
  sleeper('slow', false);
  sleeper('ask_parent', true);
  r.register({
    name: 'big',
    description: 'big',
    input_schema: {},
    side_effects: false,
    execute: async (args) => ({ content: 'x'.repeat(Number(args.n)), is_error: false }),
  });
  return r;
}

const limits = (over: Record<string, unknown>) => {
  const parsed = parseToolRuntimeLimits(over);
  assert.ok(parsed.ok);
  return parsed.limits;
};

test('a call past max_timeout_ms is stopped with an error result; a call that waits for an answer is not', async () => {
  const b = new BatchLimits(limits({ max_timeout_ms: 50 }), 0);
  const r = registry();
  const stopped = await b.execute(r, { id: '1', name: 'slow', arguments: { ms: 2000 } }, ctx());
  assert.equal(stopped.is_error, true);
  assert.match(stopped.content, /max_timeout_ms \(50 ms\)/);
  const waited = await b.execute(r, { id: '2', name: 'ask_parent', arguments: { ms: 150 } }, ctx());
  assert.deepEqual(waited, { content: 'done', is_error: false });
});

test('cancellation of the run still rethrows (the engine records a cancel, not a tool error)', async () => {
  const b = new BatchLimits(limits({}), 0);
  const ac = new AbortController();
  const pending = b.execute(registry(), { id: '1', name: 'slow', arguments: { ms: 5000 } }, ctx(ac.signal));
  ac.abort(new Error('cancelled'));
  await assert.rejects(pending, /cancelled/);
});

test('refusals: calls past max_calls_per_turn, arguments over max_input_bytes, writes under read_only', () => {
  const b = new BatchLimits(
    limits({ max_calls_per_turn: 2, max_input_bytes: 20, max_sandbox: 'read_only' }),
    0,
  );
  assert.equal(b.refuse({ id: '1', name: 'slow', arguments: {} }, 1), null);
  assert.match(b.refuse({ id: '2', name: 'slow', arguments: {} }, 2)!.content, /max_calls_per_turn \(2\)/);
  assert.match(
    b.refuse({ id: '3', name: 'slow', arguments: { x: 'y'.repeat(30) } }, 0)!.content,
    /max_input_bytes/,
  );
  assert.match(b.refuse({ id: '4', name: 'write_file', arguments: {} }, 0)!.content, /read_only/);
});

test('results are cut at the output cap, and refused once the run passes its cumulative cap', async () => {
  // The run already journaled 500 bytes of tool results.
  const prior = 500;
  const b = new BatchLimits(
    limits({
      max_output_bytes: 300,
      max_cumulative_output_bytes: 1000,
      max_cumulative_result_envelope_bytes: 1000,
    }),
    prior,
  );
  const r = registry();
  const cut = await b.execute(r, { id: '1', name: 'big', arguments: { n: 1000 } }, ctx());
  assert.match(cut.content, /truncated: the result was 1000 bytes/);
  assert.equal(cut.is_error, false);
  const refused = await b.execute(r, { id: '2', name: 'big', arguments: { n: 300 } }, ctx());
  assert.equal(refused.is_error, true);
  assert.match(refused.content, /cumulative tool output limit/);
});

test('mapWithLimit keeps order and never runs more than the limit at once', async () => {
  let live = 0;
  let peak = 0;
  const out = await mapWithLimit([5, 1, 4, 2, 3], 2, async (n) => {
    live++;
    peak = Math.max(peak, live);
    await new Promise((r) => setTimeout(r, n * 5));
    live--;
    return n * 10;
  });
  assert.deepEqual(out, [50, 10, 40, 20, 30]);
  assert.equal(peak, 2);
});

test('the defaults are the spec defaults and {} resets to them', () => {
  assert.deepEqual(limits({}), { ...DEFAULT_TOOL_RUNTIME_LIMITS });
  const bad = parseToolRuntimeLimits({ max_output_bytes: 100, max_result_envelope_bytes: 50 });
  assert.equal(bad.ok, false);
});
