// Reliability: the crash loop. Each iteration starts (or restarts) a daemon, lets random operators
// work on it (sessions, runs of every scripted kind, idempotent resubmits, inline input, cancel,
// interrupt, end) while an SSE client follows the global stream, SIGKILLs it at a random moment
// (sometimes again during recovery), restarts it, checks that the SSE client resumes exactly
// where it stopped, settles every run and checks the invariants over the whole history. At the end
// it reports iterations done, kills, how many landed while a run was executing, and violations.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { CrashRig, daemonStatus, sleep } from '../crash/crash-kit.ts';
import { isLiveOnlyFrame, type SseFrame } from '../helpers/daemon.ts';
import { CRASH_ITERATIONS, CRASH_LANES, CRASH_TIMEOUT_MS, rng, SEED, SOAK } from './config.ts';
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
  // Frames the replay does not have may only be live-only ones (text deltas, model call starts).
  const durable = new Set(want);
  const extra = [...before, ...after].filter(
    (f) => f.id !== undefined && !durable.has(f.id) && !isLiveOnlyFrame(f),
  );
  assert.deepEqual(extra.slice(0, 5), [], `${where}: durable-looking frames missing from the replay`);
}

/** Per daemon: runs checked terminal already (final, skipped later), and iterations done. */
interface Lane {
  verified: Set<string>;
  done: number;
}

/** What the whole loop did, for the closing summary line (and progress lines in the soak). */
interface Tally {
  iterations: number;
  kills: number;
  /** Second kills, landed while the daemon was recovering from the first. */
  recoveryKills: number;
  /** Kills that found a run executing (`running` in the state file). */
  landed: number;
  /** Live runs in the state file at the kills (durable state the restart had to recover). */
  running: number;
  queued: number;
  /** Kills after which the state file could not be read (not counted as landed). */
  unreadable: number;
  violations: number;
}

const newTally = (): Tally => ({
  iterations: 0,
  kills: 0,
  recoveryKills: 0,
  landed: 0,
  running: 0,
  queued: 0,
  unreadable: 0,
  violations: 0,
});

/**
 * SIGKILLs the daemon and reads, from its state file while no process holds it, which runs were
 * live: a kill with a run `running` landed mid-execution (model call, tool, between steps), the
 * window the loop is about. Read-only, so the restart recovers exactly what the crash left.
 */
async function crashAndLook(rig: CrashRig, tally: Tally): Promise<void> {
  await rig.crash();
  tally.kills++;
  let running = 0;
  let queued = 0;
  try {
    const db = new Database(join(rig.daemon.stateRoot, 'kheish.sqlite'), {
      readonly: true,
      fileMustExist: true,
    });
    try {
      const rows = db
        .prepare(
          "select status, count(*) as n from runs where status in ('running', 'queued') group by status",
        )
        .all() as Array<{ status: string; n: number }>;
      running = rows.find((r) => r.status === 'running')?.n ?? 0;
      queued = rows.find((r) => r.status === 'queued')?.n ?? 0;
    } finally {
      db.close();
    }
  } catch {
    // E.g. a WAL index that needs rebuilding, which a read-only reader cannot do: not counted.
    tally.unreadable++;
    return;
  }
  tally.running += running;
  tally.queued += queued;
  if (running > 0) tally.landed++;
}

const summary = (t: Tally, failed: boolean): string =>
  `crash loop ${failed ? 'FAILED' : 'passed'}: ${t.iterations}/${CRASH_ITERATIONS} iterations done, ` +
  `${t.kills} kills (${t.recoveryKills} during recovery), ` +
  `${t.landed} landed with a run executing (${t.running} running, ${t.queued} queued at the kills` +
  `${t.unreadable ? `, ${t.unreadable} state files unreadable` : ''}), ` +
  `${t.violations} invariant violations, seed ${SEED}`;

async function iteration(
  rig: CrashRig,
  op: Operator,
  lane: Lane,
  index: number,
  tally: Tally,
): Promise<void> {
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
    await crashAndLook(rig, tally);
  })();
  await workUntil(rig.url, op, r, 3, killed);
  await killed;
  await live.ended;
  await rig.restart();
  if (r() < 0.25) {
    await sleep(Math.floor(r() * 120));
    await crashAndLook(rig, tally);
    tally.recoveryKills++;
    await rig.restart();
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
  tally.violations += violations.length;
  if (violations.length === 0) tally.iterations++;
  assert.deepEqual(violations.slice(0, 20), [], `${where}: ${violations.length} invariant violations`);
}

test(`reliability crash loop: random work, SIGKILL at a random moment, restart, every invariant holds (${CRASH_ITERATIONS} iterations, seed ${SEED})`, {
  timeout: CRASH_TIMEOUT_MS,
}, async (t) => {
  const lanes = await Promise.all(
    Array.from({ length: CRASH_LANES }, (_, lane) => CrashRig.start(DAEMON, lane)),
  );
  let next = 0;
  let failure: unknown = null;
  const acked: number[] = [];
  const tally = newTally();
  // The soak runs for an hour or more: a progress line now and then (stderr reaches the runner's
  // output even if the test is cut short, when the closing diagnostic would never be written).
  const progressEvery = SOAK ? Math.max(1, Math.ceil(CRASH_ITERATIONS / 20)) : 0;
  let passed = false;
  try {
    await Promise.all(
      lanes.map(async (rig) => {
        const op = newOperator();
        const lane: Lane = { verified: new Set(), done: 0 };
        for (;;) {
          const index = next++;
          if (index >= CRASH_ITERATIONS || failure !== null) break;
          try {
            await iteration(rig, op, lane, index, tally);
          } catch (err) {
            if (err instanceof Error) err.message = `${err.message}\n${rig.logTail(20)}`;
            failure ??= err;
          }
          if (progressEvery && tally.iterations % progressEvery === 0 && failure === null)
            process.stderr.write(
              `[crash loop] ${summary(tally, false).replace(/^crash loop passed: /, '')}\n`,
            );
        }
        if (failure !== null) return;
        // Last, the whole history of the lane once more.
        const violations = checkInvariants(await snapshot(rig.url, rig.daemon.stateRoot), op.ledger);
        tally.violations += violations.length;
        if (violations.length) failure ??= new Error(`final check: ${violations.slice(0, 20).join('\n')}`);
        acked.push(op.ledger.acked.size);
      }),
    );
    if (failure !== null) throw failure;
    t.diagnostic(`acknowledged runs checked per lane: ${acked.join(', ')}`);
    // A loop whose kills never caught a run executing did not test what its name says. How many
    // did depends on machine load: reported, and asserted only as "some" once there are enough
    // kills for a miss of every one to mean something (a 1-iteration run may simply miss).
    if (tally.kills >= 10) assert.ok(tally.landed > 0, `none of ${tally.kills} kills found a run executing`);
    passed = true;
  } finally {
    t.diagnostic(summary(tally, !passed));
    await Promise.all(lanes.map((l) => l.dispose()));
  }
});
