// Telegram polling on two replicas of one PostgreSQL database (api-collab §6.6, docs/decisions.md
// #306): one lease, so one replica polls a bot at a time (two getUpdates callers would each get the
// same updates); every update becomes one run; when the polling replica stops, the other takes over
// from the shared cursor. Always on PostgreSQL (its own schema), whatever KHEISH_TEST_STORE says.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TelegramApiFixture, telegramMessage } from '../fixtures/chat/telegram-api-server.ts';
import { allRuns, eventually, putConnector, TELEGRAM_TOKEN } from '../helpers/chat-connectors.ts';
import { http } from '../helpers/daemon.ts';
import { type ReplicaPair, startReplicaPair } from '../helpers/replica-pair.ts';

let pair: ReplicaPair;
let tg: TelegramApiFixture;
before(async () => {
  tg = await new TelegramApiFixture(TELEGRAM_TOKEN).start();
  // The daemons inherit this process's environment: the connector reads its token from it.
  process.env.T_TG_REPLICA_TOKEN = TELEGRAM_TOKEN;
  pair = await startReplicaPair({ script: { default: { turns: [{ text: 'ok' }] } } });
});
after(async () => {
  await pair?.stop();
  await tg?.close();
});

async function updatesWithRuns(url: string): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const run of await allRuns(url)) {
    const id = (await http(url, 'GET', `/v1/runs/${run.run_id}`)).body.input_metadata?.telegram_message_id;
    if (typeof id === 'number') out.set(id, (out.get(id) ?? 0) + 1);
  }
  return out;
}

test('replicas: one replica polls a bot; each update is fetched once and is one run; the other takes over', async () => {
  const { a, b } = pair;
  await putConnector(a.url, 'telegram', 'shared', {
    bot_token: { env: 'T_TG_REPLICA_TOKEN' },
    api_base_url: tg.apiBaseUrl,
    ingress_mode: 'polling',
    polling_timeout_seconds: 1,
    include_self_output: false,
    session_policy: { create_if_missing: true },
  });
  // B learns of the connector at its next re-sync; both then compete for the lease.
  await new Promise((r) => setTimeout(r, 6000));
  for (let i = 0; i < 3; i++) {
    tg.push(
      ...Array.from({ length: 10 }, (_, j) =>
        telegramMessage({ update_id: 100 + i * 10 + j, chat_id: 42, text: 'x' }),
      ),
    );
    await new Promise((r) => setTimeout(r, 700));
  }
  const runs = await eventually(
    '30 runs',
    async () => {
      const m = await updatesWithRuns(b.url);
      return m.size === 30 ? m : null;
    },
    30_000,
  );
  for (const [id, n] of runs) assert.equal(n, 1, `update ${id}: ${n} runs`);
  for (const [id, n] of tg.handedOut) assert.equal(n, 1, `update ${id} was fetched ${n} times`);

  // Stop whichever replica polls; the other continues from the shared cursor.
  await a.stop();
  tg.push(telegramMessage({ update_id: 200, chat_id: 42, text: 'after failover' }));
  await eventually('the update after the stop', async () => (await updatesWithRuns(b.url)).has(200), 30_000);
  assert.equal(tg.handedOut.get(200), 1);
});
