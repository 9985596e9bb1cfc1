// Shared assertions for the api-core conformance tests (spec: ../shared/spec/api-core.md §15).
import assert from 'node:assert/strict';
import type { HttpResult, SseFrame } from '../helpers/daemon.ts';
import { http } from '../helpers/daemon.ts';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Items #2 and #3: the problem+json shape every non-2xx control-plane response must have. */
export function assertProblemShape(res: HttpResult, where = ''): void {
  const ctx = `${where} -> ${res.status} ${res.text.slice(0, 300)}`;
  assert.ok(res.status >= 400, `expected an error status: ${ctx}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, `content-type: ${ctx}`);
  const b = res.body;
  assert.equal(typeof b, 'object', `body is JSON: ${ctx}`);
  for (const k of ['type', 'title', 'detail', 'code'])
    assert.equal(typeof b[k], 'string', `${k} is a string: ${ctx}`);
  assert.ok(Number.isInteger(b.status), `status is an integer: ${ctx}`);
  assert.equal(b.status, res.status, `body status equals HTTP status: ${ctx}`);
  assert.equal(b.type, `urn:kheish:problem:${b.code}`, `type derives from code: ${ctx}`);
  assert.equal(b.title, TITLES[res.status] ?? 'Daemon Error', `title derives from status: ${ctx}`);
  if ('domain' in b) assert.equal(typeof b.domain, 'string', `domain is a string when present: ${ctx}`);
}

/** Asserts a problem response with the given status and (optionally) domain/code. */
export function assertProblem(
  res: HttpResult,
  status: number,
  domain?: string | null,
  code?: string,
  where = '',
): void {
  const ctx = `${where} -> ${res.status} ${res.text.slice(0, 300)}`;
  assert.equal(res.status, status, `status: ${ctx}`);
  assertProblemShape(res, where);
  if (domain === null) assert.equal(res.body.domain, undefined, `no domain expected: ${ctx}`);
  else if (domain !== undefined) assert.equal(res.body.domain, domain, `domain: ${ctx}`);
  if (code !== undefined) assert.equal(res.body.code, code, `code: ${ctx}`);
}

export const TERMINAL = ['completed', 'failed', 'interrupted', 'cancelled'];
export const ACTIVE = ['running', 'waiting_for_approval', 'waiting_for_user_question'];

import { LEGAL as ORACLE } from '../helpers/run-states-oracle.ts';

/** The §3.8 oracle, indexable by any status string the API returns. */
export const LEGAL: Record<string, string[]> = ORACLE;

/** Status reached by each run-event type (events that do not move the status map to null). */
const STATUS_OF_EVENT: Record<string, string | null> = {
  accepted: null,
  queued: 'queued',
  started: 'running',
  waiting_for_approval: 'waiting_for_approval',
  approval_resolved: null,
  waiting_for_user_question: 'waiting_for_user_question',
  user_question_resolved: null,
  parent_clarification_resolved: null,
  output: null,
  // Our extension: step traces (docs/events.md) are listed with the run's events.
  trace: null,
  completed: 'completed',
  failed: 'failed',
  interrupted: 'interrupted',
  cancelled: 'cancelled',
};

/** Item #42: the statuses implied by a run's events, checked against §3.8. Returns the sequence. */
export function assertLegalEventSequence(events: Array<{ event: { type: string } }>, where = ''): string[] {
  const statuses: string[] = [];
  let terminalSeen = false;
  for (const e of events) {
    assert.ok(e.event.type in STATUS_OF_EVENT, `${where}: unknown run event type ${e.event.type}`);
    assert.ok(!terminalSeen, `${where}: event ${e.event.type} after a terminal event`);
    const s = STATUS_OF_EVENT[e.event.type];
    if (s === null || s === undefined) continue;
    const prev = statuses.at(-1);
    if (prev !== undefined && prev !== s)
      assert.ok(
        LEGAL[prev]!.includes(s),
        `${where}: illegal transition ${prev} -> ${s} in ${JSON.stringify(events.map((x) => x.event.type))}`,
      );
    statuses.push(s);
    if (TERMINAL.includes(s)) terminalSeen = true;
  }
  return statuses;
}

/** Asserts that consecutive run statuses follow §3.8 (duplicates allowed). */
export function assertLegalStatuses(statuses: string[], where = ''): void {
  for (let i = 1; i < statuses.length; i++) {
    const [a, b] = [statuses[i - 1]!, statuses[i]!];
    if (a !== b) assert.ok(LEGAL[a]!.includes(b), `${where}: illegal ${a} -> ${b} in ${statuses.join(',')}`);
  }
}

/** The session id an SSE frame belongs to (§2.3 scope column); undefined when unscoped. */
export function frameSessionId(f: SseFrame): string | undefined {
  const d = f.data ?? {};
  switch (f.event) {
    case 'trace':
      return d.trace?.session_id;
    case 'output':
      return d.output?.session_id;
    case 'run_updated':
      return d.run?.session_id;
    case 'session_state_changed':
    case 'session_snapshot':
    case 'session_goal_updated':
    case 'interrupted':
      return d.session_id;
    default:
      return undefined;
  }
}

/** The run id an SSE frame belongs to (trace/output/run_updated only). */
export function frameRunId(f: SseFrame): string | undefined {
  const d = f.data ?? {};
  if (f.event === 'trace') return d.trace?.run_id;
  if (f.event === 'output') return d.output?.run_id;
  if (f.event === 'run_updated') return d.run?.run_id;
  return undefined;
}

export const isDelta = (f: SseFrame): boolean =>
  f.event === 'trace' && f.data?.trace?.kind === 'assistant_text_delta';

export async function createSession(
  base: string,
  sessionId?: string,
  headers?: Record<string, string>,
): Promise<string> {
  const res = await http(
    base,
    'POST',
    '/v1/sessions',
    sessionId === undefined ? {} : { session_id: sessionId },
    headers,
  );
  assert.equal(res.status, 201, res.text);
  return res.body.session_id as string;
}

export async function submitRun(
  base: string,
  sessionId: string,
  body: unknown,
  headers?: Record<string, string>,
) {
  const res = await http(base, 'POST', `/v1/sessions/${sessionId}/runs`, body, headers);
  assert.equal(res.status, 202, res.text);
  return res.body;
}

export async function runCount(base: string, sessionId: string): Promise<number> {
  const res = await http(base, 'GET', `/v1/runs?session_id=${encodeURIComponent(sessionId)}`);
  assert.equal(res.status, 200, res.text);
  return (res.body as unknown[]).length;
}

/** The script used by the conformance daemons (ARCHITECTURE.md §6). */
export const SCRIPT = {
  rules: [
    { match: 'slow', turns: [{ delay_ms: 800, text: 'slept' }] },
    { match: 'fail', turns: [{ error: { status: 400, message: 'scripted provider rejected the request' } }] },
    {
      match: 'long answer',
      turns: [{ text: 'a fairly long answer that the driver streams in several deltas' }],
    },
  ],
  default: { turns: [{ text: 'ok' }] },
};

export interface SseConn {
  status: number;
  contentType: string | null;
  /** Body of a non-200 answer (a problem document), parsed when it is JSON. */
  body: any;
  frames: SseFrame[];
  /** Resolves once `pred(frames)` holds; rejects after `timeoutMs` with what was received. */
  waitFor(pred: (frames: SseFrame[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): void;
}

/** Opens an SSE stream and keeps reading in the background; resolves once headers arrived. */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseConn> {
  const ac = new AbortController();
  const res = await fetch(url, { headers, signal: ac.signal });
  const frames: SseFrame[] = [];
  const listeners = new Set<() => void>();
  const conn: SseConn = {
    status: res.status,
    contentType: res.headers.get('content-type'),
    body: undefined,
    frames,
    close: () => ac.abort(),
    waitFor: (pred, what, timeoutMs = 8000) =>
      new Promise<void>((resolve, reject) => {
        if (pred(frames)) return resolve();
        const timer = setTimeout(() => {
          listeners.delete(check);
          const seen = frames.map((f) => `${f.id ?? '-'} ${f.event}`).join('\n  ');
          reject(new Error(`timed out waiting for ${what}; received:\n  ${seen}`));
        }, timeoutMs);
        const check = () => {
          if (!pred(frames)) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve();
        };
        listeners.add(check);
      }),
  };
  if (res.status !== 200 || !res.body) {
    const text = await res.text();
    try {
      conn.body = JSON.parse(text);
    } catch {
      conn.body = text;
    }
    return conn;
  }
  const body = res.body;
  void (async () => {
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of body) {
      buf += decoder.decode(chunk as Uint8Array, { stream: true });
      for (let idx = buf.indexOf('\n\n'); idx >= 0; idx = buf.indexOf('\n\n')) {
        const block = buf.slice(0, idx);
        buf = buf.slice(idx + 2);
        const f: SseFrame = { event: 'message', data: undefined };
        const data: string[] = [];
        for (const line of block.split('\n')) {
          const m = /^([a-z]+): ?(.*)$/i.exec(line);
          if (!m) continue;
          if (m[1] === 'id') f.id = m[2];
          else if (m[1] === 'event') f.event = m[2]!;
          else if (m[1] === 'data') data.push(m[2]!);
        }
        f.data = data.length ? JSON.parse(data.join('\n')) : undefined;
        frames.push(f);
      }
      for (const l of [...listeners]) l();
    }
  })().catch(() => undefined);
  return conn;
}
