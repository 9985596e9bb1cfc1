import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { DaemonClient } from '../../src/sdk/client.ts';
import {
  DaemonProblemError,
  DaemonSchemaError,
  DaemonTimeoutError,
  DaemonUnreachableError,
} from '../../src/sdk/errors.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const RUN = { run_id: 'run-1', session_id: 's1', status: 'queued', kind: 'input' };

describe('DaemonClient against a real HTTP server', () => {
  let server: Server;
  let base: string;
  const seen: Seen[] = [];

  const problem = (
    res: ServerResponse,
    status: number,
    body: object,
    headers: Record<string, string> = {},
  ) => {
    res.writeHead(status, { 'content-type': 'application/problem+json', ...headers });
    res.end(JSON.stringify(body));
  };

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        const json = (status: number, value: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(value));
        };
        const path = (req.url ?? '').split('?')[0];
        if (path === '/v1/sessions/busy/input') {
          return problem(res, 409, {
            type: 'urn:kheish:problem:session_busy',
            title: 'Conflict',
            status: 409,
            detail: 'session busy is already processing background work',
            code: 'session_busy',
            domain: 'sessions',
          });
        }
        if (path === '/v1/runs/limited') {
          return problem(
            res,
            429,
            {
              type: 'urn:kheish:problem:rate_limited',
              title: 'Too Many Requests',
              status: 429,
              detail: 'slow down',
              code: 'rate_limited',
            },
            { 'retry-after': '60' },
          );
        }
        if (path === '/v1/runs/gateway') {
          res.writeHead(502, { 'content-type': 'text/plain' });
          return res.end('bad gateway from proxy');
        }
        if (path === '/v1/runs/garbled') return json(200, { hello: 'world' });
        if (path === '/v1/runs/notjson') {
          res.writeHead(200, { 'content-type': 'application/json' });
          return res.end('{not json');
        }
        if (path === '/v1/runs/slow') return setTimeout(() => json(200, RUN), 500);
        if (path === '/v1/sessions/s1/runs' && req.method === 'POST') return json(202, RUN);
        if (path === '/v1/runs' && req.method === 'GET') {
          return json(200, {
            items: [RUN],
            pagination: { limit: 1, total_count: 2, has_more: true, next_cursor: 'abc' },
          });
        }
        if (path === '/v1/runs/run-1/cancel') return json(200, { ...RUN, status: 'cancelled' });
        if (path === '/readyz') {
          return problem(res, 503, {
            type: 'urn:kheish:problem:daemon_draining',
            title: 'Service Unavailable',
            status: 503,
            detail: 'draining',
            code: 'daemon_draining',
            domain: 'readiness',
          });
        }
        if (path === '/healthz') {
          res.writeHead(200, { 'content-type': 'text/plain' });
          return res.end('ok\n');
        }
        return problem(res, 404, {
          type: 'urn:kheish:problem:route_not_found',
          title: 'Not Found',
          status: 404,
          detail: `no route ${path}`,
          code: 'route_not_found',
          domain: 'api',
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('a problem+json answer throws DaemonProblemError with its fields', async () => {
    const client = new DaemonClient({ baseUrl: base, token: 'adm' });
    const err = await client.submitInput('busy', { content: 'hi' }).then(
      () => assert.fail('expected a rejection'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof DaemonProblemError);
    assert.equal(err.status, 409);
    assert.equal(err.code, 'session_busy');
    assert.equal(err.domain, 'sessions');
    assert.equal(err.title, 'Conflict');
    assert.equal(err.detail, 'session busy is already processing background work');
    assert.equal(err.type, 'urn:kheish:problem:session_busy');
    const req = seen.at(-1)!;
    assert.equal(req.headers.authorization, 'Bearer adm');
    assert.equal(req.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(req.body), { content: 'hi' });
  });

  test('Retry-After is kept; a non-JSON error body still gives status and a derived code', async () => {
    const client = new DaemonClient({ baseUrl: base });
    await assert.rejects(
      client.getRun('limited'),
      (e: unknown) =>
        e instanceof DaemonProblemError && e.status === 429 && e.retryAfter === 60 && e.domain === undefined,
    );
    await assert.rejects(client.getRun('gateway'), (e: unknown) => {
      assert.ok(e instanceof DaemonProblemError);
      assert.equal(e.status, 502);
      assert.equal(e.code, 'daemon_error');
      assert.equal(e.detail, 'bad gateway from proxy');
      return true;
    });
  });

  test('path segments are encoded and unknown ids come back as 404 problems', async () => {
    const client = new DaemonClient({ baseUrl: `${base}/` });
    await assert.rejects(
      client.getSession('a b/c'),
      (e: unknown) => e instanceof DaemonProblemError && e.status === 404 && e.code === 'route_not_found',
    );
    assert.equal(seen.at(-1)!.url, '/v1/sessions/a%20b%2Fc');
  });

  test('submitRun sends the Idempotency-Key header and returns the RunView', async () => {
    const client = new DaemonClient({ baseUrl: base });
    const run = await client.submitRun('s1', { content: 'go' }, { idempotencyKey: 'k-1' });
    assert.equal(run.run_id, 'run-1');
    const req = seen.at(-1)!;
    assert.equal(req.method, 'POST');
    assert.equal(req.headers['idempotency-key'], 'k-1');
  });

  test('listRuns builds the query and returns the envelope as is', async () => {
    const client = new DaemonClient({ baseUrl: base });
    const page = await client.listRuns({
      session_id: 's1',
      page: true,
      limit: 1,
      order: 'desc',
      priority_active: false,
    });
    assert.ok(!Array.isArray(page));
    assert.equal(page.pagination.next_cursor, 'abc');
    assert.equal(seen.at(-1)!.url, '/v1/runs?session_id=s1&page=true&limit=1&order=desc');
  });

  test('POST without a body sends no content type', async () => {
    const client = new DaemonClient({ baseUrl: base });
    const run = await client.cancelRun('run-1');
    assert.equal(run.status, 'cancelled');
    assert.equal(seen.at(-1)!.headers['content-type'], undefined);
  });

  test('a body without the expected fields is a DaemonSchemaError', async () => {
    const client = new DaemonClient({ baseUrl: base });
    await assert.rejects(client.getRun('garbled'), DaemonSchemaError);
    await assert.rejects(client.getRun('notjson'), DaemonSchemaError);
  });

  test('probes report readiness without throwing on 503', async () => {
    const client = new DaemonClient({ baseUrl: base });
    assert.deepEqual(await client.health(), { ok: true, status: 200, body: 'ok\n' });
    const ready = await client.ready();
    assert.equal(ready.ok, false);
    assert.equal(ready.status, 503);
  });

  test('a slow answer is a DaemonTimeoutError', async () => {
    const client = new DaemonClient({ baseUrl: base, timeoutMs: 100 });
    await assert.rejects(
      client.getRun('slow'),
      (e: unknown) => e instanceof DaemonTimeoutError && e.timeoutMs === 100,
    );
  });

  test('a closed port is DaemonUnreachableError', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const client = new DaemonClient({ baseUrl: `http://127.0.0.1:${port}` });
    await assert.rejects(
      client.status(),
      (e: unknown) => e instanceof DaemonUnreachableError && e.errno === 'ECONNREFUSED',
    );
  });

  test('a base URL that is not http(s) is refused up front', () => {
    assert.throws(() => new DaemonClient({ baseUrl: 'ftp://x' }), TypeError);
    assert.throws(() => new DaemonClient({ baseUrl: 'nope' }), TypeError);
  });
});
