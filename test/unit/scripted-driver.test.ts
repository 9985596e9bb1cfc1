import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelCallError, ModelRequest } from '../../src/models/driver.ts';
import { ScriptedDriver } from '../../src/models/drivers/scripted.ts';

const req = (
  input: string,
  call_index: number,
  signal = new AbortController().signal,
  deltas: string[] = [],
): ModelRequest => ({
  run_id: 'r',
  model: 'm',
  messages: [{ role: 'user', content: input }],
  input_text: input,
  call_index,
  tools: [],
  signal,
  onTextDelta: (d) => deltas.push(d),
});

const script = {
  rules: [
    {
      match: '^tool',
      turns: [{ tool_calls: [{ name: 'noop', arguments: { a: 1 } }] }, { text: 'after tool' }],
    },
    { match: 'fail', turns: [{ error: { status: 429, retry_after_ms: 5 } }, { error: { status: 400 } }] },
    { match: 'hang', turns: [{ hang: true }] },
  ],
  default: { turns: [{ text: 'default answer', usage: { input_tokens: 7, output_tokens: 3 } }] },
};

test('scripted: first matching rule, turn by call index, exhaustion', async () => {
  const d = new ScriptedDriver(script);
  const first = await d.call(req('tool please', 0));
  assert.equal(first.stop_reason, 'tool_use');
  assert.deepEqual(first.tool_calls, [{ id: 'call-1-1', name: 'noop', arguments: { a: 1 } }]);
  assert.equal((await d.call(req('tool please', 1))).text, 'after tool');
  assert.equal((await d.call(req('tool please', 2))).text, '(script exhausted)');
  const deltas: string[] = [];
  const def = await d.call(req('anything', 0, undefined, deltas));
  assert.equal(def.text, 'default answer');
  assert.ok(deltas.length > 1, 'text is streamed in several deltas');
  assert.equal(deltas.join(''), 'default answer');
  assert.deepEqual(def.usage, { input_tokens: 7, output_tokens: 3 });
});

test('scripted: without a script it echoes the input', async () => {
  const r = await new ScriptedDriver(null).call(req('echo me', 0));
  assert.equal(r.text, 'echo me');
});

test('scripted: errors are classified like provider errors', async () => {
  const d = new ScriptedDriver(script);
  await assert.rejects(
    d.call(req('fail', 0)),
    (e: ModelCallError) => e.status === 429 && e.retryable && e.retryAfterMs === 5,
  );
  await assert.rejects(d.call(req('fail', 1)), (e: ModelCallError) => e.status === 400 && !e.retryable);
});

test('scripted: hang answers only to cancellation', async () => {
  const ac = new AbortController();
  const p = new ScriptedDriver(script).call(req('hang', 0, ac.signal));
  setTimeout(() => ac.abort(new Error('cancelled')), 30);
  await assert.rejects(p, /cancelled/);
});

test('scripted: delta_delay_ms streams the text slowly and a cancel stops it between deltas', async () => {
  const d = new ScriptedDriver({ default: { turns: [{ text: 'abcdefgh', delta_delay_ms: 60_000 }] } });
  const ac = new AbortController();
  const deltas: string[] = [];
  const pending = d.call({
    ...req('x', 0, ac.signal, deltas),
    onTextDelta: (t) => {
      deltas.push(t);
      ac.abort(new Error('cancelled'));
    },
  });
  await assert.rejects(pending, /cancelled/);
  assert.deepEqual(deltas, ['ab']);
});
