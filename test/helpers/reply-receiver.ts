// A local HTTP receiver for reply targets: records every POST (headers and JSON body), answers
// from a per-path script of responses (then 200), and counts successes by Idempotency-Key the way
// a deduplicating receiver would.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
  at: number;
  status: number;
}

export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
  /** Hold the answer this long (an attempt in flight). */
  delay_ms?: number;
}

export interface ReplyReceiver {
  url: string;
  /** A reply URL on this receiver. */
  at(path: string): string;
  received: Received[];
  /** Requests whose body arrived (counted before any scripted delay), by path. */
  arrivals(path?: string): number;
  /** Answers for the next requests to `path`, in order; afterwards 200. */
  script(path: string, answers: ScriptedAnswer[]): void;
  /** Answer every request to `path` like this (until changed). */
  always(path: string, answer: ScriptedAnswer | null): void;
  /** Distinct Idempotency-Keys answered with 2xx (a deduplicating receiver's count). */
  deliveredKeys(path?: string): Map<string, number>;
  waitFor(pred: (r: Received[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<ReplyReceiver> {
  const received: Received[] = [];
  const scripts = new Map<string, ScriptedAnswer[]>();
  const fixed = new Map<string, ScriptedAnswer>();
  const arrived: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const path = (req.url ?? '/').split('?')[0]!;
      arrived.push(path);
      const answer = scripts.get(path)?.shift() ?? fixed.get(path) ?? { status: 200 };
      if (answer.delay_ms) await new Promise((r) => setTimeout(r, answer.delay_ms));
      let body: unknown = null;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = Buffer.concat(chunks).toString('utf8');
      }
      received.push({ path, headers: req.headers, body, at: Date.now(), status: answer.status });
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    at: (path) => `${url}${path}`,
    received,
    arrivals: (path) => arrived.filter((p) => path === undefined || p === path).length,
    script: (path, answers) => scripts.set(path, [...answers]),
    always: (path, answer) => (answer ? fixed.set(path, answer) : fixed.delete(path)),
    deliveredKeys(path) {
      const keys = new Map<string, number>();
      for (const r of received) {
        if (path !== undefined && r.path !== path) continue;
        if (r.status < 200 || r.status >= 300) continue;
        const k = String(r.headers['idempotency-key']);
        keys.set(k, (keys.get(k) ?? 0) + 1);
      }
      return keys;
    },
    async waitFor(pred, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      while (!pred(received)) {
        if (Date.now() > until)
          throw new Error(`receiver: condition not met in ${timeoutMs} ms (${received.length} received)`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The structured http reply target for a receiver path (loopback needs allow_private_network). */
export const httpTarget = (url: string, headers?: Record<string, string>) => ({
  type: 'http',
  url,
  allow_private_network: true,
  ...(headers ? { headers } : {}),
});
