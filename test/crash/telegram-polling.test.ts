// Telegram polling across crashes (api-collab §6.6 "Polling: persists its cursor, so nothing is
// replayed after a restart"): SIGKILL while updates are being consumed, restart, and every update
// becomes exactly one run (none lost, none twice); updates the daemon had confirmed before a clean
// or unclean stop are never asked for again. Runs on SQLite, and on PostgreSQL with
// KHEISH_TEST_STORE=postgres.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { TelegramApiFixture, telegramMessage } from '../fixtures/chat/telegram-api-server.ts';
import { allRuns, eventually, putConnector, TELEGRAM_TOKEN } from '../helpers/chat-connectors.ts';
import { http } from '../helpers/daemon.ts';
import { queryState } from '../helpers/state-query.ts';
import { CrashRig, ITERATIONS, randomInt, sleep } from './crash-kit.ts';

const fixtures: TelegramApiFixture[] = [];
const rigs: CrashRig[] = [];
after(async () => {
  for (const r of rigs) await r.dispose();
  for (const f of fixtures) await f.close();
});

async function rig(): Promise<{ r: CrashRig; tg: TelegramApiFixture }> {
  const tg = await new TelegramApiFixture(TELEGRAM_TOKEN).start();
  fixtures.push(tg);
  const r = await CrashRig.start({
    script: { default: { turns: [{ text: 'polled answer' }] } },
    env: { T_TG_TOKEN: TELEGRAM_TOKEN },
  });
  rigs.push(r);
  await putConnector(r.url, 'telegram', 'poller', {
    bot_token: { env: 'T_TG_TOKEN' },
    api_base_url: tg.apiBaseUrl,
    ingress_mode: 'polling',
    polling_timeout_seconds: 1,
    include_self_output: false,
    session_policy: { create_if_missing: true },
  });
  return { r, tg };
}

/** update_id → number of runs made from it (telegram_message_id is the update id in these updates). */
async function runsByUpdate(url: string): Promise<Map<number, number>> {
  const all = await allRuns(url);
  const out = new Map<number, number>();
  for (const run of all) {
    const full = (await http(url, 'GET', `/v1/runs/${run.run_id}`)).body;
    const id = full.input_metadata?.telegram_message_id;
    if (typeof id === 'number') out.set(id, (out.get(id) ?? 0) + 1);
  }
  return out;
}

test('telegram polling: a restart resumes from the persisted cursor (no update is fetched or run again)', async () => {
  const { r, tg } = await rig();
  tg.push(
    ...[100, 101, 102, 103, 104].map((id) =>
      telegramMessage({ update_id: id, chat_id: 7007, text: `m${id}` }),
    ),
  );
  await eventually('five runs', async () => (await runsByUpdate(r.url)).size === 5);
  // The cursor commits after the runs it covers: the kill waits until it is stored, since what
  // this test checks is that a restart resumes from it (a kill in between is the next test's case:
  // refetched updates that make no second run).
  await eventually('the cursor stored past 104', async () => {
    const rows = await queryState(r.daemon, 'select next_offset from telegram_polling');
    return rows.length === 1 && Number(rows[0].next_offset) >= 105;
  });
  await r.crashAndRestart();
  tg.push(telegramMessage({ update_id: 105, chat_id: 7007, text: 'after restart' }));
  const runs = await eventually('the sixth run', async () => {
    const m = await runsByUpdate(r.url);
    return m.size === 6 ? m : null;
  });
  for (const [id, n] of runs) assert.equal(n, 1, `update ${id} made ${n} runs`);
  for (const id of [100, 101, 102, 103, 104])
    assert.equal(tg.handedOut.get(id), 1, `update ${id} fetched again`);
  // The first getUpdates of the new process already carried the cursor past the old updates.
  const offsets = tg.callsOf('getUpdates').map((c) => Number(c.body.offset));
  assert.ok(offsets.at(-1)! >= 105, `offsets ${offsets.join(',')}`);
  assert.deepEqual(tg.callsOf('getUpdates').at(-1)!.body.allowed_updates, [
    'message',
    'edited_message',
    'callback_query',
  ]);
});

test(`telegram polling: SIGKILL at random points while consuming updates, ${ITERATIONS} times: one run per update`, async () => {
  const { r, tg } = await rig();
  let next = 1000;
  for (let i = 0; i < ITERATIONS; i++) {
    const batch = Array.from({ length: 15 }, () => next++);
    tg.push(
      ...batch.map((id) => telegramMessage({ update_id: id, chat_id: 8000 + (id % 3), text: `u${id}` })),
    );
    await sleep(randomInt(0, 600));
    await r.crashAndRestart();
  }
  const expected = next - 1000;
  const runs = await eventually(
    'every update as a run',
    async () => {
      const m = await runsByUpdate(r.url);
      return m.size === expected ? m : null;
    },
    60_000,
  );
  for (let id = 1000; id < next; id++) assert.equal(runs.get(id), 1, `update ${id}: ${runs.get(id)} runs`);
  // A crash between a run and its cursor write may fetch that one update again, never more.
  for (const [id, n] of tg.handedOut) assert.ok(n <= ITERATIONS + 1, `update ${id} fetched ${n} times`);
});
