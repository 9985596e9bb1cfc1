// Telegram connector conformance (api-collab §6.6; checklist #58 Telegram part, #63): the webhook
// (mode, update_id, secret token, supported update types, allowed_chat_ids, idempotency by
// update_id, the rate limit for new updates only, callback queries answered after submission),
// chunked answers and attachments-free retries through the `telegram` output plugin at a local
// server speaking the Bot API. Runs on SQLite, and on PostgreSQL with KHEISH_TEST_STORE=postgres.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TelegramApiFixture, telegramMessage } from '../fixtures/chat/telegram-api-server.ts';
import {
  allRuns,
  eventually,
  putConnector,
  TELEGRAM_SECRET,
  TELEGRAM_TOKEN,
  telegramPost,
} from '../helpers/chat-connectors.ts';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';
import { assertProblem } from './support.ts';

let d: TestDaemon;
let tg: TelegramApiFixture;
const script = {
  rules: [{ match: 'essay', turns: [{ text: `${'word '.repeat(1999)}end` }] }],
  default: { turns: [{ text: 'telegram answer' }] },
};

before(async () => {
  tg = await new TelegramApiFixture(TELEGRAM_TOKEN).start();
  d = await startDaemon({
    script,
    env: {
      T_TG_TOKEN: TELEGRAM_TOKEN,
      T_TG_SECRET: TELEGRAM_SECRET,
      KHEISH_DELIVERY_INITIAL_RETRY_MS: '50',
      KHEISH_DELIVERY_MAX_RETRY_MS: '200',
    },
  });
  const base = {
    bot_token: { env: 'T_TG_TOKEN' },
    secret_token: { env: 'T_TG_SECRET' },
    api_base_url: tg.apiBaseUrl,
    session_policy: { create_if_missing: true },
  };
  await putConnector(d.url, 'telegram', 'bot', base);
  await putConnector(d.url, 'telegram', 'private', { ...base, allowed_chat_ids: [1001] });
  await putConnector(d.url, 'telegram', 'slow', { ...base, ingress_events_per_second: 1 });
  // A polling connector pointed at a server with nothing to give: only its webhook is tested here.
  await putConnector(d.url, 'telegram', 'polled', {
    bot_token: { env: 'T_TG_TOKEN' },
    api_base_url: 'http://127.0.0.1:9',
    ingress_mode: 'polling',
  });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
  await tg?.close();
});

const totalRuns = async () => (await allRuns(d.url)).length;

test('api-collab #63: a webhook to a polling connector, or without update_id, is rejected', async () => {
  const before = await totalRuns();
  assertProblem(
    await telegramPost(d.url, 'polled', telegramMessage({ update_id: 1, text: 'hi' })),
    409,
    'connector_ingress',
    'ingress_mode_mismatch',
  );
  const noId = telegramMessage({ update_id: 2, text: 'hi' });
  delete noId.update_id;
  assertProblem(await telegramPost(d.url, 'bot', noId), 400, 'connector_ingress', 'update_id_required');
  assertProblem(
    await telegramPost(d.url, 'bot', { update_id: 'x', message: {} }),
    400,
    'connector_ingress',
    'update_id_required',
  );
  assert.equal(await totalRuns(), before);
});

test('api-collab #63: an authenticated unsupported update type is acknowledged as skipped and creates no run', async () => {
  const before = await totalRuns();
  for (const update of [
    { update_id: 10, channel_post: { message_id: 1, chat: { id: -100, type: 'channel' }, text: 'news' } },
    { update_id: 11, my_chat_member: { chat: { id: 5 }, from: { id: 5 } } },
    telegramMessage({ update_id: 12, extra: { sticker: { file_id: 's' } } }),
  ]) {
    const r = await telegramPost(d.url, 'bot', update);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.status, 'skipped');
  }
  assert.equal(await totalRuns(), before);
});

test('api-collab §6.6: a wrong or missing secret token is 401; a chat outside allowed_chat_ids is 403', async () => {
  const before = await totalRuns();
  const u = telegramMessage({ update_id: 20, text: 'hi' });
  assertProblem(
    await telegramPost(d.url, 'bot', u, 'wrong'),
    401,
    'connector_ingress',
    'telegram_secret_token_invalid',
  );
  assertProblem(
    await telegramPost(d.url, 'bot', u, null),
    401,
    'connector_ingress',
    'telegram_secret_token_invalid',
  );
  assertProblem(
    await telegramPost(d.url, 'private', telegramMessage({ update_id: 21, chat_id: 2002, text: 'hi' })),
    403,
    'connector_ingress',
    'chat_not_allowed',
  );
  assert.equal(await totalRuns(), before);
  // And output: a reply target outside the list is refused when stored.
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'tg-targets' });
  assertProblem(
    await http(d.url, 'PUT', '/v1/sessions/tg-targets/reply-targets', {
      reply_targets: [{ type: 'telegram', connector: 'private', chat_id: 2002 }],
    }),
    400,
    'deliveries',
    'invalid_reply_target',
  );
  const ok = await http(d.url, 'PUT', '/v1/sessions/tg-targets/reply-targets', {
    reply_targets: [{ type: 'telegram', connector: 'private', chat_id: 1001, message_thread_id: 4 }],
  });
  assert.equal(ok.status, 200, ok.text);
});

test('api-collab §6.6: chat + topic is the session; a duplicate update_id returns the run; another payload is 409', async () => {
  const u = telegramMessage({ update_id: 30, chat_id: -1001, thread_id: 7, text: 'in a topic' });
  const first = await telegramPost(d.url, 'bot', u);
  assert.equal(first.status, 200, first.text);
  assert.equal(first.body.status, 'accepted');
  assert.equal(first.body.session_id, 'telegram:bot:-1001:7');
  const again = await telegramPost(d.url, 'bot', u);
  assert.deepEqual(again.body, {
    ok: true,
    status: 'duplicate',
    session_id: first.body.session_id,
    run_id: first.body.run_id,
  });
  const changed = await telegramPost(
    d.url,
    'bot',
    telegramMessage({ update_id: 30, chat_id: -1001, thread_id: 7, text: 'other' }),
  );
  assertProblem(changed, 409);
  const run = (await http(d.url, 'GET', `/v1/runs/${first.body.run_id}`)).body;
  assert.equal(run.request.source_plugin, 'telegram');
  assert.equal(run.input_metadata.telegram_message_thread_id, 7);
  assert.ok(run.input_metadata.connector_ingress_key, 'the hashed ingress key is recorded');
  assert.equal(typeof run.input_metadata.telegram_ingress_fingerprint, 'string');
  // The answer goes back to the same chat and topic.
  await waitForRun(d.url, first.body.run_id);
  const sent = await eventually('the answer', () =>
    tg.sent.find((m) => m.chat_id === -1001 && m.message_thread_id === 7),
  );
  assert.equal(sent.text, 'telegram answer');
});

test('api-collab §6.6: a callback query is answered once, after its run is submitted, never for a duplicate', async () => {
  const q = {
    update_id: 40,
    callback_query: {
      id: 'cbq-40',
      from: { id: 42, is_bot: false, first_name: 'Ada' },
      message: { message_id: 9, chat: { id: 3003, type: 'private' } },
      data: 'approve',
    },
  };
  const r = await telegramPost(d.url, 'bot', q);
  assert.equal(r.body.status, 'accepted', r.text);
  assert.deepEqual(
    tg.answered.filter((x) => x === 'cbq-40'),
    ['cbq-40'],
  );
  const run = (await http(d.url, 'GET', `/v1/runs/${r.body.run_id}`)).body;
  assert.ok(run.run_id, 'the run exists when the callback is answered');
  assert.equal((await telegramPost(d.url, 'bot', q)).body.status, 'duplicate');
  assert.equal(tg.answered.filter((x) => x === 'cbq-40').length, 1);
});

test('api-collab #58 (Telegram): a new update over the rate is 429 with Retry-After and retry_after_ms; duplicates pass', async () => {
  const a = await telegramPost(d.url, 'slow', telegramMessage({ update_id: 50, chat_id: 5005, text: 'one' }));
  assert.equal(a.body.status, 'accepted', a.text);
  const b = await telegramPost(d.url, 'slow', telegramMessage({ update_id: 51, chat_id: 5005, text: 'two' }));
  assertProblem(b, 429, 'connector_ingress', 'rate_limited');
  assert.match(b.headers.get('retry-after') ?? '', /^\d+$/);
  assert.ok(Number.isInteger(b.body.retry_after_ms) && b.body.retry_after_ms > 0, b.text);
  const dup = await telegramPost(
    d.url,
    'slow',
    telegramMessage({ update_id: 50, chat_id: 5005, text: 'one' }),
  );
  assert.equal(dup.body.status, 'duplicate', dup.text);
});

test('api-collab §6.6 output: a 10,000-character answer is sent in chunks of at most 4096 after a flood wait', async () => {
  tg.script('sendMessage', [
    {
      when: (c) => Number(c.body.chat_id) === 6006,
      status: 429,
      body: {
        ok: false,
        error_code: 429,
        description: 'Too Many Requests: retry after 0',
        parameters: { retry_after: 0 },
      },
    },
  ]);
  const r = await telegramPost(
    d.url,
    'bot',
    telegramMessage({ update_id: 60, chat_id: 6006, text: 'write an essay' }),
  );
  await waitForRun(d.url, r.body.run_id);
  const chunks = await eventually('three chunks', () => {
    const got = tg.sent.filter((m) => m.chat_id === 6006);
    return got.length === 3 ? got : null;
  });
  const full = `${'word '.repeat(1999)}end`;
  assert.equal(full.length, 9998);
  assert.equal(chunks.map((c) => c.text).join(''), full);
  assert.ok(chunks.every((c) => Array.from(c.text!).length <= 4096));
  const dv = await eventually('delivered', async () =>
    (await http(d.url, 'GET', `/v1/runs/${r.body.run_id}`)).body.deliveries?.find(
      (x: any) => x.status === 'delivered',
    ),
  );
  assert.equal(dv.attempts, 2);
  // A chat that does not exist is a permanent error: dead-lettered after one attempt.
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'tg-dead' });
  await http(d.url, 'PUT', '/v1/sessions/tg-dead/reply-targets', {
    reply_targets: [{ type: 'telegram', connector: 'bot', chat_id: 404404 }],
  });
  const sub = await http(d.url, 'POST', '/v1/sessions/tg-dead/runs', { content: 'hello' });
  await waitForRun(d.url, sub.body.run_id);
  const dead = await eventually('dead letter', async () =>
    (await http(d.url, 'GET', `/v1/runs/${sub.body.run_id}`)).body.deliveries?.find(
      (x: any) => x.status === 'dead_lettered',
    ),
  );
  assert.equal(dead.last_error_code, 'telegram_chat_not_found');
  assert.equal(dead.attempts, 1);
});

test('api-collab §6.6: secrets never appear in views, deliveries or logs', async () => {
  const view = await http(d.url, 'GET', '/v1/runtime/connectors/telegram/private');
  assert.deepEqual(view.body.allowed_chat_ids, [1001]);
  assert.deepEqual(view.body.secret_token, {
    configured: true,
    source: 'env',
    secret_ref: null,
    env: 'T_TG_SECRET',
  });
  const all = [view.text, (await http(d.url, 'GET', '/v1/deliveries?limit=200')).text, d.logs()].join('\n');
  for (const s of [TELEGRAM_TOKEN, TELEGRAM_SECRET]) assert.ok(!all.includes(s), 'a secret leaked');
});

test('api-collab §6.6 polling: a flood wait on getUpdates (429, parameters.retry_after) is honoured before the next poll', async () => {
  const flood = new TelegramApiFixture(TELEGRAM_TOKEN);
  await flood.start();
  try {
    flood.script('getUpdates', [
      {
        status: 429,
        body: {
          ok: false,
          error_code: 429,
          description: 'Too Many Requests: retry after 2',
          parameters: { retry_after: 2 },
        },
      },
    ]);
    await putConnector(d.url, 'telegram', 'flooded', {
      bot_token: { env: 'T_TG_TOKEN' },
      api_base_url: flood.apiBaseUrl,
      ingress_mode: 'polling',
      polling_timeout_seconds: 1,
      session_policy: { create_if_missing: true },
    });
    const calls = await eventually('a second poll', () => {
      const got = flood.callsOf('getUpdates');
      return got.length >= 2 ? got : null;
    });
    assert.ok(
      calls[1]!.at - calls[0]!.at >= 1900,
      `the second poll came ${calls[1]!.at - calls[0]!.at} ms later`,
    );
    flood.push(telegramMessage({ update_id: 900, chat_id: 9009, text: 'after the flood wait' }));
    await eventually('the polled run', async () =>
      (await allRuns(d.url)).some((r: any) => r.session_id === 'telegram:flooded:9009'),
    );
  } finally {
    await http(d.url, 'DELETE', '/v1/runtime/connectors/telegram/flooded');
    await flood.close();
  }
});

test('api-collab §6.6: include_self_output answers in the chat, then in every additional reply target', async () => {
  await putConnector(d.url, 'telegram', 'fanout', {
    secret_token: { env: 'T_TG_SECRET' },
    bot_token: { env: 'T_TG_TOKEN' },
    api_base_url: tg.apiBaseUrl,
    session_policy: { create_if_missing: true },
    additional_reply_targets: [{ plugin: 'telegram', address: '{"chat_id":8888,"connector":"bot"}' }],
  });
  const bad = await http(d.url, 'PUT', '/v1/runtime/connectors/telegram/fanout', {
    additional_reply_targets: [{ plugin: 'telegram', address: '{"chat_id":"x","connector":"bot"}' }],
  });
  assertProblem(bad, 400);
  const r = await telegramPost(
    d.url,
    'fanout',
    telegramMessage({ update_id: 95, chat_id: 9500, text: 'hello' }),
  );
  await waitForRun(d.url, r.body.run_id);
  await eventually('both answers', () =>
    [9500, 8888].every((chat) => tg.sent.some((m) => m.chat_id === chat && m.text === 'telegram answer')),
  );
  const run = (await http(d.url, 'GET', `/v1/runs/${r.body.run_id}`)).body;
  assert.deepEqual(
    run.deliveries.map((x: any) => x.plugin),
    ['telegram', 'telegram'],
  );
});
