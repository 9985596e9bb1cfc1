// The multi-turn tool loop with tools registered by the test (in-process daemon), a real provider
// driver against the Anthropic wire-format fixture, and a cassette recorded from that real route
// and replayed offline by the scripted driver.
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, verify } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { resolveServeConfig } from '../../src/config/serve-options.ts';
import { startDaemon } from '../../src/daemon.ts';
import { canonicalJson } from '../../src/engine/output-contract.ts';
import { ToolRegistry } from '../../src/tools/registry.ts';
import { startAnthropicServer } from '../fixtures/providers/anthropic-server.ts';
import { http, tempDir, waitForRun } from '../helpers/daemon.ts';

function tools(sideEffects: unknown[]) {
  const registry = new ToolRegistry();
  registry.register({
    name: 'add',
    description: 'adds two numbers',
    input_schema: {
      type: 'object',
      properties: { a: { type: 'number' }, b: { type: 'number' } },
      required: ['a', 'b'],
    },
    side_effects: false,
    execute: async (args) => ({ content: String(Number(args.a) + Number(args.b)), is_error: false }),
  });
  registry.register({
    name: 'record',
    description: 'records a value (a side effect)',
    input_schema: { type: 'object', properties: { value: { type: 'string' } } },
    side_effects: true,
    execute: async (args) => {
      sideEffects.push(args.value);
      return { content: 'recorded', is_error: false };
    },
  });
  return registry;
}

test('tool loop through a real driver; the recorded cassette replays the same run offline', async () => {
  const fixture = await startAnthropicServer();
  const cassettes = tempDir('kheish-cassette-');
  const work = tempDir('kheish-routes-');
  writeFileSync(
    join(work, 'routes.toml'),
    `version = 1\n[routes.claude]\ndriver = "anthropic"\ndefault_model = "claude-sonnet-4-6"\napi_key = "test-key"\nbase_url = "${fixture.origin}"\n`,
  );
  const effects: unknown[] = [];
  const liveRoot = tempDir();
  const live = await startDaemon(
    resolveServeConfig(
      {
        bind: '127.0.0.1:0',
        stateRoot: liveRoot,
        routesFile: join(work, 'routes.toml'),
        recordCassette: cassettes,
      },
      {},
    ),
    pino({ level: 'silent' }),
    tools(effects),
  );
  let recorded: any;
  try {
    fixture.enqueue(
      { kind: 'tool_call', id: 'toolu_add', name: 'add', args: { a: 1, b: 2 } },
      { kind: 'tool_call', id: 'toolu_rec', name: 'record', args: { value: 'three' }, text: 'Saving it.' },
      { kind: 'text', deltas: ['1 + 2 = ', '3'] },
    );
    await http(live.url, 'POST', '/v1/sessions', { session_id: 's' });
    const id = (
      await http(live.url, 'POST', '/v1/sessions/s/runs', { content: 'add 1 and 2, then record it' })
    ).body.run_id;
    recorded = await waitForRun(live.url, id);
    assert.equal(recorded.status, 'completed', recorded.error);
    assert.deepEqual(
      recorded.outputs.map((o: { content: string }) => o.content),
      ['Saving it.', '1 + 2 = 3'],
    );
    assert.deepEqual(effects, ['three'], 'the side-effecting tool ran exactly once');
    const declared: string[] = fixture.requests[0]!.body.tools.map((t: { name: string }) => t.name);
    for (const name of ['add', 'record', 'ask_user_question', 'read_file', 'write_file'])
      assert.ok(declared.includes(name), `the model sees ${name}`);
    const results = fixture.requests.slice(1).map((r) =>
      r.body.messages
        .flatMap((m: { content: unknown }) => (Array.isArray(m.content) ? m.content : []))
        .filter((c: { type: string }) => c.type === 'tool_result')
        .map((c: { tool_use_id: string; content: unknown }) => [c.tool_use_id, JSON.stringify(c.content)]),
    );
    assert.equal(results[0]!.length, 1);
    assert.equal(results[0]![0]![0], 'toolu_add');
    assert.match(results[0]![0]![1], /3/);
    assert.equal(results[1]!.length, 2, 'the second follow-up carries both results');
    // The side effect left a signed, hash-chained audit: started, then completed.
    // The provider requests are in the same chain (one record per model call attempt).
    const all = (await http(live.url, 'GET', `/v1/runs/${id}/external-actions`)).body;
    const actions = all.filter((a: { kind: string }) => a.kind === 'tool');
    assert.deepEqual(
      actions.map((a: { phase: string; target: string }) => [a.phase, a.target]),
      [
        ['started', 'record'],
        ['completed', 'record'],
      ],
    );
    assert.equal(all[0].prev_hash, '0'.repeat(64));
    for (let i = 1; i < all.length; i++) assert.equal(all[i].prev_hash, all[i - 1].record_hash);
    assert.ok(all.some((a: { kind: string }) => a.kind === 'provider_request'));
    assert.equal(actions[1].outcome, 'succeeded');
    const publicKey = createPublicKey(createPrivateKey(readFileSync(join(liveRoot, 'audit-signing.key'))));
    for (const a of actions) {
      const { record_hash, signature_alg: _alg, key_id: _kid, signature, ...body } = a;
      assert.equal(createHash('sha256').update(canonicalJson(body)).digest('hex'), record_hash);
      assert.ok(
        verify(null, Buffer.from(record_hash, 'hex'), publicKey, Buffer.from(signature, 'base64')),
        'signature verifies',
      );
    }
  } finally {
    await live.shutdown('test');
    await fixture.close();
  }

  const [file] = readdirSync(cassettes);
  const cassette = JSON.parse(readFileSync(join(cassettes, file!), 'utf8'));
  assert.equal(cassette.recorded_from.driver, 'anthropic');
  assert.equal(cassette.default.turns.length, 3);
  writeFileSync(
    join(work, 'replay.toml'),
    `version = 1\n[routes.replay]\ndriver = "scripted"\ndefault_model = "cassette"\nscript_file = "${join(cassettes, file!)}"\n`,
  );
  const replayEffects: unknown[] = [];
  const offline = await startDaemon(
    resolveServeConfig(
      { bind: '127.0.0.1:0', stateRoot: tempDir(), routesFile: join(work, 'replay.toml') },
      {},
    ),
    pino({ level: 'silent' }),
    tools(replayEffects),
  );
  try {
    await http(offline.url, 'POST', '/v1/sessions', { session_id: 's' });
    const id = (
      await http(offline.url, 'POST', '/v1/sessions/s/runs', { content: 'add 1 and 2, then record it' })
    ).body.run_id;
    const replayed = await waitForRun(offline.url, id);
    assert.equal(replayed.status, 'completed');
    assert.deepEqual(
      replayed.outputs.map((o: { content: string }) => o.content),
      recorded.outputs.map((o: { content: string }) => o.content),
    );
    assert.deepEqual(replayEffects, ['three']);
  } finally {
    await offline.shutdown('test');
  }
});
