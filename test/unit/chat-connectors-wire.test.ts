// Pure parts of the Slack and Telegram connectors: request signing, chunking, event and update
// reading, settings validation and reply-target addresses (api-collab §6.5, §6.6).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { chunkText } from '../../src/features/chat-connectors/shared/chunk-text.ts';
import { parseRetryAfter } from '../../src/features/chat-connectors/shared/retry-after.ts';
import { parseSlackAddress, slackFromStructured } from '../../src/features/chat-connectors/slack/address.ts';
import { readSlackEnvelope } from '../../src/features/chat-connectors/slack/events.ts';
import { slackConfig, validateSlack } from '../../src/features/chat-connectors/slack/settings.ts';
import { slackSignature, verifySlackSignature } from '../../src/features/chat-connectors/slack/signature.ts';
import { telegramFromStructured } from '../../src/features/chat-connectors/telegram/address.ts';
import { validateTelegram } from '../../src/features/chat-connectors/telegram/settings.ts';
import { readTelegramUpdate } from '../../src/features/chat-connectors/telegram/updates.ts';
import { slackMessageEvent, slackSignedHeaders } from '../fixtures/chat/slack-api-server.ts';
import { telegramMessage } from '../fixtures/chat/telegram-api-server.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const problem = (code: string) => (err: any) => err.code === code;

describe('Slack request signing', () => {
  const secret = '8f742231b10e8888abcd99yyyzzz85a5';
  // Slack's published worked example (docs: "Verifying requests from Slack").
  const body =
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';

  test('the signature is v0= hex HMAC-SHA256 over v0:timestamp:body (the documented example)', () => {
    assert.equal(
      slackSignature(secret, '1531420618', body),
      'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    );
  });

  test('correct, wrong, stale, far-future, malformed and repeated headers', () => {
    const now = 1_800_000_000;
    const h = slackSignedHeaders('s3cret', '{"a":1}', now);
    const ts = h['x-slack-request-timestamp'];
    const sig = h['x-slack-signature'];
    assert.equal(verifySlackSignature('s3cret', ts, sig, enc('{"a":1}'), now), 'ok');
    assert.equal(
      verifySlackSignature('s3cret', ts, sig.toUpperCase().replace('V0=', 'v0='), enc('{"a":1}'), now),
      'ok',
    );
    assert.equal(verifySlackSignature('other', ts, sig, enc('{"a":1}'), now), 'invalid');
    assert.equal(verifySlackSignature('s3cret', ts, sig, enc('{"a":2}'), now), 'invalid');
    assert.equal(verifySlackSignature('s3cret', ts, sig, enc('{"a":1}'), now + 301), 'stale');
    assert.equal(verifySlackSignature('s3cret', ts, sig, enc('{"a":1}'), now - 301), 'stale');
    assert.equal(verifySlackSignature('s3cret', ts, sig, enc('{"a":1}'), now + 300), 'ok');
    assert.equal(verifySlackSignature('s3cret', undefined, sig, enc('{"a":1}'), now), 'missing');
    assert.equal(verifySlackSignature('s3cret', ts, 'v1=abc', enc('{"a":1}'), now), 'malformed');
    assert.equal(verifySlackSignature('s3cret', [ts, ts], sig, enc('{"a":1}'), now), 'malformed');
    assert.equal(verifySlackSignature('s3cret', ts, [sig, sig], enc('{"a":1}'), now), 'malformed');
  });
});

describe('chunking by Unicode scalar values', () => {
  test('a 10,000-character answer becomes three chunks of at most 4096 that join back exactly', () => {
    const text = 'x'.repeat(10_000);
    const chunks = chunkText(text, 4096);
    assert.equal(chunks.length, 3);
    assert.ok(chunks.every((c) => Array.from(c).length <= 4096));
    assert.equal(chunks.join(''), text);
  });

  test('cuts prefer a line break or a space near the end of the window', () => {
    const text = `${'a'.repeat(3900)}\n${'b'.repeat(3000)}`;
    assert.deepEqual(
      chunkText(text, 4096).map((c) => c.length),
      [3901, 3000],
    );
  });

  test('property: never over the limit, never splitting a surrogate pair, lossless', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 400 }),
        fc.integer({ min: 1, max: 50 }),
        (s, max) => {
          const chunks = chunkText(s, max);
          assert.equal(chunks.join(''), s);
          for (const c of chunks) {
            assert.ok(Array.from(c).length <= max);
            assert.ok(c.length > 0);
            assert.ok(!/^[\udc00-\udfff]/.test(c) && !/[\ud800-\udbff]$/.test(c));
          }
        },
      ),
    );
  });
});

describe('Slack events', () => {
  const open = slackConfig({ allow_unauthenticated_ingress: true });

  test('url_verification yields the challenge', () => {
    assert.deepEqual(readSlackEnvelope({ type: 'url_verification', challenge: 'c-123', token: 't' }, open), {
      kind: 'challenge',
      challenge: 'c-123',
    });
  });

  test('a message maps its thread root, scoped event key and fingerprint', () => {
    const e = readSlackEnvelope(
      slackMessageEvent({ event_id: 'Ev1', ts: '1700000002.000200', thread_ts: '1700000001.000100' }),
      open,
    );
    assert.equal(e.kind, 'message');
    if (e.kind !== 'message') return;
    assert.equal(e.message.root_ts, '1700000001.000100');
    assert.equal(e.message.event_key, 'slack:event::T0001:Ev1');
    const again = readSlackEnvelope(
      slackMessageEvent({ event_id: 'Ev1', ts: '1700000002.000200', thread_ts: '1700000001.000100' }),
      open,
    );
    assert.equal(again.kind === 'message' && again.message.fingerprint, e.message.fingerprint);
  });

  test('bot-authored events are ignored (no reply loop)', () => {
    assert.deepEqual(readSlackEnvelope(slackMessageEvent({ event_id: 'Ev2', bot_id: 'B1' }), open), {
      kind: 'ignored',
      reason: 'bot_message',
    });
    // Our own bot user, named in authorizations[] as is_bot.
    assert.deepEqual(readSlackEnvelope(slackMessageEvent({ event_id: 'Ev3', user: 'UBOT' }), open), {
      kind: 'ignored',
      reason: 'bot_message',
    });
    assert.equal(
      readSlackEnvelope(slackMessageEvent({ event_id: 'Ev4', subtype: 'message_changed' }), open).kind,
      'ignored',
    );
  });

  test('allowlists cover the app, team, channel and every authorizations[] entry', () => {
    const c = slackConfig({
      allow_unauthenticated_ingress: true,
      allowed_team_ids: ['T0001'],
      allowed_channel_ids: ['C0001'],
      allowed_api_app_ids: ['A0001'],
    });
    assert.equal(readSlackEnvelope(slackMessageEvent({ event_id: 'E1' }), c).kind, 'message');
    assert.throws(
      () => readSlackEnvelope(slackMessageEvent({ event_id: 'E2', channel: 'C9' }), c),
      problem('slack_not_allowed'),
    );
    assert.throws(
      () => readSlackEnvelope(slackMessageEvent({ event_id: 'E3', team: 'T9' }), c),
      problem('slack_not_allowed'),
    );
    assert.throws(
      () => readSlackEnvelope(slackMessageEvent({ event_id: 'E4', api_app_id: 'A9' }), c),
      problem('slack_not_allowed'),
    );
    assert.throws(
      () =>
        readSlackEnvelope(
          slackMessageEvent({
            event_id: 'E5',
            authorizations: [
              { team_id: 'T0001', user_id: 'UBOT', is_bot: true },
              { team_id: 'T_OTHER', user_id: 'UBOT2', is_bot: true },
            ],
          }),
          c,
        ),
      problem('slack_not_allowed'),
    );
    // app_rate_limited is checked against the allowlists too before it is acknowledged.
    assert.throws(
      () => readSlackEnvelope({ type: 'app_rate_limited', team_id: 'T9', api_app_id: 'A0001' }, c),
      problem('slack_not_allowed'),
    );
    assert.equal(
      readSlackEnvelope({ type: 'app_rate_limited', team_id: 'T0001', api_app_id: 'A0001' }, c).kind,
      'app_rate_limited',
    );
  });

  test('malformed bodies are 400 problems', () => {
    assert.throws(() => readSlackEnvelope([], open), problem('invalid_slack_payload'));
    assert.throws(
      () => readSlackEnvelope({ type: 'url_verification' }, open),
      problem('invalid_slack_payload'),
    );
    assert.throws(
      () => readSlackEnvelope({ type: 'event_callback' }, open),
      problem('invalid_slack_payload'),
    );
  });
});

describe('Telegram updates', () => {
  test('update_id is required; unsupported update types are skipped', () => {
    assert.throws(() => readTelegramUpdate({ message: {} }), problem('update_id_required'));
    assert.throws(() => readTelegramUpdate({ update_id: -1 }), problem('update_id_required'));
    assert.deepEqual(readTelegramUpdate({ update_id: 7, channel_post: { chat: { id: 1 }, text: 'x' } }), {
      kind: 'skipped',
      update_id: 7,
      reason: 'unsupported_update_type',
    });
  });

  test('message, edited_message and callback_query become messages', () => {
    const m = readTelegramUpdate(telegramMessage({ update_id: 1, chat_id: -100, text: 'hi', thread_id: 9 }));
    assert.equal(m.kind === 'message' && `${m.message.chat_id}/${m.message.thread_id}`, '-100/9');
    const e = readTelegramUpdate(telegramMessage({ update_id: 2, text: 'edit', edited: true }));
    assert.equal(e.kind === 'message' && e.message.source, 'edited_message');
    const q = readTelegramUpdate({
      update_id: 3,
      callback_query: {
        id: 'cb1',
        from: { id: 5 },
        message: { message_id: 4, chat: { id: 77 } },
        data: 'yes',
      },
    });
    assert.equal(q.kind === 'message' && `${q.message.callback_query_id}:${q.message.text}`, 'cb1:yes');
  });

  test('the largest photo size and documents are the media', () => {
    const u = readTelegramUpdate(
      telegramMessage({
        update_id: 4,
        extra: {
          caption: 'look',
          photo: [
            { file_id: 'small', file_unique_id: 's', width: 90, height: 90 },
            { file_id: 'big', file_unique_id: 'b', width: 1280, height: 1280 },
          ],
        },
      }),
    );
    assert.equal(u.kind === 'message' && u.message.media.map((x) => x.file_id).join(), 'big');
    assert.equal(u.kind === 'message' && u.message.text, 'look');
  });
});

describe('settings', () => {
  test('Slack: a signing secret or an explicit opt-out', () => {
    assert.throws(() => validateSlack({}, new Set()), problem('invalid_connector'));
    validateSlack({}, new Set(['signing_secret']));
    validateSlack({ allow_unauthenticated_ingress: true }, new Set());
    assert.throws(
      () => validateSlack({ surprise: 1 }, new Set(['signing_secret'])),
      problem('invalid_connector'),
    );
    // A team token given as a value would be stored in clear with the settings.
    assert.throws(
      () =>
        validateSlack(
          { team_bot_tokens: [{ team_id: 'T1', bot_token: { value: 'xoxb-1' } }] },
          new Set(['signing_secret']),
        ),
      problem('invalid_connector'),
    );
    validateSlack(
      { team_bot_tokens: [{ team_id: 'T1', bot_token: { env: 'T1_TOKEN' } }] },
      new Set(['signing_secret']),
    );
  });

  test('Telegram: polling needs a bot token, a webhook a secret token or an opt-out', () => {
    assert.throws(
      () => validateTelegram({ ingress_mode: 'polling' }, new Set()),
      problem('invalid_connector'),
    );
    validateTelegram({ ingress_mode: 'polling' }, new Set(['bot_token']));
    assert.throws(() => validateTelegram({}, new Set(['bot_token'])), problem('invalid_connector'));
    validateTelegram({ allow_unauthenticated_ingress: true }, new Set());
    validateTelegram({}, new Set(['secret_token']));
  });

  test('api_base_url: absolute http(s), no userinfo, query or fragment', () => {
    const s = new Set(['secret_token']);
    validateTelegram({ api_base_url: 'http://127.0.0.1:9999/' }, s);
    for (const bad of [
      'ftp://x',
      '/relative',
      'https://u:p@api.telegram.org',
      'https://x/?a=1',
      'https://x/#f',
      'https://x/?',
    ])
      assert.throws(() => validateTelegram({ api_base_url: bad }, s), problem('invalid_connector'), bad);
  });
});

describe('reply-target addresses', () => {
  test('structured requests become canonical JSON addresses', () => {
    assert.deepEqual(
      slackFromStructured({ type: 'slack', connector: 'c', channel: 'C1', thread_ts: '1.2' }),
      {
        plugin: 'slack',
        address: '{"channel_id":"C1","connector":"c","thread_ts":"1.2"}',
      },
    );
    assert.equal(parseSlackAddress('{"connector":"c","channel_id":"C1"}').channel_id, 'C1');
    assert.deepEqual(
      telegramFromStructured({ type: 'telegram', connector: 'bot', chat_id: 1, message_thread_id: 12 }),
      {
        plugin: 'telegram',
        address: '{"chat_id":1,"connector":"bot","message_thread_id":12}',
      },
    );
    assert.equal(telegramFromStructured({ type: 'slack' }), null);
    assert.throws(
      () => telegramFromStructured({ type: 'telegram', connector: 'bot', chat_id: '1' }),
      problem('invalid_reply_target'),
    );
  });

  test('Retry-After in seconds or as an HTTP date', () => {
    assert.equal(parseRetryAfter('3'), 3000);
    assert.equal(parseRetryAfter(new Date(Date.now() + 5000).toUTCString(), Date.now()) !== null, true);
    assert.equal(parseRetryAfter('soon'), null);
  });
});
