// A random operator: creates sessions, submits runs of every scripted kind (some with
// idempotency keys, some inline), cancels, interrupts and ends, until told to stop. It records
// what the daemon acknowledged in the ledger and any answer that is already wrong on its own
// (a 5xx, a non-problem error, an idempotent resubmit that returned another run).
import type { Ledger } from './invariants.ts';
import { inputFor, KIND_NAMES, KINDS, type Kind, type KindName, kindOf } from './scripts.ts';

export interface Operator {
  ledger: Ledger;
  sessions: string[];
  /** Answers that are wrong by themselves, found while working. */
  violations: string[];
  counter: number;
}

export const newOperator = (): Operator => ({
  ledger: { acked: new Set() },
  sessions: [],
  violations: [],
  counter: 0,
});

interface Res {
  status: number;
  type: string;
  body: any;
}

/** One request; `null` when the connection failed (the daemon was killed under it). */
async function call(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Res | null> {
  try {
    const res = await fetch(url + path, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    return { status: res.status, type, body: type.includes('json') && text ? JSON.parse(text) : text };
  } catch {
    return null;
  }
}

function judge(op: Operator, what: string, res: Res | null): Res | null {
  if (!res) return null;
  if (res.status >= 500) op.violations.push(`${what} → ${res.status}: ${JSON.stringify(res.body)}`);
  else if (res.status >= 400 && !res.type.startsWith('application/problem+json'))
    op.violations.push(`${what} → ${res.status} with content-type ${res.type}`);
  return res;
}

const pick = <T>(r: () => number, xs: readonly T[]): T | undefined => xs[Math.floor(r() * xs.length)];

/** Kinds a crash-loop run may have: the ones that finish on their own, and hangs to cancel. */
const RANDOM_KINDS: KindName[] = KIND_NAMES;

export async function act(url: string, op: Operator, r: () => number): Promise<void> {
  const x = r();
  const sid = pick(r, op.sessions);
  if (!sid || x < 0.12) {
    const res = judge(op, 'create session', await call(url, 'POST', '/v1/sessions', {}));
    if (res?.status === 201) op.sessions.push(res.body.session_id);
    return;
  }
  const n = op.counter++;
  if (x < 0.6) {
    const kind = pick(r, RANDOM_KINDS)!;
    const res = judge(
      op,
      'submit',
      await call(url, 'POST', `/v1/sessions/${sid}/runs`, { content: inputFor(kind, n) }),
    );
    if (res?.status === 202) op.ledger.acked.add(res.body.run_id);
  } else if (x < 0.7) {
    const key = `k-${n}`;
    const body = { content: inputFor(pick(r, ['text', 'tools', 'flaky'] as KindName[])!, n) };
    const first = judge(
      op,
      'idempotent submit',
      await call(url, 'POST', `/v1/sessions/${sid}/runs`, body, { 'idempotency-key': key }),
    );
    if (first?.status !== 202) return;
    op.ledger.acked.add(first.body.run_id);
    const again = judge(
      op,
      'idempotent resubmit',
      await call(url, 'POST', `/v1/sessions/${sid}/runs`, body, { 'idempotency-key': key }),
    );
    if (again && again.status === 202 && again.body.run_id !== first.body.run_id)
      op.violations.push(
        `idempotent resubmit with key ${key} gave ${again.body.run_id}, first ${first.body.run_id}`,
      );
    if (again && again.status !== 202) op.violations.push(`idempotent resubmit → ${again.status}`);
  } else if (x < 0.78) {
    judge(
      op,
      'inline input',
      await call(url, 'POST', `/v1/sessions/${sid}/input`, { content: inputFor('text', n) }),
    );
  } else if (x < 0.9) {
    const id = pick(r, [...op.ledger.acked]);
    if (id) judge(op, 'cancel', await call(url, 'POST', `/v1/runs/${id}/cancel`));
  } else if (x < 0.97) {
    judge(op, 'interrupt', await call(url, 'POST', `/v1/sessions/${sid}/interrupt`));
  } else {
    judge(op, 'end session', await call(url, 'POST', `/v1/sessions/${sid}/end`, {}));
    op.sessions.splice(op.sessions.indexOf(sid), 1);
  }
}

/** Runs `workers` random operators side by side until `stop()` resolves. */
export async function workUntil(
  url: string,
  op: Operator,
  r: () => number,
  workers: number,
  stop: Promise<void>,
) {
  let stopped = false;
  void stop.then(() => {
    stopped = true;
  });
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (!stopped) await act(url, op, r);
    }),
  );
}

/**
 * Waits until every run is terminal, cancelling runs whose model call hangs (that is the
 * operator's job for them). Fails with the runs still live after `timeoutMs`.
 */
export async function settle(
  url: string,
  op: Operator,
  timeoutMs = 30_000,
  cancelHangs = true,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = judge(op, 'list runs', await call(url, 'GET', '/v1/runs'));
    if (res?.status !== 200) throw new Error(`GET /v1/runs failed while settling: ${JSON.stringify(res)}`);
    const live = (res.body as any[]).filter(
      (run) => !['completed', 'failed', 'interrupted', 'cancelled'].includes(run.status),
    );
    if (live.length === 0) return;
    for (const run of live) {
      const kind = kindOf(run.request?.text_preview);
      if (cancelHangs && run.status === 'running' && kind && (KINDS[kind] as Kind).hangs)
        judge(op, 'cancel hang', await call(url, 'POST', `/v1/runs/${run.run_id}/cancel`));
    }
    if (Date.now() > deadline)
      throw new Error(
        `runs still live after ${timeoutMs} ms: ${live.map((l) => `${l.run_id}=${l.status}`).join(', ')}`,
      );
    // Listing every run is not free: poll less often when there are many.
    await new Promise((r) => setTimeout(r, Math.max(50, (res.body as any[]).length / 10)));
  }
}
