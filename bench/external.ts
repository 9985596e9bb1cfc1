// An external connector end to end (api-collab §6.8): a remote_http sidecar (the Python
// standard-library test sidecar) posts events; each becomes a run (scripted, one turn) whose answer
// the daemon POSTs back to the sidecar's /deliver. Measured: the ingress answer (POST …/events →
// 200 with the run id) and the whole trip (event sent → the sidecar committed the answer, same host
// clock), one event at a time, then the throughput of `concurrency` senders over a window. SQLite.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, removeDir, startBenchDaemon, tempDir, writeScriptedRoutes } from './lib/daemon.ts';
import { Budget, round, type Summary, summarize } from './lib/stats.ts';

export interface ExternalResult {
  store: 'sqlite';
  events: number;
  ingress_ms: Summary;
  end_to_end_ms: Summary;
  concurrency: number;
  window_events: number;
  events_per_s: number;
}

const TOKEN = 'bench-external-shared-token';

async function startSidecar(dir: string, daemonUrl: string): Promise<{ url: string; proc: ChildProcess }> {
  const portFile = join(dir, 'sidecar.port');
  const proc = spawn(
    'python3',
    [join(ROOT, 'test/fixtures/external-sidecar.py'), '--port', '0', '--daemon-url', daemonUrl],
    {
      env: {
        ...process.env,
        SIDECAR_PORT_FILE: portFile,
        KHEISH_EXTERNAL_CONNECTOR_NAME: 'bench',
        KHEISH_EXTERNAL_CONNECTOR_SHARED_TOKEN: TOKEN,
      },
      stdio: 'ignore',
    },
  );
  const deadline = Date.now() + 10_000;
  while (!existsSync(portFile)) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error('the bench sidecar did not start');
    await new Promise((r) => setTimeout(r, 20));
  }
  return { url: `http://127.0.0.1:${readFileSync(portFile, 'utf8')}`, proc };
}

async function committedAt(sidecar: string, route: string, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = (await (await fetch(`${sidecar}/deliveries`)).json()) as {
      committed: Array<{ reply_route: string; committed_at_ms: number }>;
    };
    const hit = s.committed.find((c) => c.reply_route === route);
    if (hit) return hit.committed_at_ms;
    if (Date.now() > deadline) throw new Error(`no delivery for ${route}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** When the last of `routes` was committed at the sidecar (waits for all of them). */
async function allCommitted(sidecar: string, routes: string[], timeoutMs = 120_000): Promise<number> {
  const want = new Set(routes);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = (await (await fetch(`${sidecar}/deliveries`)).json()) as {
      committed: Array<{ reply_route: string; committed_at_ms: number }>;
    };
    const mine = s.committed.filter((c) => want.has(c.reply_route));
    if (mine.length === want.size) return Math.max(0, ...mine.map((c) => c.committed_at_ms));
    if (Date.now() > deadline) throw new Error(`${want.size - mine.length} deliveries missing`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function runExternal(opts: {
  events: number;
  budgetMs: number;
  concurrency: number;
  windowMs: number;
}): Promise<ExternalResult> {
  const root = tempDir('kheish-bench-external-');
  const routesFile = writeScriptedRoutes(root, { default: { turns: [{ text: 'ack' }] } });
  const d = await startBenchDaemon({
    stateRoot: join(root, 'state'),
    routesFile,
    env: {
      BENCH_EXTERNAL_TOKEN: TOKEN,
      KHEISH_DELIVERY_INITIAL_RETRY_MS: '50',
    },
  });
  const sidecar = await startSidecar(root, d.url);
  try {
    const put = await fetch(`${d.url}/v1/runtime/connectors/external/bench`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        base_url: sidecar.url,
        allow_private_network: true,
        shared_token: { env: 'BENCH_EXTERNAL_TOKEN' },
        include_self_output: true,
        ingress_events_per_second: 100_000,
        session_policy: { create_if_missing: true },
      }),
    });
    if (put.status !== 200) throw new Error(`connector PUT answered ${put.status}: ${await put.text()}`);
    let n = 0;
    const send = async () => {
      const i = n++;
      const t0 = Date.now();
      const p0 = performance.now();
      const res = await fetch(`${d.url}/v1/connectors/external/bench/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({
          protocol_version: 2,
          event_id: `bench-${i}`,
          // One conversation per event: sessions never queue behind each other.
          routing_key: `bench-${i}`,
          content: 'ping',
          reply_route: `route-${i}`,
        }),
      });
      await res.text();
      if (res.status !== 200) throw new Error(`event answered ${res.status}`);
      return { i, t0, ingress: performance.now() - p0 };
    };
    const ingress: number[] = [];
    const trip: number[] = [];
    const budget = new Budget(opts.budgetMs);
    for (let k = 0; k < opts.events && !budget.expired; k++) {
      const r = await send();
      ingress.push(r.ingress);
      trip.push((await committedAt(sidecar.url, `route-${r.i}`)) - r.t0);
    }
    // Throughput: `concurrency` senders for the window; counted when the sidecar committed.
    const firstWindowed = n;
    const end = Date.now() + opts.windowMs;
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: opts.concurrency }, async () => {
        while (Date.now() < end) await send();
      }),
    );
    const windowEvents = n - firstWindowed;
    const done = await allCommitted(
      sidecar.url,
      Array.from({ length: windowEvents }, (_, k) => `route-${firstWindowed + k}`),
    );
    return {
      store: 'sqlite',
      events: ingress.length,
      ingress_ms: summarize(ingress),
      end_to_end_ms: summarize(trip),
      concurrency: opts.concurrency,
      window_events: windowEvents,
      // Until the last answer of the window was committed at the sidecar.
      events_per_s: round(windowEvents / ((Math.max(done, end) - t0) / 1000), 1),
    };
  } finally {
    sidecar.proc.kill('SIGKILL');
    await d.stop();
    removeDir(root);
  }
}
