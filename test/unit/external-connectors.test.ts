// Pure rules of external connectors (api-collab §6.7–§6.8): settings validation, the input shape,
// the natural session id, fingerprints, reply targets, the deliver answer mapping, Retry-After,
// the child's environment and the redaction of its output.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { childEnv, redactLine, strippedEnv } from '../../src/features/external-connectors/child-env.ts';
import {
  checkInput,
  conversationOf,
  eventFingerprint,
  naturalSessionId,
  replyTargetsOf,
} from '../../src/features/external-connectors/ingress.ts';
import {
  judgeAnswer,
  parseAddress,
  retryAfterMs,
} from '../../src/features/external-connectors/output-plugin.ts';
import { ExternalEventRequest } from '../../src/features/external-connectors/protocol.ts';
import { checkBaseUrl, parseSettings } from '../../src/features/external-connectors/settings.ts';

const settings = (o: Record<string, unknown>) =>
  parseSettings({ base_url: 'https://sidecar.example.com', ...o });

test('base_url: http(s) only, no userinfo; remote private targets need allow_private_network', () => {
  assert.throws(() => checkBaseUrl(settings({ base_url: 'ftp://x.example.com' })), /http/);
  assert.throws(() => checkBaseUrl(settings({ base_url: 'https://u:p@x.example.com' })), /credentials/);
  for (const host of [
    '127.0.0.1',
    '10.1.2.3',
    '169.254.169.254',
    '[::1]',
    'localhost',
    'metadata.google.internal',
  ])
    assert.throws(
      () => checkBaseUrl(settings({ base_url: `http://${host}:8787` })),
      /allow_private_network/,
      host,
    );
  assert.doesNotThrow(() =>
    checkBaseUrl(settings({ base_url: 'http://127.0.0.1:8787', allow_private_network: true })),
  );
  assert.doesNotThrow(() => checkBaseUrl(settings({ base_url: 'https://sidecar.example.com/base' })));
});

test('child_process: loopback base_url without path, query or fragment, and a command', () => {
  const cp = { command: 'python3', args: ['x.py'] };
  assert.doesNotThrow(() =>
    checkBaseUrl(settings({ mode: 'child_process', base_url: 'http://127.0.0.1:8787', child_process: cp })),
  );
  assert.doesNotThrow(() =>
    checkBaseUrl(settings({ mode: 'child_process', base_url: 'http://[::1]:8787/', child_process: cp })),
  );
  for (const bad of [
    'http://10.0.0.1:8787',
    'http://127.0.0.1:8787/x',
    'http://127.0.0.1:8787/?a=1',
    'http://127.0.0.1:8787/#f',
  ])
    assert.throws(
      () => checkBaseUrl(settings({ mode: 'child_process', base_url: bad, child_process: cp })),
      /loopback|no path/,
      bad,
    );
  assert.throws(
    () => checkBaseUrl(settings({ mode: 'child_process', base_url: 'http://127.0.0.1:1' })),
    /command/,
  );
});

const event = (o: Record<string, unknown>) =>
  ExternalEventRequest.parse({ protocol_version: 2, event_id: 'e1', ...o });

test('input shape: exactly one of content, content+attachments, input_items (#59)', () => {
  assert.throws(
    () => checkInput(event({ content: 'a', input_items: [{ type: 'text', text: 'b' }] }), true),
    /cannot be combined/,
  );
  assert.throws(() => checkInput(event({}), true), /carries content/);
  assert.throws(() => checkInput(event({ input_items: [] }), true), /empty/);
  assert.doesNotThrow(() => checkInput(event({ content: 'hello' }), true));
  assert.doesNotThrow(() => checkInput(event({ input_items: [{ type: 'text', text: 'hi' }] }), true));
  const inline = { type: 'inline_asset', file_name: 'a.txt', content_base64: 'aGk=' };
  assert.doesNotThrow(() => checkInput(event({ content: 'see', attachments: [inline] }), true));
  assert.throws(() => checkInput(event({ content: 'see', attachments: [inline] }), false), /shared token/);
  assert.throws(
    () => checkInput(event({ content: 'x', metadata: { external_intent: 'spoof' } }), true),
    /daemon-owned/,
  );
  assert.throws(() =>
    ExternalEventRequest.parse({ protocol_version: 2, event_id: 'x', content: 'a', extra: 1 }),
  );
});

test('session identity: thread.path drives it, routing_key only without a path (#62)', () => {
  const a = event({ content: 'a', thread: { path: ['g', 'c', 't'] }, routing_key: 'k1' });
  const b = event({ content: 'b', thread: { path: ['g', 'c', 't'] }, routing_key: 'k2' });
  assert.deepEqual(conversationOf(a), conversationOf(b));
  const idA = naturalSessionId('discord-main', conversationOf(a)!);
  assert.equal(idA, naturalSessionId('discord-main', conversationOf(b)!));
  assert.match(idA, /^external:discord-main:[0-9a-f]{16}$/);
  const r = event({ content: 'c', routing_key: 'mailbox:ops' });
  assert.equal(conversationOf(r)!.kind, 'routing_key');
  assert.notEqual(
    naturalSessionId('m', conversationOf(r)!),
    naturalSessionId('m', { kind: 'thread', value: ['mailbox:ops'] }),
  );
  assert.equal(conversationOf(event({ content: 'd', thread: { path: [] } })), null);
});

test('fingerprint ignores the protocol version and the sender instance, not the payload', () => {
  const a = event({ content: 'hello', instance_id: 'i1' });
  const b = { ...event({ content: 'hello', instance_id: 'i2' }), protocol_version: 1 };
  assert.equal(eventFingerprint(a), eventFingerprint(b));
  assert.notEqual(eventFingerprint(a), eventFingerprint(event({ content: 'hello!' })));
});

test('reply targets: the event reply_route first when include_self_output, then the additional ones', () => {
  const extra = { plugin: 'http', address: 'https://example.com/hook' };
  const s = settings({ include_self_output: true, additional_reply_targets: [extra] });
  const t = replyTargetsOf('disc', s, event({ content: 'x', reply_route: '{"channel":"2"}' }))!;
  assert.equal(t.length, 2);
  assert.deepEqual(parseAddress(t[0]!.address), { connector: 'disc', route: '{"channel":"2"}' });
  assert.deepEqual(t[1], extra);
  assert.equal(replyTargetsOf('disc', settings({}), event({ content: 'x', reply_route: 'r' })), undefined);
});

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

test('deliver answers: committed only with 2xx; 429 honours Retry-After; status classes (#65)', () => {
  assert.equal(judgeAnswer(200, json({ status: 'committed' }), false).status, 'delivered');
  assert.equal(judgeAnswer(500, json({ status: 'committed' }), false).status, 'retry');
  assert.equal(judgeAnswer(400, json({ status: 'committed' }), false).status, 'terminal');
  assert.equal(judgeAnswer(200, json({ status: 'terminal' }), false).status, 'terminal');
  assert.equal(judgeAnswer(200, Buffer.from('not json'), false).status, 'retry');
  assert.equal(
    judgeAnswer(200, json({ status: 'committed' }), true).status,
    'retry',
    'a truncated body is not read',
  );
  assert.equal(judgeAnswer(503, Buffer.alloc(0), false).status, 'retry');
  assert.equal(judgeAnswer(404, Buffer.alloc(0), false).status, 'terminal');
  assert.equal(judgeAnswer(422, json({ status: 'retryable' }), false).status, 'retry');
  const limited = judgeAnswer(429, Buffer.alloc(0), false, '7');
  assert.deepEqual(limited, { status: 'retry', error_code: 'sidecar_rate_limited', retry_after_ms: 7000 });
});

test('Retry-After: seconds or an HTTP date, capped at one hour', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(retryAfterMs('2', now), 2000);
  assert.equal(retryAfterMs('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000);
  assert.equal(retryAfterMs('999999', now), 3_600_000);
  assert.equal(retryAfterMs('soon', now), null);
  assert.equal(retryAfterMs(undefined, now), null);
});

test('child environment: provider credentials and daemon settings stripped; grant token, not values', () => {
  const base = {
    PATH: '/usr/bin',
    HOME: '/home/x',
    OPENAI_API_KEY: 'sk-1',
    ANTHROPIC_API_KEY: 'a',
    KHEISH_ADMIN_TOKEN: 't',
    MY_SERVICE_TOKEN: 'v',
    LANG: 'C',
  };
  const stripped = strippedEnv(base);
  assert.deepEqual(Object.keys(stripped).sort(), ['HOME', 'LANG', 'PATH']);
  const env = childEnv(
    base,
    {
      command: 'python3',
      args: [],
      env: { DISCORD_REQUIRE_MENTION: 'true' },
      credential_slots: { BOT: 'slot' },
    },
    {
      connector: 'd',
      base_url: 'http://127.0.0.1:8787',
      daemon_url: 'http://127.0.0.1:4000',
      launch_id: 'L',
      shared_token: 'shared',
      grant: { token: 'grant-token', env_keys: ['BOT'] },
    },
  );
  assert.equal(env.KHEISH_EXTERNAL_CONNECTOR_CREDENTIAL_TOKEN, 'grant-token');
  assert.equal(env.KHEISH_EXTERNAL_CONNECTOR_CREDENTIAL_KEYS_JSON, '["BOT"]');
  assert.equal(env.KHEISH_EXTERNAL_CONNECTOR_PORT, '8787');
  assert.equal(env.DISCORD_REQUIRE_MENTION, 'true');
  assert.equal(env.OPENAI_API_KEY, undefined);
  assert.equal(env.BOT, undefined, 'slot values are fetched, never injected');
});

test('child output is redacted before it reaches the daemon log', () => {
  const line = redactLine('token=abcdef123 Authorization: Bearer zzzzzzzzzzzz shared-secret-value', [
    'shared-secret-value',
  ]);
  assert.doesNotMatch(line, /abcdef123|zzzzzzzzzzzz|shared-secret-value/);
});
