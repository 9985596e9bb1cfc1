// Connector ingress (issue 16): what an HTTP connector event costs over a plain run submission,
// and how long an event takes to come back as an answer at a reply URL. One SQLite daemon:
//   - accept: POST /v1/connectors/http/{name} → 202 (bearer auth, receipt, binding, run in one
//     commit), one client, beside POST /v1/sessions/{id}/runs → 202 for the same input (ratio);
//   - throughput: the same two with `concurrency` closed-loop clients (events/s vs runs/s);
//   - end to end: event sent → the run's answer POSTed to a local receiver (the delivery queue's
//     http plugin), one event at a time.
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { closedLoop, type LoopResult } from './lib/closed-loop.ts';
import { removeDir, startBenchDaemon, tempDir, writeScriptedRoutes } from './lib/daemon.ts';
import { Budget, round, type Summary, summarize, wallMs } from './lib/stats.ts';

export interface IngressBenchResult {
  store: 'sqlite';
  accept_ms: Summary;
  submit_ms: Summary;
  /** accept p50 ÷ submit p50 (1 = an event costs what a plain submission does). */
  accept_ratio: number;
  concurrency: number;
  ingress: LoopResult;
  submit: LoopResult;
  /** ingress events/s ÷ submissions/s. */
  throughput_ratio: number;
  /** Event sent → answer received at the reply URL. */
  end_to_end_ms: Summary;
}

const TOKEN = 'bench-connector-token';
const SESSIONS = 8;

function receiver(): Promise<{ server: Server; port: number; waitFor(runId: string): Promise<number> }> {
  const waiting = new Map<string, (at: number) => void>();
  const early = new Map<string, number>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const at = wallMs();
      res.writeHead(200).end();
      try {
        const runId = JSON.parse(body).run_id as string;
        const w = waiting.get(runId);
        if (w) w(at);
        else early.set(runId, at);
      } catch {
        // Not a delivery: ignored.
      }
    });
  });
  return new Promise((done) =>
    server.listen(0, '127.0.0.1', () =>
      done({
        server,
        port: (server.address() as { port: number }).port,
        waitFor: (runId) =>
          new Promise<number>((resolve) => {
            const at = early.get(runId);
            if (at !== undefined) resolve(at);
            else waiting.set(runId, resolve);
          }),
      }),
    ),
  );
}

export async function runIngress(opts: {
  samples: number;
  concurrency: number;
  windowMs: number;
  endToEnd: number;
  budgetMs: number;
}): Promise<IngressBenchResult> {
  const root = tempDir('kheish-bench-ingress-');
  const routes = writeScriptedRoutes(root, { default: { turns: [{ text: 'ok' }] } });
  const rx = await receiver();
  const d = await startBenchDaemon({
    stateRoot: join(root, 'state'),
    routesFile: routes,
    env: { BENCH_CONNECTOR_TOKEN: TOKEN },
  });
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(d.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status !== 202) throw new Error(`${path} answered ${res.status}: ${text.slice(0, 200)}`);
    return JSON.parse(text) as { run_id: string };
  };
  try {
    for (let i = 0; i < SESSIONS; i++)
      await post('/v1/sessions', { session_id: `bench-${i}` }).catch(() => null);
    const setup = await fetch(`${d.url}/v1/runtime/connectors/http/bench`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        bearer_token: { env: 'BENCH_CONNECTOR_TOKEN' },
        ingress_events_per_second: 1_000_000,
        session_policy: { create_if_missing: true },
      }),
    });
    if (setup.status !== 200)
      throw new Error(`connector setup answered ${setup.status}: ${await setup.text()}`);
    const auth = { authorization: `Bearer ${TOKEN}` };
    let n = 0;
    const event = () => {
      const k = n++;
      return { content: `event ${k}`, idempotency_key: `e-${k}`, session_id: `bench-${k % SESSIONS}` };
    };
    const submission = () => {
      const k = n++;
      return { path: `/v1/sessions/bench-${k % SESSIONS}/runs`, body: { content: `event ${k}` } };
    };

    // Alternate the two so both see the same load and the same database size.
    const accept: number[] = [];
    const submit: number[] = [];
    const budget = new Budget(opts.budgetMs);
    for (let i = 0; i < opts.samples && !budget.expired; i++) {
      let t0 = performance.now();
      await post('/v1/connectors/http/bench', event(), auth);
      accept.push(performance.now() - t0);
      const s = submission();
      t0 = performance.now();
      await post(s.path, s.body);
      submit.push(performance.now() - t0);
    }

    // Each measured phase starts with no run left from the previous one (they would share the CPU).
    const idle = async () => {
      for (;;) {
        const runs = ((await (await fetch(`${d.url}/v1/status`)).json()) as { runs?: Record<string, number> })
          .runs;
        if (!runs || (runs.queued ?? 0) + (runs.running ?? 0) === 0) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const attempt = async (fn: () => Promise<unknown>) => {
      try {
        await fn();
        return { at: wallMs() };
      } catch (err) {
        return { error: String(err) };
      }
    };
    await idle();
    const ingress = await closedLoop(opts.concurrency, opts.windowMs, 1e9, () =>
      attempt(() => post('/v1/connectors/http/bench', event(), auth)),
    );
    await idle();
    const plain = await closedLoop(opts.concurrency, opts.windowMs, 1e9, () => {
      const s = submission();
      return attempt(() => post(s.path, s.body));
    });

    // End to end: a connector whose answers go to the local receiver, one event at a time.
    const e2eSetup = await fetch(`${d.url}/v1/runtime/connectors/http/bench-e2e`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        bearer_token: { env: 'BENCH_CONNECTOR_TOKEN' },
        fixed_session_id: 'bench-e2e',
        ingress_events_per_second: 1_000_000,
        session_policy: { create_if_missing: true },
        default_reply_targets: [
          {
            plugin: 'http',
            address: JSON.stringify({ url: `http://127.0.0.1:${rx.port}/r`, allow_private_network: true }),
          },
        ],
      }),
    });
    if (e2eSetup.status !== 200)
      throw new Error(`e2e connector answered ${e2eSetup.status}: ${await e2eSetup.text()}`);
    await idle();
    const e2e: number[] = [];
    const e2eBudget = new Budget(opts.budgetMs);
    for (let i = 0; i < opts.endToEnd && !e2eBudget.expired; i++) {
      const t0 = wallMs();
      const { run_id } = await post(
        '/v1/connectors/http/bench-e2e',
        { content: `e2e ${i}`, idempotency_key: `x-${i}` },
        auth,
      );
      const at = await Promise.race([
        rx.waitFor(run_id),
        new Promise<number>((_, reject) =>
          setTimeout(() => reject(new Error(`no delivery for ${run_id}`)), 30_000),
        ),
      ]);
      e2e.push(at - t0);
    }

    const a = summarize(accept);
    const s = summarize(submit);
    return {
      store: 'sqlite',
      accept_ms: a,
      submit_ms: s,
      accept_ratio: round(a.p50 / s.p50, 3),
      concurrency: opts.concurrency,
      ingress,
      submit: plain,
      throughput_ratio: round(ingress.per_s / plain.per_s, 3),
      end_to_end_ms: summarize(e2e),
    };
  } finally {
    await d.stop();
    rx.server.close();
    removeDir(root);
  }
}
