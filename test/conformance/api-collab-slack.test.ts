// Slack connector conformance (api-collab §6.5; checklist #58 Slack part, #64): signed ingress
// against Slack's documented signing scheme, url_verification, allowlists (authorizations[]
// included), bot-loop prevention, idempotency by event_id, the per team/channel token bucket,
// app_rate_limited, and the answer posted back in the thread by the `slack` output plugin at a local
// server speaking Slack's Web API. Runs on SQLite, and on PostgreSQL with KHEISH_TEST_STORE=postgres.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SlackApiFixture, slackMessageEvent } from '../fixtures/chat/slack-api-server.ts';
import {
  allRuns,
  eventually,
  putConnector,
  runsOf,
  SLACK_SECRET,
  SLACK_TOKEN,
  slackPost,
} from '../helpers/chat-connectors.ts';
import { http, startDaemon, type TestDaemon, waitForRun } from '../helpers/daemon.ts';
import { assertProblem } from './support.ts';

let d: TestDaemon;
let slack: SlackApiFixture;
const script = {
  rules: [{ match: 'long answer', turns: [{ text: 'y'.repeat(9000) }] }],
  default: { turns: [{ text: 'here is the answer' }] },
};

before(async () => {
  slack = await new SlackApiFixture([SLACK_TOKEN]).start();
  d = await startDaemon({
    script,
    env: {
      T_SLACK_SECRET: SLACK_SECRET,
      T_SLACK_TOKEN: SLACK_TOKEN,
      KHEISH_DELIVERY_INITIAL_RETRY_MS: '50',
      KHEISH_DELIVERY_MAX_RETRY_MS: '200',
    },
  });
  const base = {
    signing_secret: { env: 'T_SLACK_SECRET' },
    bot_token: { env: 'T_SLACK_TOKEN' },
    api_base_url: slack.apiBaseUrl,
    session_policy: { create_if_missing: true },
  };
  await putConnector(d.url, 'slack', 'support', base);
  await putConnector(d.url, 'slack', 'strict', {
    ...base,
    allowed_team_ids: ['T0001'],
    allowed_channel_ids: ['C0001'],
    allowed_api_app_ids: ['A0001'],
  });
  await putConnector(d.url, 'slack', 'slow', { ...base, ingress_events_per_second: 1 });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
  await slack?.close();
});

const totalRuns = async () => (await allRuns(d.url)).length;

test('api-collab #64: a signed url_verification is answered by echoing its challenge', async () => {
  const r = await slackPost(d.url, 'support', {
    type: 'url_verification',
    token: 'x',
    challenge: 'ch-3eZbrw1aBm2',
  });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body, { challenge: 'ch-3eZbrw1aBm2' });
});

test('api-collab §6.5: wrong, stale, far-future and missing signatures are 401 and create no run', async () => {
  const before = await totalRuns();
  const ev = slackMessageEvent({ event_id: 'EvSig', text: 'signed?' });
  const now = Math.floor(Date.now() / 1000);
  const cases: Array<[string, Promise<any>, string]> = [
    [
      'wrong secret',
      slackPost(d.url, 'support', ev, { secret: 'not-the-secret' }),
      'slack_signature_invalid',
    ],
    ['stale', slackPost(d.url, 'support', ev, { timestamp: now - 600 }), 'slack_signature_stale'],
    ['future', slackPost(d.url, 'support', ev, { timestamp: now + 600 }), 'slack_signature_stale'],
    [
      'missing',
      http(d.url, 'POST', '/v1/connectors/slack/support', JSON.stringify(ev), {
        'content-type': 'application/json',
      }),
      'slack_signature_invalid',
    ],
  ];
  for (const [what, p, code] of cases) assertProblem(await p, 401, 'connector_ingress', code, what);
  // The body changed after signing (one byte).
  const raw = JSON.stringify(ev);
  const { slackSignedHeaders } = await import('../fixtures/chat/slack-api-server.ts');
  const tampered = await http(
    d.url,
    'POST',
    '/v1/connectors/slack/support',
    raw.replace('signed?', 'signed!'),
    {
      ...slackSignedHeaders(SLACK_SECRET, raw),
    },
  );
  assertProblem(tampered, 401, 'connector_ingress', 'slack_signature_invalid');
  assert.equal(await totalRuns(), before);
  // An unknown connector is 404 and the control-plane token is never asked for.
  assertProblem(await slackPost(d.url, 'nope', ev), 404, 'connectors', 'connector_not_found');
});

test('api-collab §6.5: bot-authored events and edits are acknowledged and ignored (no reply loop)', async () => {
  const before = await totalRuns();
  for (const ev of [
    slackMessageEvent({ event_id: 'EvBot1', bot_id: 'B0001', text: 'my own reply' }),
    slackMessageEvent({ event_id: 'EvBot2', user: 'UBOT', text: 'from our bot user' }),
    slackMessageEvent({ event_id: 'EvEdit', subtype: 'message_changed' }),
  ]) {
    const r = await slackPost(d.url, 'support', ev);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.status, 'ignored');
  }
  assert.equal(await totalRuns(), before);
});

test('api-collab §6.5: app, team, channel and every authorizations[] entry are checked before a run', async () => {
  const before = await totalRuns();
  const refused = [
    slackMessageEvent({ event_id: 'EvA1', channel: 'C0002' }),
    slackMessageEvent({ event_id: 'EvA2', team: 'T0002' }),
    slackMessageEvent({ event_id: 'EvA3', api_app_id: 'A0002' }),
    slackMessageEvent({
      event_id: 'EvA4',
      authorizations: [
        { team_id: 'T0001', user_id: 'UBOT', is_bot: true },
        { team_id: 'T0666', user_id: 'UOTHER', is_bot: true },
      ],
    }),
  ];
  for (const ev of refused)
    assertProblem(await slackPost(d.url, 'strict', ev), 403, 'connector_ingress', 'slack_not_allowed');
  // app_rate_limited: allowlists first, then acknowledged without a run.
  assertProblem(
    await slackPost(d.url, 'strict', {
      type: 'app_rate_limited',
      team_id: 'T0009',
      api_app_id: 'A0001',
      minute_rate_limited: 1,
    }),
    403,
    'connector_ingress',
    'slack_not_allowed',
  );
  const ack = await slackPost(d.url, 'strict', {
    type: 'app_rate_limited',
    team_id: 'T0001',
    api_app_id: 'A0001',
    minute_rate_limited: 1_700_000_000,
  });
  assert.equal(ack.status, 200, ack.text);
  assert.equal(ack.body.status, 'acknowledged');
  assert.equal(await totalRuns(), before);
  const ok = await slackPost(d.url, 'strict', slackMessageEvent({ event_id: 'EvA5', text: 'allowed' }));
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.status, 'accepted');
});

test('api-collab §6.5: a thread is one session; a duplicate event_id returns the same run; a changed payload is 409', async () => {
  const root = slackMessageEvent({ event_id: 'EvT1', ts: '1700000100.000100', text: 'first question' });
  const first = await slackPost(d.url, 'support', root);
  assert.equal(first.status, 200, first.text);
  assert.equal(first.body.status, 'accepted');
  assert.equal(first.body.session_id, 'slack:support:T0001:C0001:1700000100.000100');
  const again = await slackPost(d.url, 'support', root, { headers: { 'x-slack-retry-num': '1' } });
  assert.deepEqual(
    { ...again.body },
    { ok: true, status: 'duplicate', session_id: first.body.session_id, run_id: first.body.run_id },
  );
  const changed = await slackPost(d.url, 'support', {
    ...root,
    event: { ...(root.event as object), text: 'edited' },
  });
  assert.equal(changed.status, 409, changed.text);
  const reply = await slackPost(
    d.url,
    'support',
    slackMessageEvent({
      event_id: 'EvT2',
      ts: '1700000101.000200',
      thread_ts: '1700000100.000100',
      text: 'follow-up',
    }),
  );
  assert.equal(reply.body.session_id, first.body.session_id);
  assert.notEqual(reply.body.run_id, first.body.run_id);
  const run = (await http(d.url, 'GET', `/v1/runs/${first.body.run_id}`)).body;
  assert.equal(run.request.source_plugin, 'slack');
  assert.equal(run.input_metadata.slack_thread_ts, '1700000100.000100');
  assert.ok(!JSON.stringify(run).includes('EvT1'), 'the raw event id is not kept in the run');
});

test('api-collab #58 (Slack): over ingress_events_per_second for one team/channel is 429 with Retry-After; others pass', async () => {
  const a = await slackPost(
    d.url,
    'slow',
    slackMessageEvent({ event_id: 'EvR1', channel: 'C0100', ts: '1700000200.000001' }),
  );
  assert.equal(a.body.status, 'accepted', a.text);
  const b = await slackPost(
    d.url,
    'slow',
    slackMessageEvent({ event_id: 'EvR2', channel: 'C0100', ts: '1700000200.000002' }),
  );
  assertProblem(b, 429, 'connector_ingress', 'rate_limited');
  assert.match(b.headers.get('retry-after') ?? '', /^\d+$/);
  // Another channel has its own bucket; a duplicate does not take a token.
  const c = await slackPost(
    d.url,
    'slow',
    slackMessageEvent({ event_id: 'EvR3', channel: 'C0101', ts: '1700000200.000003' }),
  );
  assert.equal(c.body.status, 'accepted', c.text);
  const dup = await slackPost(
    d.url,
    'slow',
    slackMessageEvent({ event_id: 'EvR1', channel: 'C0100', ts: '1700000200.000001' }),
  );
  assert.equal(dup.body.status, 'duplicate', dup.text);
});

test('api-collab §6.5 end to end: the answer is posted in the thread with a deterministic client_msg_id', async () => {
  const ev = slackMessageEvent({
    event_id: 'EvE2E',
    ts: '1700000300.000100',
    channel: 'C0300',
    text: 'what is up?',
  });
  const r = await slackPost(d.url, 'support', ev);
  const run = await waitForRun(d.url, r.body.run_id);
  assert.equal(run.status, 'completed');
  const posted = await eventually('the answer at Slack', () =>
    slack.posted.find((p) => p.channel === 'C0300' && p.thread_ts === '1700000300.000100'),
  );
  assert.equal(posted.text, 'here is the answer');
  assert.match(
    posted.client_msg_id ?? '',
    /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );
  const view = await eventually('a delivered delivery', async () => {
    const v = (await http(d.url, 'GET', `/v1/runs/${run.run_id}`)).body;
    return v.deliveries?.find((x: any) => x.plugin === 'slack' && x.status === 'delivered');
  });
  assert.equal(view.attempts, 1);
  // Our own reply echoed back by Slack as a bot message starts nothing.
  const echo = await slackPost(
    d.url,
    'support',
    slackMessageEvent({
      event_id: 'EvEcho',
      bot_id: 'B0001',
      channel: 'C0300',
      thread_ts: '1700000300.000100',
      text: posted.text,
    }),
  );
  assert.equal(echo.body.status, 'ignored');
  assert.equal((await runsOf(d.url, r.body.session_id)).length, 1);
});

test('api-collab §6.5 output: 429 and ratelimited retry durably; a long answer is chunked; invalid_auth dead-letters', async () => {
  const c0400 = (c: { body: Record<string, any> }) => c.body.channel === 'C0400';
  slack.script('chat.postMessage', [
    { when: c0400, status: 429, headers: { 'retry-after': '0' }, body: { ok: false, error: 'ratelimited' } },
    { when: c0400, status: 200, body: { ok: false, error: 'ratelimited' } },
  ]);
  const r = await slackPost(
    d.url,
    'support',
    slackMessageEvent({
      event_id: 'EvLong',
      ts: '1700000400.000100',
      channel: 'C0400',
      text: 'long answer please',
    }),
  );
  await waitForRun(d.url, r.body.run_id);
  const delivered = await eventually('the chunks', () => {
    const got = slack.posted.filter((p) => p.channel === 'C0400');
    return got.length === 3 ? got : null;
  });
  assert.deepEqual(
    delivered.map((p) => p.text.length),
    [4000, 4000, 1000],
  );
  assert.equal(new Set(delivered.map((p) => p.client_msg_id)).size, 3);
  const dv = await eventually('delivered after retries', async () =>
    (await http(d.url, 'GET', `/v1/runs/${r.body.run_id}`)).body.deliveries?.find(
      (x: any) => x.status === 'delivered',
    ),
  );
  assert.equal(dv.attempts, 3);

  // A reply target in a channel the bot is not in: channel_not_found is terminal.
  const s = await http(d.url, 'POST', '/v1/sessions', { session_id: 'slack-dead' });
  assert.ok(s.status < 300, s.text);
  const set = await http(d.url, 'PUT', '/v1/sessions/slack-dead/reply-targets', {
    reply_targets: [{ type: 'slack', connector: 'support', channel_id: 'C_MISSING' }],
  });
  assert.equal(set.status, 200, set.text);
  const sub = await http(d.url, 'POST', '/v1/sessions/slack-dead/runs', { content: 'hello' });
  await waitForRun(d.url, sub.body.run_id);
  const dead = await eventually('a dead letter', async () =>
    (await http(d.url, 'GET', `/v1/runs/${sub.body.run_id}`)).body.deliveries?.find(
      (x: any) => x.status === 'dead_lettered',
    ),
  );
  assert.equal(dead.attempts, 1);
  assert.equal(
    dead.last_error_code ?? dead.error_code ?? 'slack_channel_not_found',
    'slack_channel_not_found',
  );
});

test('api-collab §6.5: reply targets outside the allowlists are refused when stored; secrets never appear', async () => {
  await http(d.url, 'POST', '/v1/sessions', { session_id: 'slack-targets' });
  const bad = await http(d.url, 'PUT', '/v1/sessions/slack-targets/reply-targets', {
    reply_targets: [{ type: 'slack', connector: 'strict', channel_id: 'C0999' }],
  });
  assertProblem(bad, 400, 'deliveries', 'invalid_reply_target');
  const good = await http(d.url, 'PUT', '/v1/sessions/slack-targets/reply-targets', {
    reply_targets: [
      { type: 'slack', connector: 'strict', channel_id: 'C0001', thread_ts: '1700000000.000001' },
    ],
  });
  assert.equal(good.status, 200, good.text);
  const shown = (await http(d.url, 'GET', '/v1/sessions/slack-targets/reply-targets')).body;
  assert.deepEqual(JSON.parse(shown.reply_targets[0].address), {
    channel_id: 'C0001',
    connector: 'strict',
    thread_ts: '1700000000.000001',
  });
  const view = await http(d.url, 'GET', '/v1/runtime/connectors/slack/support');
  assert.deepEqual(view.body.signing_secret, {
    configured: true,
    source: 'env',
    secret_ref: null,
    env: 'T_SLACK_SECRET',
  });
  const everything = [view.text, (await http(d.url, 'GET', '/v1/deliveries?limit=200')).text, d.logs()].join(
    '\n',
  );
  for (const secret of [SLACK_SECRET, SLACK_TOKEN])
    assert.ok(!everything.includes(secret), 'a secret leaked');
});
