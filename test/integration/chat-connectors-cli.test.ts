// The Slack and Telegram kinds through the operator surfaces: the SDK (typed settings, structured
// reply-target builders) and the CLI (`connectors put-slack|put-telegram|get|delete`), and the
// Telegram poller following the registry (a connector switched to polling starts polling, a
// deleted one stops).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import {
  Kheish,
  type SlackConnectorSettings,
  slackReplyTarget,
  type TelegramConnectorSettings,
  telegramReplyTarget,
} from '../../src/sdk/index.ts';
import { TelegramApiFixture } from '../fixtures/chat/telegram-api-server.ts';
import { eventually, TELEGRAM_TOKEN } from '../helpers/chat-connectors.ts';
import { BIN, startDaemon, type TestDaemon } from '../helpers/daemon.ts';

let d: TestDaemon;
let tg: TelegramApiFixture;
before(async () => {
  tg = await new TelegramApiFixture(TELEGRAM_TOKEN).start();
  d = await startDaemon({
    script: { default: { turns: [{ text: 'ok' }] } },
    env: { T_TG_TOKEN: TELEGRAM_TOKEN, T_SLACK_SECRET: 'cli-slack-secret' },
  });
});
after(async () => {
  await d?.kill();
  await d?.cleanup();
  await tg?.close();
});

function cli(args: string[]) {
  const out = spawnSync(BIN, args, {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, KHEISH_DAEMON_URL: d.url },
  });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

test('SDK and CLI: Slack and Telegram connectors are created, shown without secrets, validated and deleted', async () => {
  const k = new Kheish({ baseUrl: d.url });
  const slack: SlackConnectorSettings = {
    signing_secret: { env: 'T_SLACK_SECRET' },
    allowed_channel_ids: ['C1'],
    team_bot_tokens: [{ team_id: 'T2', bot_token: { env: 'T2_TOKEN' } }],
  };
  const view = await k.connectors.put('slack', 'cli-slack', slack);
  assert.equal(view.kind, 'slack');
  assert.deepEqual(view.signing_secret, {
    configured: true,
    source: 'env',
    secret_ref: null,
    env: 'T_SLACK_SECRET',
  });

  const shown = cli(['connectors', 'get', 'slack', 'cli-slack']);
  assert.equal(shown.status, 0, shown.stderr);
  assert.match(shown.stdout, /connector:\s+slack\/cli-slack/);
  assert.match(shown.stdout, /signing_secret:\s+configured \(env\)/);
  assert.match(shown.stdout, /allowed_channel_ids:\s+\["C1"\]/);

  // The kind's rules through the CLI: a webhook connector needs a secret token (or the opt-out).
  const bad = cli(['connectors', 'put-telegram', 'cli-tg', '--json', '{"bot_token":{"env":"T_TG_TOKEN"}}']);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /secret_token/);
  const inline = cli([
    'connectors',
    'put-slack',
    'cli-slack',
    '--json',
    '{"team_bot_tokens":[{"team_id":"T3","bot_token":{"value":"xoxb-inline"}}]}',
  ]);
  assert.notEqual(inline.status, 0, 'an inline team token is refused');
  const settings: TelegramConnectorSettings = {
    bot_token: { env: 'T_TG_TOKEN' },
    allow_unauthenticated_ingress: true,
    allowed_chat_ids: [77],
    api_base_url: tg.apiBaseUrl,
  };
  const ok = cli(['connectors', 'put-telegram', 'cli-tg', '--json', JSON.stringify(settings)]);
  assert.equal(ok.status, 0, ok.stderr);
  const list = cli(['connectors', 'list']);
  assert.match(list.stdout, /slack\s+cli-slack\s+daemon/);
  assert.match(list.stdout, /telegram\s+cli-tg\s+daemon/);

  // Structured reply targets built by the SDK.
  await k.sessions.create({ session_id: 'cli-chat' });
  await k.deliveries.setReplyTargets('cli-chat', [
    slackReplyTarget({ connector: 'cli-slack', channel_id: 'C1', thread_ts: '1700000000.000100' }),
    telegramReplyTarget({ connector: 'cli-tg', chat_id: 77, message_thread_id: 3 }),
  ]);
  const targets = (await k.deliveries.replyTargets('cli-chat')) as {
    reply_targets: Array<{ plugin: string; address: string }>;
  };
  assert.deepEqual(
    targets.reply_targets.map((t) => [t.plugin, JSON.parse(t.address)]),
    [
      ['slack', { channel_id: 'C1', connector: 'cli-slack', thread_ts: '1700000000.000100' }],
      ['telegram', { chat_id: 77, connector: 'cli-tg', message_thread_id: 3 }],
    ],
  );

  // Switched to polling, the connector polls; deleted, it stops.
  const polling = cli([
    'connectors',
    'put-telegram',
    'cli-tg',
    '--json',
    '{"ingress_mode":"polling","polling_timeout_seconds":1}',
  ]);
  assert.equal(polling.status, 0, polling.stderr);
  await eventually('getUpdates', () => tg.count('getUpdates') > 0);
  await k.deliveries.clearReplyTargets('cli-chat');
  const del = cli(['connectors', 'delete', 'telegram', 'cli-tg']);
  assert.equal(del.status, 0, del.stderr);
  await new Promise((r) => setTimeout(r, 1500));
  const calls = tg.count('getUpdates');
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(tg.count('getUpdates'), calls, 'the poller stopped with its connector');
});
