// Reliability: API fuzzing with fast-check. Random and mutated requests against every route of
// /v1/openapi.json (and a few it does not list) for a fixed budget: no 5xx, every error is a
// problem document whose fields agree with the HTTP status, the daemon never dies, and afterwards
// the state passes the invariant check.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { startDaemon } from '../helpers/daemon.ts';
import { FUZZ_MAX_MS, FUZZ_REQUESTS, SEED } from './config.ts';
import { type FuzzRequest, type KnownIds, requestArb, routesOf } from './fuzz-requests.ts';
import { checkInvariants, snapshot } from './invariants.ts';
import { inputFor, SCRIPT } from './scripts.ts';
import { newOperator, settle } from './workload.ts';

const CONCURRENCY = 4;

interface Outcome {
  status: number;
  problem: string | null;
  runId?: string;
}

/** Sends one request; SSE answers are closed once their head is in. Null: the client refused to send it. */
async function send(base: string, req: FuzzRequest): Promise<Outcome | null> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 15_000);
  let res: Response;
  try {
    res = await fetch(base + req.path + req.query, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal: ac.signal,
    });
  } catch (err) {
    clearTimeout(timer);
    // undici refuses some header values and bodies before anything reaches the daemon.
    if (err instanceof TypeError && !/fetch failed/.test(err.message)) return null;
    if (ac.signal.aborted) return { status: 0, problem: 'no answer within 15 s' };
    throw new Error(
      `${req.method} ${req.path}: ${(err as Error).message} (${String((err as any).cause ?? '')})`,
    );
  }
  try {
    const type = res.headers.get('content-type') ?? '';
    if (res.status === 200 && type.startsWith('text/event-stream')) {
      ac.abort();
      return { status: 200, problem: null };
    }
    const text = req.method === 'HEAD' ? '' : await res.text();
    if (res.status >= 500) return { status: res.status, problem: `server error: ${text.slice(0, 300)}` };
    if (res.status >= 400 && req.method !== 'HEAD')
      return { status: res.status, problem: problemIssue(res.status, type, text) };
    const runId =
      res.status === 202 && type.includes('json') ? (JSON.parse(text).run_id as string) : undefined;
    return { status: res.status, problem: null, runId };
  } finally {
    clearTimeout(timer);
  }
}

function problemIssue(status: number, type: string, text: string): string | null {
  if (!type.startsWith('application/problem+json'))
    return `content-type ${type} for ${status}: ${text.slice(0, 200)}`;
  let p: any;
  try {
    p = JSON.parse(text);
  } catch {
    return `problem body is not JSON: ${text.slice(0, 200)}`;
  }
  for (const k of ['type', 'title', 'detail', 'code'])
    if (typeof p[k] !== 'string') return `problem without string ${k}: ${text.slice(0, 200)}`;
  if (p.status !== status) return `problem status ${p.status} ≠ HTTP ${status}`;
  if (p.type !== `urn:kheish:problem:${p.code}`) return `problem type ${p.type} does not name code ${p.code}`;
  return null;
}

test(`reliability fuzz: ${FUZZ_REQUESTS} random and mutated requests on every route: no 5xx, problem+json errors, daemon alive, invariants hold (seed ${SEED})`, {
  // The request loop stops at FUZZ_MAX_MS; the rest is daemon start, the invariant check and teardown.
  timeout: FUZZ_MAX_MS + 120_000,
}, async (t) => {
  const daemon = await startDaemon({ script: SCRIPT, args: ['--event-history-capacity', '262144'] });
  const op = newOperator();
  try {
    const openapi = (await (await fetch(`${daemon.url}/v1/openapi.json`)).json()) as any;
    const routes = routesOf(openapi);
    assert.ok(routes.length >= 20, `openapi lists ${routes.length} routes`);
    // Real ids to aim at, so mutated ids land next to existing resources.
    const known: KnownIds = { sessions: [], runs: [], cursors: [] };
    for (let i = 0; i < 4; i++) {
      const s = (await (await fetch(`${daemon.url}/v1/sessions`, { method: 'POST' })).json()) as any;
      known.sessions.push(s.session_id);
      const r = await fetch(`${daemon.url}/v1/sessions/${s.session_id}/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content: inputFor(i % 2 ? 'tools' : 'text', i) }),
      });
      const run = (await r.json()) as any;
      known.runs.push(run.run_id);
      op.ledger.acked.add(run.run_id);
    }
    await settle(daemon.url, op);
    const status = (await (await fetch(`${daemon.url}/v1/status`)).json()) as any;
    known.cursors.push(status.events.tail_event_id_cursor, status.events.oldest_event_id);

    // Bad answers grouped by kind (status + the start of the issue), one example each.
    const failures = new Map<string, { count: number; example: string }>();
    const byStatus = new Map<number, number>();
    let sent = 0;
    let refused = 0;
    const started = Date.now();
    const arb = requestArb(routes, known);
    for (let batch = 0; sent + refused < FUZZ_REQUESTS && Date.now() - started < FUZZ_MAX_MS; batch++) {
      const reqs = fc.sample(arb, {
        numRuns: Math.min(100, FUZZ_REQUESTS - sent - refused),
        seed: SEED + batch,
      });
      for (let i = 0; i < reqs.length; i += CONCURRENCY) {
        const outcomes = await Promise.all(
          reqs.slice(i, i + CONCURRENCY).map((req) => send(daemon.url, req)),
        );
        outcomes.forEach((o, k) => {
          const req = reqs[i + k]!;
          if (o === null) {
            refused++;
            return;
          }
          sent++;
          byStatus.set(o.status, (byStatus.get(o.status) ?? 0) + 1);
          if (o.runId) op.ledger.acked.add(o.runId);
          if (!o.problem) return;
          const kind = `${o.status} ${o.problem.replace(/'[^']*'/g, "'…'").slice(0, 90)}`;
          const seen = failures.get(kind);
          if (seen) seen.count++;
          else
            failures.set(kind, {
              count: 1,
              example: `${req.method} ${req.path.slice(0, 120)}${req.query.slice(0, 80)} headers=${JSON.stringify(req.headers).slice(0, 160)} body=${String(req.body).slice(0, 100)} → ${o.status}: ${o.problem.slice(0, 300)}`,
            });
        });
        assert.equal(daemon.proc.exitCode, null, `the daemon died:\n${daemon.logs().slice(-3000)}`);
      }
    }
    const health = await fetch(`${daemon.url}/healthz`);
    assert.equal(health.status, 200, 'daemon healthy after fuzzing');
    t.diagnostic(
      `${sent} requests in ${Date.now() - started} ms (${refused} refused client-side); statuses ${JSON.stringify(Object.fromEntries([...byStatus].sort((a, b) => a[0] - b[0])))}`,
    );
    const report = [...failures.values()].map((f) => `${f.count}× e.g. ${f.example}`);
    assert.deepEqual(report, [], `${report.length} kinds of bad answers`);
    await settle(daemon.url, op);
    const violations = [
      ...op.violations,
      ...checkInvariants(await snapshot(daemon.url, daemon.stateRoot), op.ledger),
    ];
    assert.deepEqual(violations.slice(0, 20), [], `${violations.length} invariant violations after fuzzing`);
  } finally {
    await daemon.kill();
    daemon.cleanup();
  }
});
