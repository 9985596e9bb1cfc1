// Crash scenario: a client follows a session's SSE stream, the daemon dies, and the client
// reconnects to the restarted daemon with Last-Event-ID. SSE ids are durable sequence numbers
// (ARCHITECTURE.md §4), so it gets every durable event after its cursor exactly once, with
// strictly greater ids, and nothing it already saw.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SseFrame } from '../helpers/daemon.ts';
import {
  assertCleanRun,
  assertQuiescent,
  createSession,
  ITERATIONS,
  NOOP_CALL,
  openStream,
  randomInt,
  runEvents,
  runIterations,
  sleep,
  submitRun,
  waitForFrame,
  waitTerminal,
} from './crash-kit.ts';

const DELAY_MS = 400;
const SCRIPT = {
  default: {
    turns: [
      { delay_ms: 100, text: 'one', tool_calls: [NOOP_CALL] },
      { delay_ms: DELAY_MS, text: 'two' },
    ],
  },
};
/** Live-only frames (text deltas) use the low bits of the id; durable rows have them clear. */
const LIVE_BITS = (1n << 20n) - 1n;
const isDurable = (f: SseFrame) => f.id !== undefined && (BigInt(f.id) & LIVE_BITS) === 0n;
const completedFrame = (runId: string) => (f: SseFrame) =>
  f.event === 'run_updated' && f.data?.run?.run_id === runId && f.data?.run?.status === 'completed';

test(`crash: SIGKILL while a client streams; Last-Event-ID after restart replays the rest without duplicates (${ITERATIONS} iterations)`, async () => {
  await runIterations({ script: SCRIPT }, async (rig) => {
    const sid = await createSession(rig.url);
    const streamPath = `/v1/sessions/${sid}/stream`;
    const before = await openStream(rig.url + streamPath);
    assert.equal(before.status, 200);
    const submitted = await submitRun(rig.url, sid, 'stream me');
    await waitForFrame(before, 'the submit to reach the stream', (f) => f.id !== undefined);
    // Anywhere from inside turn 1 to deep inside turn 2.
    await sleep(randomInt(50, 100 + DELAY_MS - 50));
    await rig.crash();
    await before.ended;

    const seen = before.frames.filter((f) => f.id !== undefined);
    assert.ok(seen.length > 0, 'frames with ids arrived before the crash');
    const lastId = BigInt(seen.at(-1)!.id!);
    for (let i = 1; i < seen.length; i++)
      assert.ok(
        BigInt(seen[i]!.id!) > BigInt(seen[i - 1]!.id!),
        `ids increase before the crash: ${seen.map((f) => f.id)}`,
      );

    await rig.restart();
    const after = await openStream(rig.url + streamPath, { 'last-event-id': String(lastId) });
    assert.equal(after.status, 200);
    const alreadyDone = seen.some(completedFrame(submitted.run_id));
    if (!alreadyDone)
      await waitForFrame(
        after,
        'the run to complete on the resumed stream',
        completedFrame(submitted.run_id),
      );
    else await sleep(100);
    after.close();
    await after.ended;

    const resumed = after.frames.filter((f) => f.id !== undefined);
    let prev = lastId;
    for (const f of resumed) {
      const id = BigInt(f.id!);
      assert.ok(
        id > prev,
        `resumed ids must be strictly greater than ${prev} (Last-Event-ID ${lastId}): got ${f.id} (${f.event})`,
      );
      prev = id;
    }

    // Each output of the run reached the client exactly once across the two connections.
    const outputs = [...seen, ...resumed]
      .filter((f) => f.event === 'output' && f.data?.output?.run_id === submitted.run_id)
      .map((f) => f.data.output.content);
    assert.deepEqual(outputs, ['one', 'two'], 'output frames across the restart');
    assert.equal(
      [...seen, ...resumed].filter(completedFrame(submitted.run_id)).length,
      1,
      'one completed frame',
    );

    // And the two connections together hold exactly the durable history from the first frame on:
    // a full replay (Last-Event-ID 0) after the run finished is the reference.
    const full = await openStream(rig.url + streamPath, { 'last-event-id': '0' });
    await waitForFrame(full, 'the full replay to reach the completion', completedFrame(submitted.run_id));
    full.close();
    await full.ended;
    const firstId = BigInt(seen[0]!.id!);
    const endId = BigInt(full.frames.find(completedFrame(submitted.run_id))!.id!);
    const reference = full.frames.filter(
      (f) => isDurable(f) && BigInt(f.id!) >= firstId && BigInt(f.id!) <= endId,
    );
    const got = [...seen, ...resumed].filter((f) => isDurable(f) && BigInt(f.id!) <= endId);
    assert.deepEqual(
      got.map((f) => `${f.id} ${f.event}`),
      reference.map((f) => `${f.id} ${f.event}`),
      'durable frames seen across the restart equal the replayed history',
    );

    const [run] = await waitTerminal(rig.url, [submitted.run_id]);
    assertCleanRun(run, await runEvents(rig.url, run.run_id), ['one', 'two']);
    await assertQuiescent(rig.url, 'after restart:');
  });
});
