// docs/connectors.md, sections "Slack" and "Telegram", followed as written: the JSON files are
// written under the names the page gives (with `api_base_url` pointed at local servers speaking
// Slack's Web API and Telegram's Bot API), the `bash` blocks run in order in one shell with the
// page's environment variables, and the block after a command holds what it printed (text line by
// line, JSON as a value, run ids normalized). Then what the prose promises: the Slack answer in
// the thread, the Telegram answer in the chat, and a polled update becoming a run.
import assert from 'node:assert/strict';
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { SlackApiFixture } from '../fixtures/chat/slack-api-server.ts';
import { TelegramApiFixture, telegramMessage } from '../fixtures/chat/telegram-api-server.ts';
import { eventually, runsOf } from '../helpers/chat-connectors.ts';
import { startDaemon, tempDir, waitForRun } from '../helpers/daemon.ts';
import { checkShownOutputs, runBashSession } from './bash-session.ts';
import { fencedBlocks } from './markdown.ts';

const DOC = resolve(import.meta.dirname, '../../docs/connectors.md');
const text = readFileSync(DOC, 'utf8');
const start = text.split('\n').findIndex((l) => l.trim() === '## Slack') + 1;
const blocks = fencedBlocks('docs/connectors.md', text).filter((b) => b.line > start);

const ENV = {
  SLACK_SIGNING_SECRET: 'doc-slack-signing-secret',
  SLACK_BOT_TOKEN: 'xoxb-doc-bot-token',
  TELEGRAM_BOT_TOKEN: '4242:doc-telegram-token',
  TELEGRAM_SECRET_TOKEN: 'doc-telegram-secret-token',
};

const normalize = (l: string) =>
  l
    .replace(/run-[0-9a-z]{26}/g, 'run-ID')
    .replace(/\s+/g, ' ')
    .trim();

test('docs/connectors.md: the Slack and Telegram sections run as written and print what the page shows', async () => {
  assert.ok(start > 0, 'the page has a Slack section');
  const dir = realpathSync(tempDir('kheish-chat-doc-'));
  const slack = await new SlackApiFixture([ENV.SLACK_BOT_TOKEN]).start();
  const tg = await new TelegramApiFixture(ENV.TELEGRAM_BOT_TOKEN).start();
  const json = blocks.filter((b) => b.lang === 'json');
  const write = (name: string, pick: (body: string) => boolean, api: string) => {
    const b = json.find((x) => pick(x.body));
    assert.ok(b, `the page shows ${name}`);
    writeFileSync(join(dir, name), JSON.stringify({ ...JSON.parse(b.body), api_base_url: api }));
    return b;
  };
  const files = [
    write('slack.json', (s) => s.includes('SLACK_SIGNING_SECRET'), slack.apiBaseUrl),
    write('telegram.json', (s) => s.includes('"webhook"'), tg.apiBaseUrl),
    write('telegram-polling.json', (s) => s.includes('"polling"'), tg.apiBaseUrl),
  ];
  const d = await startDaemon({
    script: { default: { turns: [{ text: 'all green' }] } },
    env: ENV,
  });
  try {
    const shells = blocks.filter((b) => b.lang === 'bash');
    const outputs = runBashSession(shells, { cwd: dir, daemon: d, env: ENV });
    const checked = checkShownOutputs(blocks, shells, outputs, {
      norm: normalize,
      normJson: true,
      notOutput: (shown) => files.includes(shown),
    });
    assert.equal(checked, 8, 'every command with an output block was checked');

    // Slack: the answer is posted in the thread of the message.
    const posted = await eventually('the Slack answer', () =>
      slack.posted.find((p) => p.channel === 'C0001' && p.thread_ts === '1700000001.000100'),
    );
    assert.equal(posted.text, 'all green');
    // Telegram: the answer goes back to the chat.
    const tgRun = JSON.parse(readFileSync(join(dir, 'telegram-accepted.json'), 'utf8')).run_id;
    await waitForRun(d.url, tgRun);
    const sent = await eventually('the Telegram answer', () => tg.sent.find((m) => m.chat_id === 123456789));
    assert.equal(sent.text, 'all green');
    // Polling: an update waiting at the Bot API becomes a run, and its answer is sent.
    tg.push(telegramMessage({ update_id: 20001, chat_id: 555, text: 'polled hello' }));
    const polled = await eventually(
      'the polled run',
      async () => (await runsOf(d.url, 'telegram:bot-poll:555'))[0],
    );
    await waitForRun(d.url, polled.run_id);
    await eventually('the polled answer', () => tg.sent.find((m) => m.chat_id === 555));
    assert.ok(!d.logs().includes(ENV.SLACK_SIGNING_SECRET) && !d.logs().includes(ENV.TELEGRAM_BOT_TOKEN));
  } finally {
    await d.kill();
    await d.cleanup();
    await slack.close();
    await tg.close();
  }
});
