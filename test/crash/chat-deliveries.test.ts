// Chat answers across a crash (api-collab §6.6 "at-least-once; Telegram has no idempotency key",
// §8): a chunked Telegram answer whose attempt is cut off by SIGKILL keeps the chunks it had sent,
// is not sent again by itself (the target cannot deduplicate), and waits for an operator, who can
// replay it. Runs on SQLite, and on PostgreSQL with KHEISH_TEST_STORE=postgres.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { TelegramApiFixture, telegramMessage } from '../fixtures/chat/telegram-api-server.ts';
import {
  eventually,
  putConnector,
  TELEGRAM_SECRET,
  TELEGRAM_TOKEN,
  telegramPost,
} from '../helpers/chat-connectors.ts';
import { http } from '../helpers/daemon.ts';
import { CrashRig, sleep } from './crash-kit.ts';

const ESSAY = `${'paragraph of the answer\n'.repeat(400)}end`;
let rig: CrashRig | null = null;
let tg: TelegramApiFixture | null = null;
after(async () => {
  await rig?.dispose();
  await tg?.close();
});

test('telegram delivery: SIGKILL during chunk 2 → chunk 1 kept, nothing re-sent by itself, parked for the operator, replay delivers', async () => {
  tg = await new TelegramApiFixture(TELEGRAM_TOKEN).start();
  rig = await CrashRig.start({
    script: { rules: [{ match: 'essay', turns: [{ text: ESSAY }] }], default: { turns: [{ text: 'ok' }] } },
    env: { T_TG_TOKEN: TELEGRAM_TOKEN, T_TG_SECRET: TELEGRAM_SECRET },
  });
  await putConnector(rig.url, 'telegram', 'bot', {
    bot_token: { env: 'T_TG_TOKEN' },
    secret_token: { env: 'T_TG_SECRET' },
    api_base_url: tg.apiBaseUrl,
    session_policy: { create_if_missing: true },
  });
  let n = 0;
  tg.script('sendMessage', [
    // The second chunk never gets its answer before the crash.
    {
      when: (c) => Number(c.body.chat_id) === 9100 && ++n === 2,
      delay_ms: 60_000,
      body: { ok: true, result: {} },
    },
  ]);
  const r = await telegramPost(
    rig.url,
    'bot',
    telegramMessage({ update_id: 1, chat_id: 9100, text: 'an essay please' }),
  );
  assert.equal(r.body.status, 'accepted', r.text);
  await eventually(
    'chunk 2 in flight',
    () => tg!.callsOf('sendMessage').filter((c) => Number(c.body.chat_id) === 9100).length === 2,
  );
  await rig.crashAndRestart();

  const parked = await eventually('the parked delivery', async () => {
    const v = (await http(rig!.url, 'GET', `/v1/runs/${r.body.run_id}`)).body;
    return v.deliveries?.find((x: any) => x.status === 'dead_lettered');
  });
  assert.equal(parked.needs_operator, true);
  assert.equal(parked.last_error_code, 'outcome_unknown_after_restart');
  await sleep(1500);
  const calls = () => tg!.callsOf('sendMessage').filter((c) => Number(c.body.chat_id) === 9100);
  assert.equal(calls().length, 2, 'nothing was sent again without the operator');
  assert.equal(tg.sent.filter((m) => m.chat_id === 9100).length, 1, 'chunk 1 was delivered once');

  const replay = await http(rig.url, 'POST', `/v1/deliveries/${parked.delivery_id}/replay`);
  assert.ok(replay.status < 300, replay.text);
  const texts = await eventually('the replayed answer', () => {
    const got = tg!.sent.filter((m) => m.chat_id === 9100).map((m) => m.text!);
    return got.join('').endsWith('end') ? got : null;
  });
  // The replay is a new delivery: it sends the whole answer, after the chunk the first one sent.
  assert.equal(texts.slice(1).join(''), ESSAY);
  assert.ok(texts.every((t) => Array.from(t).length <= 4096));
});
