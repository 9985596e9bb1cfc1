// The Slack Web API and Telegram Bot API clients against local servers speaking those wire
// formats: how each answer maps onto retry / terminal, and that redirects are never followed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { download, WireError } from '../../src/features/chat-connectors/shared/wire-client.ts';
import { fileUrlAllowed } from '../../src/features/chat-connectors/slack/files.ts';
import { slackConfig } from '../../src/features/chat-connectors/slack/settings.ts';
import { SlackWebApi } from '../../src/features/chat-connectors/slack/web-api.ts';
import { TelegramBotApi } from '../../src/features/chat-connectors/telegram/bot-api.ts';
import { SlackApiFixture } from '../fixtures/chat/slack-api-server.ts';
import { TelegramApiFixture } from '../fixtures/chat/telegram-api-server.ts';

describe('Slack Web API client', () => {
  const slack = new SlackApiFixture(['xoxb-good']);
  before(() => slack.start());
  after(() => slack.close());

  test('a posted message; invalid auth and channel_not_found are terminal', async () => {
    const ok = await new SlackWebApi(slack.apiBaseUrl, 'xoxb-good').json('chat.postMessage', {
      channel: 'C1',
      text: 'hi',
    });
    assert.equal(ok.ok, true);
    assert.equal(slack.posted.at(-1)?.text, 'hi');
    const bad = await new SlackWebApi(slack.apiBaseUrl, 'xoxb-bad').json('chat.postMessage', {
      channel: 'C1',
      text: 'hi',
    });
    assert.deepEqual(bad, { ok: false, retry: false, error: 'slack_invalid_auth' });
    const gone = await new SlackWebApi(slack.apiBaseUrl, 'xoxb-good').json('chat.postMessage', {
      channel: 'C_MISSING',
      text: 'hi',
    });
    assert.deepEqual(gone, { ok: false, retry: false, error: 'slack_channel_not_found' });
  });

  test('HTTP 429 with Retry-After and ok=false ratelimited retry; 5xx retries', async () => {
    slack.script('chat.postMessage', [
      { status: 429, headers: { 'retry-after': '7' }, body: { ok: false, error: 'ratelimited' } },
      { status: 200, body: { ok: false, error: 'ratelimited' } },
      { status: 503, body: {} },
    ]);
    const api = new SlackWebApi(slack.apiBaseUrl, 'xoxb-good');
    assert.deepEqual(await api.json('chat.postMessage', { channel: 'C1', text: 'a' }), {
      ok: false,
      retry: true,
      error: 'slack_rate_limited',
      retry_after_ms: 7000,
    });
    assert.deepEqual(await api.json('chat.postMessage', { channel: 'C1', text: 'a' }), {
      ok: false,
      retry: true,
      error: 'slack_ratelimited',
    });
    assert.deepEqual(await api.json('chat.postMessage', { channel: 'C1', text: 'a' }), {
      ok: false,
      retry: true,
      error: 'slack_http_503',
    });
  });

  test('file downloads: allowed hosts only, redirects refused', async () => {
    const c = slackConfig({ allow_unauthenticated_ingress: true, api_base_url: slack.apiBaseUrl });
    assert.equal(fileUrlAllowed(c, `${slack.url}/files/a.txt`), true);
    assert.equal(fileUrlAllowed(c, 'https://files.slack.com/files-pri/T1-F1/a.txt'), true);
    assert.equal(fileUrlAllowed(c, 'http://files.slack.com/a.txt'), false);
    assert.equal(fileUrlAllowed(c, 'https://evil.example/a.txt'), false);
    assert.equal(
      fileUrlAllowed(
        slackConfig({
          api_base_url: slack.apiBaseUrl,
          allowed_file_hosts: ['cdn.example'],
          allow_unauthenticated_ingress: true,
        }),
        'https://cdn.example/x',
      ),
      true,
    );
    slack.files.set('a.txt', { bytes: Buffer.from('hello'), type: 'text/plain' });
    const got = await download(`${slack.url}/files/a.txt`, { authorization: 'Bearer xoxb-good' }, 1024);
    assert.equal(Buffer.from(got.bytes).toString(), 'hello');
    await assert.rejects(
      download(`${slack.url}/redirect/a.txt`, { authorization: 'Bearer xoxb-good' }, 1024),
      (e: unknown) => e instanceof WireError && e.kind === 'redirect',
    );
    await assert.rejects(
      download(`${slack.url}/files/a.txt`, { authorization: 'Bearer xoxb-good' }, 3),
      (e: unknown) => e instanceof WireError && e.kind === 'too_large',
    );
  });
});

describe('Telegram Bot API client', () => {
  const tg = new TelegramApiFixture('123:abc');
  before(() => tg.start());
  after(() => tg.close());

  test('429 honours parameters.retry_after; auth and chat errors are terminal; 5xx retries', async () => {
    const api = new TelegramBotApi(tg.apiBaseUrl, '123:abc');
    tg.script('sendMessage', [
      {
        status: 429,
        body: {
          ok: false,
          error_code: 429,
          description: 'Too Many Requests: retry after 3',
          parameters: { retry_after: 3 },
        },
      },
      { status: 502, body: { ok: false, error_code: 502, description: 'Bad Gateway' } },
    ]);
    assert.deepEqual(await api.call('sendMessage', { chat_id: 1, text: 'x' }), {
      ok: false,
      retry: true,
      error: 'telegram_rate_limited',
      status: 429,
      retry_after_ms: 3000,
    });
    assert.equal((await api.call('sendMessage', { chat_id: 1, text: 'x' })).ok, false);
    const chat = await api.call('sendMessage', { chat_id: 404404, text: 'x' });
    assert.equal(!chat.ok && `${chat.retry}:${chat.error}`, 'false:telegram_chat_not_found');
    const auth = await new TelegramBotApi(tg.apiBaseUrl, '999:zzz').call('sendMessage', {
      chat_id: 1,
      text: 'x',
    });
    assert.equal(!auth.ok && `${auth.retry}:${auth.error}`, 'false:telegram_unauthorized');
    const sent = await api.call('sendMessage', { chat_id: 1, text: 'ok' });
    assert.equal(sent.ok, true);
  });

  test('errors never carry the token-bearing URL', async () => {
    const api = new TelegramBotApi('http://127.0.0.1:1', '123:secret-token');
    const r = await api.call('getMe', {}, 2000);
    assert.equal(r.ok, false);
    assert.ok(!JSON.stringify(r).includes('secret-token'));
  });
});
