// Output delivery, ingress-free: from the moment a run's output is persisted (its `output` run
// event's timestamp) to the moment a local receiver has the POST, against a bare HTTP POST of the
// same JSON body from this process to the same receiver. Latency: runs one after another on one
// session. Throughput of the queue alone: `sessions` sessions, each with its own target (one
// target is FIFO, one attempt at a time); the receiver holds every request until all runs have
// finished (every output persisted, the deliveries queued), then lets go: deliveries ÷ (release →
// last arrival). SQLite.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { removeDir, startBenchDaemon, tempDir, writeScriptedRoutes } from './lib/daemon.ts';
import { Budget, round, type Summary, summarize, wallMs } from './lib/stats.ts';

export interface DeliveriesResult {
  store: 'sqlite';
  /** Output persisted → receiver got the POST, ms (one at a time). */
  latency_ms: Summary;
  /** A bare POST of the same body, send → receiver got it, ms. */
  bare_post_ms: Summary;
  throughput: { sessions: number; deliveries: number; per_s: number };
  /** The bare POST with as many senders as sessions. */
  bare_throughput_per_s: number;
}

interface Receiver {
  url: string;
  arrivals: Map<string, number>;
  /** Requests wait (unanswered, not counted) until release(). */
  hold(): void;
  release(): void;
  wait(key: string): Promise<number>;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const arrivals = new Map<string, number>();
  const waiters = new Map<string, (at: number) => void>();
  let gate: Promise<void> | null = null;
  let open = () => {};
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      if (gate) await gate;
      const at = wallMs();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { run_id: string };
      arrivals.set(body.run_id, at);
      waiters.get(body.run_id)?.(at);
      res.writeHead(200).end();
    });
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrivals,
    hold: () => {
      gate = new Promise((r) => {
        open = r;
      });
    },
    release: () => {
      gate = null;
      open();
    },
    wait: (key) => {
      const seen = arrivals.get(key);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((r) => waiters.set(key, r));
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const json = async (url: string, method: string, body?: unknown) => {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${url} answered ${res.status}: ${text}`);
  return JSON.parse(text);
};

/** When the run's output was persisted: the `output` run event's timestamp. */
async function outputAt(base: string, runId: string): Promise<number> {
  for (;;) {
    const events = (await json(`${base}/v1/runs/${runId}/events`, 'GET')) as Array<{
      timestamp_ms: number;
      event: { type: string };
    }>;
    const out = events.find((e) => e.event.type === 'output');
    if (out) return out.timestamp_ms;
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function runDeliveries(opts: {
  runs: number;
  sessions: number;
  budgetMs: number;
}): Promise<DeliveriesResult> {
  const root = tempDir('kheish-bench-deliveries-');
  const rx = await startReceiver();
  const routes = writeScriptedRoutes(root, { default: { turns: [{ text: 'ok' }] } });
  const d = await startBenchDaemon({ stateRoot: join(root, 'state'), routesFile: routes });
  const target = (path: string) => [{ type: 'http', url: `${rx.url}${path}`, allow_private_network: true }];
  try {
    // Latency, one at a time.
    await json(`${d.url}/v1/sessions`, 'POST', { session_id: 'lat' });
    await json(`${d.url}/v1/sessions/lat/reply-targets`, 'PUT', target('/lat'));
    const budget = new Budget(opts.budgetMs);
    const latency: number[] = [];
    const bare: number[] = [];
    // The bare body: the size of a delivery's, keyed by what the receiver waits for.
    const sample = JSON.stringify({
      delivery_id: 'dlv-01m95stt788gsmfjnnx6cjtjrw',
      attempt: 1,
      run_id: '__KEY__',
      session_id: 'lat',
      content: 'ok',
      parts: [{ type: 'text', text: 'ok' }],
      artifacts: [],
      metadata: {},
    });
    for (let i = 0; i < opts.runs && !budget.expired; i++) {
      const run = await json(`${d.url}/v1/sessions/lat/runs`, 'POST', { content: `m${i}` });
      const arrived = await rx.wait(run.run_id);
      latency.push(arrived - (await outputAt(d.url, run.run_id)));
      // The floor: the same size of body, POSTed from here, timed to the receiver's arrival.
      const key = `bare-${i}`;
      const t0 = wallMs();
      await fetch(`${rx.url}/bare`, { method: 'POST', body: sample.replace('__KEY__', key) }).then((r) =>
        r.text(),
      );
      bare.push((await rx.wait(key)) - t0);
    }
    // Throughput: one target per session; the receiver holds requests until every output exists.
    rx.hold();
    for (let s = 0; s < opts.sessions; s++) {
      await json(`${d.url}/v1/sessions`, 'POST', { session_id: `tp${s}` });
      await json(`${d.url}/v1/sessions/tp${s}/reply-targets`, 'PUT', target(`/tp${s}`));
    }
    const perSession = Math.max(1, Math.floor(opts.runs / opts.sessions));
    const ids: string[] = [];
    await Promise.all(
      Array.from({ length: opts.sessions }, async (_, s) => {
        for (let i = 0; i < perSession; i++)
          ids.push((await json(`${d.url}/v1/sessions/tp${s}/runs`, 'POST', { content: `t${i}` })).run_id);
      }),
    );
    await Promise.all(ids.map((id) => outputAt(d.url, id)));
    const released = wallMs();
    rx.release();
    const arrivals = await Promise.all(ids.map((id) => rx.wait(id)));
    const span = Math.max(...arrivals) - released;
    // The bare floor at the same concurrency.
    const t0 = wallMs();
    await Promise.all(
      Array.from({ length: opts.sessions }, async (_, s) => {
        for (let i = 0; i < perSession; i++) {
          const key = `bt-${s}-${i}`;
          await fetch(`${rx.url}/bare`, { method: 'POST', body: sample.replace('__KEY__', key) }).then((r) =>
            r.text(),
          );
          await rx.wait(key);
        }
      }),
    );
    const bareSpan = wallMs() - t0;
    return {
      store: 'sqlite',
      latency_ms: summarize(latency),
      bare_post_ms: summarize(bare),
      throughput: {
        sessions: opts.sessions,
        deliveries: ids.length,
        per_s: round((ids.length / span) * 1000, 1),
      },
      bare_throughput_per_s: round((ids.length / bareSpan) * 1000, 1),
    };
  } finally {
    await d.stop();
    await rx.close();
    removeDir(root);
  }
}
