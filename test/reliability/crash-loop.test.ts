// Reliability: the crash loop. Each iteration starts (or restarts) a daemon, lets random operators
// work on it (sessions, runs of every scripted kind, idempotent resubmits, inline input, cancel,
// interrupt, end) while an SSE client follows the global stream, SIGKILLs it at a random moment
// (sometimes again during recovery), restarts it, checks that the SSE client resumes exactly
// where it stopped, settles every run and checks the invariants over the whole history.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CrashRig, daemonStatus, sleep } from '../crash/crash-kit.ts';
import type { SseFrame } from '../helpers/daemon.ts';
import { CRASH_ITERATIONS, CRASH_LANES, rng, SEED } from './config.ts';
import { checkInvariants, snapshot, terminalRuns } from './invariants.ts';
import { SCRIPT } from './scripts.ts';
import { connectSse, readSse } from './sse.ts';
import { newOperator, type Operator, settle, workUntil } from './workload.ts';

const DAEMON = { script: SCRIPT, args: ['--event-history-capacity', '262144'] };

/** Counters tell the truth after recovery: running equals live executors, then everything drops to 0. */
async function assertHonestCounters(url: string, where: string): Promise<void> {
  const deadline = Date.now() + 5000;
  let last: any = null;
  for (;;) {
    last = (await daemonStatus(url)).runs;
    if (last.running === last.active_executors && (last.running > 0 || last.queued === 0)) return;
    if (Date.now() > deadline)
      assert.fail(
        `${where}: running ${last.running} ≠ executors ${last.active_executors}: ${JSON.stringify(last)}`,
      );
    await sleep(20);
  }
}

async function assertQuiet(url: string, where: string): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const runs = (await daemonStatus(url)).runs;
    if (runs.running === 0 && runs.queued === 0 && runs.active_executors === 0) return;
    if (Date.now() > deadline)
      assert.fail(`${where}: not quiet after every run ended: ${JSON.stringify(runs)}`);
    await sleep(20);
  }
}

/** The ids a client saw before the crash plus after reconnecting must be the replay, once each. */
function assertExactlyOnce(
  before: SseFrame[],
  after: SseFrame[],
  replay: SseFrame[],
  startAfter: bigint,
  where: string,
) {
  const seen = [...before, ...after].filter((f) => f.id !== undefined).map((f) => f.id!);
  const want = replay.filter((f) => f.id !== undefined && BigInt(f.id) > startAfter).map((f) => f.id!);
  const dupes = seen.filter((id, i) => seen.indexOf(id) !== i);
  assert.deepEqual(dupes, [], `${where}: SSE ids delivered twice across the crash`);
  const missing = want.filter((id) => !seen.includes(id));
  assert.deepEqual(
    missing.slice(0, 10),
    [],
    `${where}: ${missing.length} durable events never delivered across the crash`,
  );
  // Frames the replay does not have may only be live-only ones (streamed text deltas).
  const durable = new Set(want);
  const extra = [...before, ...after].filter(
    (f) => f.id !== undefined && !durable.has(f.id) && f.data?.trace?.kind !== 'assistant_text_delta',
  );
  assert.deepEqual(extra.slice(0, 5), [], `${where}: durable-looking frames missing from the replay`);
}

/** Per daemon: runs checked terminal already (final, skipped later), and iterations done. */
interface Lane {
  verified: Set<string>;
  done: number;
}

async function iteration(rig: CrashRig, op: Operator, lane: Lane, index: number): Promise<void> {
  const r = rng(SEED + index);
  const where = `iteration ${index + 1} (seed ${SEED + index})`;
  // A live SSE client on the global stream, from the current tail.
  const tail = (await daemonStatus(rig.url)).events.tail_event_id_cursor as string;
  const before: SseFrame[] = [];
  const live = connectSse(`${rig.url}/v1/events/stream?cursor=${tail}`, (f) => {
    if (f.id !== undefined) before.push(f);
  });
  assert.equal(await live.status, 200);

  // Requests are in flight when the kill lands: their answers are lost, their effects may not be.
  const killed = (async () => {
    await sleep(20 + Math.floor(r() * 400));
    await rig.crash();
  })();
  await workUntil(rig.url, op, r, 3, killed);
  await killed;
  await live.ended;
  await rig.restart();
  if (r() < 0.25) {
    await sleep(Math.floor(r() * 120));
    await rig.crashAndRestart();
  }
  await assertHonestCounters(rig.url, where);

  const lastSeen = before.at(-1)?.id ?? tail;
  const after: SseFrame[] = [];
  const resumed = connectSse(
    `${rig.url}/v1/events/stream`,
    (f) => {
      if (f.id !== undefined) after.push(f);
    },
    { 'last-event-id': lastSeen },
  );
  assert.equal(await resumed.status, 200);
  await settle(rig.url, op);
  await assertQuiet(rig.url, where);
  const newest = BigInt((await daemonStatus(rig.url)).events.tail_event_id_cursor);
  const deadline = Date.now() + 5000;
  while ((after.at(-1) ? BigInt(after.at(-1)!.id!) : 0n) < newest && Date.now() < deadline) await sleep(10);
  resumed.close();
  const replay = (
    await readSse(`${rig.url}/v1/events/stream?cursor=${tail}`, { untilId: newest, timeoutMs: 10_000 })
  ).frames;
  assertExactlyOnce(before, after, replay, BigInt(tail), where);

  // The whole history every 10th iteration of a lane, else what changed since this one started.
  const full = lane.done % 10 === 9;
  const snap = await snapshot(
    rig.url,
    rig.daemon.stateRoot,
    full ? {} : { verified: lane.verified, sseFrom: tail },
  );
  const violations = [...op.violations, ...checkInvariants(snap, op.ledger)];
  op.violations.length = 0;
  for (const id of terminalRuns(snap)) lane.verified.add(id);
  lane.done++;
  assert.deepEqual(violations.slice(0, 20), [], `${where}: ${violations.length} invariant violations`);
}

test(`reliability crash loop: random work, SIGKILL at a random moment, restart, every invariant holds (${CRASH_ITERATIONS} iterations, seed ${SEED})`, {
  timeout: 600_000,
}, async (t) => {
  const lanes = await Promise.all(
    Array.from({ length: CRASH_LANES }, (_, lane) => CrashRig.start(DAEMON, lane)),
  );
  let next = 0;
  let failure: unknown = null;
  const acked: number[] = [];
  try {
    await Promise.all(
      lanes.map(async (rig) => {
        const op = newOperator();
        const lane: Lane = { verified: new Set(), done: 0 };
        for (;;) {
          const index = next++;
          if (index >= CRASH_ITERATIONS || failure !== null) break;
          try {
            await iteration(rig, op, lane, index);
          } catch (err) {
            if (err instanceof Error) err.message = `${err.message}\n${rig.logTail(20)}`;
            failure ??= err;
          }
        }
        if (failure !== null) return;
        // Last, the whole history of the lane once more.
        const violations = checkInvariants(await snapshot(rig.url, rig.daemon.stateRoot), op.ledger);
        if (violations.length) failure ??= new Error(`final check: ${violations.slice(0, 20).join('\n')}`);
        acked.push(op.ledger.acked.size);
      }),
    );
    if (failure !== null) throw failure;
    t.diagnostic(`acknowledged runs checked per lane: ${acked.join(', ')}`);
  } finally {
    await Promise.all(lanes.map((l) => l.dispose()));
  }
});
