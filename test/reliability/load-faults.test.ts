// Reliability: load with faults. Many sessions at once, each with a few queued runs whose scripted
// model answers 429 (retried), hangs (half cancelled by the client, half cut by the route timeout
// and retried) or works normally; one SSE client per session drops its connection at random and
// reconnects with Last-Event-ID. Every client must end up with every durable event of its session
// exactly once, in order; every run must end as its script says; the invariants must hold.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { sleep } from '../crash/crash-kit.ts';
import { isLiveOnlyFrame, type SseFrame, startDaemon, tempDir } from '../helpers/daemon.ts';
import { LOAD_RUNS_PER_SESSION, LOAD_SESSIONS, rng, SEED } from './config.ts';
import { checkInvariants, snapshot } from './invariants.ts';
import { inputFor, type KindName, SCRIPT } from './scripts.ts';
import { connectSse, ReconnectingClient } from './sse.ts';
import { newOperator, settle } from './workload.ts';

const KINDS: KindName[] = ['text', 'tools', 'talk', 'flaky', 'flakytools', 'slow', 'hang'];
const ROUTE_TIMEOUT_MS = 3000;
/** Waits scale with the amount of work (the soak form has 5,000 runs queued at once). */
const PATIENCE_MS = Math.max(60_000, LOAD_SESSIONS * LOAD_RUNS_PER_SESSION * 60);

const durableIds = (frames: SseFrame[]) => frames.filter((f) => !isLiveOnlyFrame(f)).map((f) => f.id!);

/**
 * The session's whole durable stream, read from cursor 0: everything up to the first quiet spell
 * after the first frame (all runs are over, so nothing new comes). A busy daemon can take a while
 * to start the replay: a filtered replay scans the global log from the cursor.
 */
async function replaySession(url: string, sid: string): Promise<SseFrame[]> {
  const frames: SseFrame[] = [];
  let lastAt = 0;
  const conn = connectSse(`${url}/v1/sessions/${sid}/stream?cursor=0`, (f) => {
    if (f.id === undefined) return;
    frames.push(f);
    lastAt = Date.now();
  });
  assert.equal(await conn.status, 200);
  const deadline = Date.now() + 30_000;
  while ((lastAt === 0 || Date.now() - lastAt < 300) && Date.now() < deadline) await sleep(25);
  conn.close();
  return frames;
}

async function post(
  url: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any }> {
  const t0 = Date.now();
  // With a thousand clients connecting at once to a saturated daemon, its listen queue overflows
  // (TcpExtListenOverflows) and connections time out or are reset. Clients retry, as real ones
  // would; a reset leaves the outcome unknown, which is safe with an Idempotency-Key (submits
  // carry one). The count is reported.
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(url + path, {
        method: 'POST',
        headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        // A detached submit waits in the same FIFO as the executing runs' writes: on a saturated
        // 2-core machine that can take many seconds, which is slow but not wrong.
        signal: AbortSignal.timeout(PATIENCE_MS),
      });
      return { status: res.status, body: await res.json() };
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      // Not connected: nothing was sent, retry. Reset: maybe received, retry only with a key.
      const notSent = cause?.code === 'UND_ERR_CONNECT_TIMEOUT' || cause?.code === 'ECONNREFUSED';
      const reset = cause?.code === 'ECONNRESET' && headers['idempotency-key'] !== undefined;
      if (attempt < 5 && (notSent || reset)) {
        connectionResets++;
        continue;
      }
      throw new Error(
        `POST ${path} failed after ${Date.now() - t0} ms (attempt ${attempt}): ${(err as Error).message} ${cause?.code ?? ''} ${cause?.message ?? ''}`,
      );
    }
  }
}

let connectionResets = 0;

test(`reliability load: ${LOAD_SESSIONS} sessions × ${LOAD_RUNS_PER_SESSION} runs with 429s, hangs, cancels and reconnecting SSE clients: every event exactly once (seed ${SEED})`, {
  timeout: 600_000,
}, async (t) => {
  const r = rng(SEED);
  const dir = tempDir('kheish-load-');
  writeFileSync(join(dir, 'script.json'), JSON.stringify(SCRIPT));
  const routesToml = `version = 1\ndefault_route = "local"\n\n[routes.local]\ndriver = "scripted"\ndefault_model = "scripted"\nscript_file = "${join(dir, 'script.json')}"\ntimeout_ms = ${ROUTE_TIMEOUT_MS}\n`;
  const d = await startDaemon({ routesToml, args: ['--event-history-capacity', '262144'] });
  const op = newOperator();
  const clients: ReconnectingClient[] = [];
  let dropping = true;
  try {
    const sessions: string[] = [];
    for (let i = 0; i < LOAD_SESSIONS; i += 50)
      sessions.push(
        ...(await Promise.all(
          Array.from(
            { length: Math.min(50, LOAD_SESSIONS - i) },
            async () => (await post(d.url, '/v1/sessions', {})).body.session_id as string,
          ),
        )),
      );
    // Clients connect in batches, as a real fleet would ramp up.
    for (const sid of sessions) {
      const c = new ReconnectingClient(`${d.url}/v1/sessions/${sid}/stream?cursor=0`, null);
      c.start();
      clients.push(c);
      if (clients.length % 100 === 0) await sleep(100);
    }
    // Clients drop their connections at random while the load runs.
    const dropper = (async () => {
      while (dropping) {
        clients[Math.floor(r() * clients.length)]!.drop();
        await sleep(10 + Math.floor(r() * 40));
      }
    })();

    const submitMs: number[] = [];
    const submitPhase = Date.now();
    const planned = new Map<string, { kind: KindName; cancel: boolean; session: number }>();
    await Promise.all(
      sessions.map(async (sid, i) => {
        for (let k = 0; k < LOAD_RUNS_PER_SESSION; k++) {
          const kind = KINDS[Math.floor(r() * KINDS.length)]!;
          const t0 = Date.now();
          const res = await post(
            d.url,
            `/v1/sessions/${sid}/runs`,
            { content: inputFor(kind, `${i}.${k}`) },
            { 'idempotency-key': `load-${i}-${k}` },
          );
          submitMs.push(Date.now() - t0);
          assert.equal(res.status, 202, JSON.stringify(res.body));
          op.ledger.acked.add(res.body.run_id);
          planned.set(res.body.run_id, { kind, cancel: kind === 'hang' && r() < 0.5, session: i });
        }
      }),
    );
    const submitPhase2 = Date.now();
    // The client gives up on half of the hanging runs as soon as its stream says they run. Should
    // the route timeout win the race, the cancel is a 409 and the run completes: both are fine.
    const toCancel = [...planned].filter(([, p]) => p.cancel).map(([id]) => id);
    const runningSeen = (id: string) =>
      clients[planned.get(id)!.session]!.frames.some(
        (f) => f.event === 'run_updated' && f.data.run.run_id === id && f.data.run.status === 'running',
      );
    await Promise.all(
      toCancel.map(async (id) => {
        const deadline = Date.now() + PATIENCE_MS;
        while (!runningSeen(id) && Date.now() < deadline) await sleep(20);
        const res = await post(d.url, `/v1/runs/${id}/cancel`);
        assert.ok(
          res.status === 200 || res.status === 409,
          `cancel ${id}: ${res.status} ${JSON.stringify(res.body)}`,
        );
        if (res.status === 409) planned.get(id)!.cancel = false;
      }),
    );
    await settle(d.url, op, PATIENCE_MS, false);
    dropping = false;
    await dropper;

    // Every run ended as its script says.
    const wrong: string[] = [];
    for (const [id, p] of planned) {
      const run = (await (await fetch(`${d.url}/v1/runs/${id}`)).json()) as any;
      const want = p.cancel ? 'cancelled' : 'completed';
      if (run.status !== want)
        wrong.push(`${id} (${p.kind}) ended ${run.status}, want ${want}: ${run.error ?? ''}`);
    }
    assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} runs ended wrongly`);

    // Every client has every durable event of its session exactly once, in order.
    let reconnects = 0;
    const check = async (i: number) => {
      const replay = durableIds(await replaySession(d.url, sessions[i]!));
      const c = clients[i]!;
      const last = replay.at(-1);
      const deadline = Date.now() + 10_000;
      while (last && c.lastSeen !== null && BigInt(c.lastSeen) < BigInt(last) && Date.now() < deadline)
        await sleep(10);
      await c.stop();
      reconnects += c.reconnects;
      assert.deepEqual(c.errors, [], `session ${sessions[i]}: SSE client errors`);
      const ids = c.frames.map((f) => f.id!);
      const dupes = ids.filter((id, k) => ids.indexOf(id) !== k);
      assert.deepEqual(dupes.slice(0, 5), [], `session ${sessions[i]}: ids delivered twice`);
      assert.deepEqual(
        durableIds(c.frames),
        replay,
        `session ${sessions[i]}: the client's durable events differ from the replay`,
      );
    };
    for (let i = 0; i < sessions.length; i += 25)
      await Promise.all(Array.from({ length: Math.min(25, sessions.length - i) }, (_, k) => check(i + k)));
    submitMs.sort((a, b) => a - b);
    t.diagnostic(
      `${planned.size} runs, ${toCancel.length} cancelled, ${reconnects} SSE reconnects, ${connectionResets} connection failures retried; submits took ${submitPhase2 - submitPhase} ms, p50 ${submitMs[submitMs.length >> 1]} ms, max ${submitMs.at(-1)} ms`,
    );

    const violations = [...op.violations, ...checkInvariants(await snapshot(d.url, d.stateRoot), op.ledger)];
    assert.deepEqual(violations.slice(0, 20), [], `${violations.length} invariant violations`);
  } finally {
    dropping = false;
    await Promise.all(clients.map((c) => c.stop().catch(() => undefined)));
    await d.kill();
    d.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
