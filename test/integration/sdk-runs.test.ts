// The SDK's run handles against live daemons: fromEnv with a token, routes, idempotent submits,
// questions answered through waitUntilBlocked, wait with raiseOnFailure and a timeout, problem
// errors; and a watch that survives a daemon crash and restart by resuming with Last-Event-ID.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import {
  DaemonProblemError,
  Kheish,
  KheishError,
  Route,
  RunFailedError,
  RunWaitTimeoutError,
  type SseFrame,
} from '../../src/sdk/index.ts';
import { startDaemon, tempDir } from '../helpers/daemon.ts';

const script = {
  rules: [
    {
      match: '^ask me$',
      turns: [
        {
          tool_calls: [
            {
              name: 'ask_user_question',
              arguments: {
                questions: [
                  {
                    id: 'color',
                    question: 'Which color?',
                    options: [
                      { id: 'blue', label: 'Blue' },
                      { id: 'red', label: 'Red' },
                    ],
                  },
                ],
              },
            },
          ],
        },
        { text: 'noted' },
      ],
    },
    { match: '^slow$', turns: [{ delay_ms: 60_000, text: 'slept' }] },
    {
      match: 'hello\\.txt',
      turns: [
        { tool_calls: [{ name: 'write_file', arguments: { path: 'hello.txt', content: 'hi' } }] },
        { text: 'wrote it' },
      ],
    },
  ],
  default: { turns: [{ text: 'ok' }] },
};

test('sdk run handles: token from the environment, routes, idempotency, questions, failures, timeouts, errors', async () => {
  const d = await startDaemon({ script, args: ['--http-admin-token', 'sdk-secret'] });
  try {
    const k = Kheish.fromEnv({ KHEISH_BASE_URL: d.url, KHEISH_TOKEN: 'sdk-secret' });
    assert.equal(k.baseUrl, d.url);
    assert.equal(Kheish.fromEnv({}).baseUrl, 'http://127.0.0.1:4000');
    await assert.rejects(Kheish.fromEnv({ KHEISH_BASE_URL: d.url }).runs.list(), (err) => {
      assert.ok(err instanceof DaemonProblemError && err.status === 401, String(err));
      return true;
    });

    // A route with a model is pinned on the run; an unknown route is a problem document.
    const routed = await k.responses.create({
      session: 'r',
      prompt: 'hi',
      route: Route.of('local', 'scripted'),
    });
    assert.deepEqual([routed.run.request?.provider, routed.run.request?.model], ['local', 'scripted']);
    assert.equal((await routed.wait({ raiseOnFailure: true })).output_text, 'ok');
    await assert.rejects(k.responses.create({ session: 'r', prompt: 'hi', route: 'nowhere' }), (err) => {
      assert.ok(err instanceof DaemonProblemError);
      assert.deepEqual([err.status, err.domain], [400, 'routes']);
      return true;
    });

    // The same idempotency key gives the same run, not a second one.
    const a = await k.responses.create({ session: 'idem', prompt: 'hi', idempotency_key: 'order-1' });
    const b = await k.responses.create({ session: 'idem', prompt: 'hi', idempotency_key: 'order-1' });
    assert.equal(b.run_id, a.run_id);

    // A question: wait until blocked, answer with an option id, then the run ends.
    const asking = await k.responses.create({ session: 'q', prompt: 'ask me' });
    const blocked = await asking.waitUntilBlocked();
    assert.ok(blocked.requiresQuestion && !blocked.requiresApproval);
    assert.equal(blocked.pendingQuestions[0]?.questions[0]?.id, 'color');
    assert.equal((await k.questions.list({ session_id: 'q' })).length, 1);
    await blocked.answer({ color: ['blue'] });
    const answered = await asking.wait({ raiseOnFailure: true });
    assert.deepEqual([answered.status, answered.output_text], ['completed', 'noted']);
    assert.equal((await k.questions.list({ session_id: 'q' })).length, 0);

    // A run still going: wait gives up after its timeout, the run goes on; cancelled, it fails.
    const slow = await k.responses.create({ session: 'slow', prompt: 'slow' });
    await assert.rejects(slow.wait({ timeoutMs: 200 }), RunWaitTimeoutError);
    assert.ok(['queued', 'running'].includes((await slow.get()).status));
    await slow.cancel();
    await assert.rejects(slow.wait({ raiseOnFailure: true }), (err) => {
      assert.ok(err instanceof RunFailedError && err instanceof KheishError);
      assert.deepEqual([err.runId, err.runStatus], [slow.run_id, 'cancelled']);
      return true;
    });
    const settled = await slow.wait();
    assert.deepEqual([settled.status, settled.output_text], ['cancelled', '']);

    // Errors carry the problem+json fields.
    await assert.rejects(k.runs.get('run-nope'), (err) => {
      assert.ok(err instanceof DaemonProblemError);
      assert.deepEqual(
        [err.status, err.domain, err.code, err.detail],
        [404, 'runs', 'run_not_found', 'run run-nope was not found'],
      );
      return true;
    });
  } finally {
    await d.stop();
    await d.cleanup();
  }
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

test('sdk run.watch survives a daemon crash: it reconnects with Last-Event-ID and yields each event once', async () => {
  const port = await freePort();
  const ws = tempDir('kheish-sdk-ws-');
  let d = await startDaemon({ script, args: ['--bind', `127.0.0.1:${port}`, '--workspace-root', ws] });
  try {
    const frames: SseFrame[] = [];
    // Each stream request: the Last-Event-ID it sent, and the id of the last frame yielded so far
    // (the watch is pulled, so nothing is in flight between the two).
    const connects: Array<{ sent: string | null; seen: string | undefined }> = [];
    const recording: typeof fetch = (input, init) => {
      if (String(input).includes('/stream'))
        connects.push({
          sent: new Headers(init?.headers).get('last-event-id'),
          seen: frames.findLast((f) => f.id !== undefined)?.id,
        });
      return fetch(input, init);
    };
    const k = new Kheish({ baseUrl: d.url, fetch: recording });
    const run = await k.responses.create({ session: 'crash', prompt: 'write hello.txt' });

    let parked!: () => void;
    const isParked = new Promise<void>((r) => {
      parked = r;
    });
    const watching = (async () => {
      for await (const f of run.watch({ maxRetries: 40 })) {
        frames.push(f);
        if (f.event === 'run_updated' && f.data.run.status === 'waiting_for_approval') parked();
      }
    })();
    await isParked;
    await d.kill();
    d = await d.restart();
    assert.equal(d.url, `http://127.0.0.1:${port}`);
    // The approval waited durably through the crash.
    const view = await run.approve({ justification: 'after the restart' });
    assert.ok(['running', 'completed'].includes(view.status), view.status);
    await watching;

    // Live-only frames (text deltas) carry no id; every stored one comes once, in order.
    const ids = frames.filter((f) => f.id !== undefined).map((f) => BigInt(f.id!));
    assert.ok(
      ids.every((id, i) => i === 0 || id > ids[i - 1]!),
      'ids strictly increase: no frame twice',
    );
    assert.ok(connects.length >= 2, 'the watch reconnected');
    assert.deepEqual(
      connects[0],
      { sent: '0', seen: undefined },
      'the first connection replays from the run start',
    );
    for (const c of connects.slice(1))
      assert.equal(c.sent, c.seen, 'a reconnect resumes after the last id seen');
    const statuses = frames.filter((f) => f.event === 'run_updated').map((f) => f.data.run.status);
    assert.equal(statuses.at(-1), 'completed');
    assert.ok(frames.some((f) => f.event === 'output' && f.data.output.content === 'wrote it'));
    assert.equal(run.status, 'completed');
  } finally {
    await d.stop();
    await d.cleanup();
  }
});
