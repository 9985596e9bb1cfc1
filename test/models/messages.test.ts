// Conversation and tool translation into the AI SDK prompt.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toModelMessages, toToolSet } from '../../src/models/drivers/messages.ts';

test('assistant tool calls and tool results become SDK parts; consecutive results share one message', () => {
  const out = toModelMessages(
    [
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'q' },
      {
        role: 'assistant',
        content: '',
        tool_calls: [
          { id: 'a', name: 't', arguments: { x: 1 } },
          { id: 'b', name: 't', arguments: {} },
        ],
      },
      { role: 'tool', tool_call_id: 'a', name: 't', content: 'ok' },
      { role: 'tool', tool_call_id: 'b', name: 't', content: 'bad', is_error: true },
    ],
    { systemAnywhere: false },
  );
  assert.deepEqual(out, [
    { role: 'system', content: 'sys' },
    { role: 'user', content: 'q' },
    {
      role: 'assistant',
      content: [
        { type: 'tool-call', toolCallId: 'a', toolName: 't', input: { x: 1 } },
        { type: 'tool-call', toolCallId: 'b', toolName: 't', input: {} },
      ],
    },
    {
      role: 'tool',
      content: [
        { type: 'tool-result', toolCallId: 'a', toolName: 't', output: { type: 'text', value: 'ok' } },
        { type: 'tool-result', toolCallId: 'b', toolName: 't', output: { type: 'error-text', value: 'bad' } },
      ],
    },
  ]);
});

test('empty assistant turns are dropped; late system messages follow the provider rule', () => {
  const msgs = [
    { role: 'user', content: 'q' },
    { role: 'assistant', content: '' },
    { role: 'system', content: 'note' },
  ] as const;
  assert.deepEqual(toModelMessages([...msgs], { systemAnywhere: true }), [
    { role: 'user', content: 'q' },
    { role: 'system', content: 'note' },
  ]);
  assert.deepEqual(toModelMessages([...msgs], { systemAnywhere: false })[1], {
    role: 'user',
    content: '[system notice]\nnote',
  });
});

test('tools are declared without execute, with an object schema even when MCP omits the type', async () => {
  const set = toToolSet([
    { name: 'ls', description: 'list', input_schema: { properties: { p: { type: 'string' } } } },
  ]);
  const tool = set.ls as any;
  assert.equal(tool.execute, undefined);
  assert.equal(tool.description, 'list');
  assert.deepEqual(await tool.inputSchema.jsonSchema, {
    type: 'object',
    properties: { p: { type: 'string' } },
  });
});
