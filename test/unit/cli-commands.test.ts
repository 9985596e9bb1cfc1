import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createCli } from '../../src/cli/program.ts';
import type { CliIo } from '../../src/cli/runtime.ts';

// The CLI reads these through commander; a developer's shell must not change the tests.
for (const name of ['KHEISH_DAEMON_URL', 'KHEISH_DAEMON_TOKEN', 'KHEISH_DAEMON_TOKEN_FILE'])
  delete process.env[name];

interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const run = (id: string, status: string, extra: object = {}) => ({
  run_id: id,
  session_id: 's1',
  kind: 'input',
  status,
  submitted_at_ms: 1_700_000_000_000,
  request: { text_preview: 'hello', provider: 'local', model: 'scripted' },
  ...extra,
});

const frame = (event: string, data: object, id?: number) =>
  `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`;

const delta = (text: string, id: number) =>
  frame('trace', { trace: { kind: 'assistant_text_delta', run_id: 'live', delta: text } }, id);

class FakeIo implements CliIo {
  out = '';
  err = '';
  stdin = '';
  interrupt: (() => void) | undefined;
  stdout(text: string): void {
    this.out += text;
  }
  stderr(text: string): void {
    this.err += text;
  }
  async readStdin(): Promise<string> {
    return this.stdin;
  }
  onInterrupt(handler: () => void): () => void {
    this.interrupt = handler;
    return () => {
      this.interrupt = undefined;
    };
  }
}

describe('kheish-daemon client commands against a fake daemon', () => {
  let server: Server;
  let base: string;
  let seen: Seen[] = [];
  let liveGets = 0;

  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        const path = (req.url ?? '').split('?')[0];
        seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
        const json = (status: number, value: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(value));
        };
        const sse = () => res.writeHead(200, { 'content-type': 'text/event-stream' });
        switch (`${req.method} ${path}`) {
          case 'GET /v1/status':
            return json(200, { status: 'ready', ready: true, sessions: { total: 2 } });
          case 'GET /v1/runs/done':
            return json(
              200,
              run('done', 'completed', {
                outputs: [{ content: 'the answer is 42' }],
                finished_at_ms: 1_700_000_001_500,
                started_at_ms: 1_700_000_000_000,
              }),
            );
          case 'GET /v1/runs/broken':
            return json(200, run('broken', 'failed', { error: 'model call failed: boom' }));
          case 'GET /v1/runs/done/stream':
            // The run's retained events, replayed from its start.
            sse();
            res.write(frame('run_updated', { run: run('done', 'queued') }, 1));
            res.write(frame('output', { output: { run_id: 'done', content: 'the answer is 42' } }, 2));
            res.write(
              frame(
                'run_updated',
                {
                  run: run('done', 'completed', {
                    started_at_ms: 1_700_000_000_000,
                    finished_at_ms: 1_700_000_001_500,
                  }),
                },
                3,
              ),
            );
            return;
          case 'GET /v1/runs/broken/stream': {
            // A run whose events left the replay window: nothing but heartbeats.
            sse();
            const t = setInterval(() => res.write(frame('heartbeat', {})), 10);
            res.on('close', () => clearInterval(t));
            return;
          }
          case 'GET /v1/runs/live':
            liveGets++;
            return json(200, run('live', 'running'));
          case 'GET /v1/runs/live/stream':
            sse();
            res.write(frame('trace', { trace: { kind: 'model_turn_started', run_id: 'live' } }, 9));
            res.write(delta('Hel', 10));
            setTimeout(() => {
              res.write(delta('lo!', 11));
              res.write(frame('output', { output: { run_id: 'live', content: 'Hello!' } }, 12));
              res.write(frame('run_updated', { run: run('live', 'completed') }, 13));
            }, 20);
            return; // left open, as a daemon would with heartbeats
          case 'GET /v1/runs/dropper':
            // Running until the stream has dropped once, completed afterwards.
            return json(
              200,
              run(
                'dropper',
                seen.some((s) => s.path.startsWith('/v1/runs/dropper/stream')) ? 'completed' : 'running',
              ),
            );
          case 'GET /v1/runs/dropper/stream':
            sse();
            return res.end(frame('heartbeat', {}));
          case 'GET /v1/runs/endless':
            return json(200, run('endless', 'running'));
          case 'GET /v1/runs/endless/stream':
          case 'GET /v1/events/stream': {
            sse();
            res.write(frame('run_updated', { run: run('endless', 'running') }, 1));
            const t = setInterval(() => res.write(frame('heartbeat', {})), 10);
            res.on('close', () => clearInterval(t));
            return;
          }
          case 'POST /v1/sessions':
            return json(201, { session_id: JSON.parse(body || '{}').session_id ?? 'gen-1', agent_id: 'a1' });
          case 'POST /v1/sessions/s1/runs':
            return json(202, run('new-run', 'queued', { queued_position: 1 }));
          case 'GET /v1/sessions':
            return json(200, [
              { session_id: 's1', status: 'idle', pending_approvals: 0, pending_questions: 1 },
              { session_id: 'longer-session', status: 'running', route_policy: { provider: 'local' } },
            ]);
        }
        res.writeHead(404, { 'content-type': 'application/problem+json' });
        res.end(
          JSON.stringify({
            type: 'urn:kheish:problem:run_not_found',
            title: 'Not Found',
            status: 404,
            detail: `run ${path} was not found`,
            code: 'run_not_found',
            domain: 'runs',
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    seen = [];
    liveGets = 0;
  });

  async function cli(args: string[], io = new FakeIo()) {
    const code = await createCli({ io }).run(['node', 'kheish-daemon', '--base-url', base, ...args]);
    return { code, out: io.out, err: io.err, io };
  }

  test('status prints key: value lines; json mode prints the raw body', async () => {
    const pretty = await cli(['status']);
    assert.equal(pretty.code, 0);
    assert.match(pretty.out, /^status: +ready/m);
    assert.match(pretty.out, /^sessions: +2/m);
    const json = await cli(['--output', 'json', 'status']);
    assert.deepEqual(JSON.parse(json.out), { status: 'ready', ready: true, sessions: { total: 2 } });
  });

  test('sessions list renders an aligned table', async () => {
    const { code, out } = await cli(['session', 'list']);
    assert.equal(code, 0);
    const lines = out.trimEnd().split('\n');
    assert.match(lines[0], /^SESSION +STATUS +APPROVALS +QUESTIONS +ROUTE +PERSONA$/);
    assert.equal(lines[1].indexOf('idle'), lines[0].indexOf('STATUS'));
    assert.equal(lines[2].indexOf('running'), lines[0].indexOf('STATUS'));
  });

  test('a 404 problem prints code and detail on stderr and exits 5', async () => {
    const { code, out, err } = await cli(['runs', 'get', 'nope']);
    assert.equal(code, 5);
    assert.equal(out, '');
    assert.match(
      err,
      /^error: run_not_found: run \/v1\/runs\/nope was not found \(domain runs, HTTP 404\)\nhint: /,
    );
  });

  test('an unreachable daemon exits 3 with a hint to start it', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const io = new FakeIo();
    const code = await createCli({ io }).run([
      'node',
      'kd',
      '--base-url',
      `http://127.0.0.1:${port}`,
      'status',
    ]);
    assert.equal(code, 3);
    assert.match(io.err, /kheish-daemon serve/);
  });

  test('usage errors exit 2; --help exits 0', async () => {
    assert.equal((await cli(['runs', 'get'])).code, 2);
    assert.equal((await cli(['runs', 'list', '--limit', 'zero'])).code, 2);
    assert.equal((await cli(['--output', 'yaml', 'status'])).code, 2);
    const empty = await cli(['runs', 'submit', 's1']);
    assert.equal(empty.code, 2);
    assert.match(empty.err, /nothing to send/);
    assert.equal(seen.length, 0, 'nothing reached the daemon');
    assert.equal((await cli(['--help'])).code, 0);
  });

  test('runs submit creates-or-reuses the session first, then submits with the idempotency key', async () => {
    const io = new FakeIo();
    io.stdin = 'from stdin\n';
    const { code, out } = await cli(
      ['runs', 'submit', 's1', '--stdin', '--idempotency-key', 'k1', '--provider', 'local', '--model', 'm'],
      io,
    );
    assert.equal(code, 0);
    assert.deepEqual(
      seen.map((s) => `${s.method} ${s.path}`),
      ['POST /v1/sessions', 'POST /v1/sessions/s1/runs'],
    );
    assert.deepEqual(JSON.parse(seen[0].body), { session_id: 's1' });
    assert.deepEqual(JSON.parse(seen[1].body), {
      content: 'from stdin',
      provider: 'local',
      generation: { model: 'm' },
    });
    assert.equal(seen[1].headers['idempotency-key'], 'k1');
    assert.match(out, /run new-run queued at queue position 1 in session s1/);
    assert.match(out, /kheish-daemon runs watch new-run/);
  });

  test('runs watch on a finished run replays it from its first event (exit 0)', async () => {
    const { code, out } = await cli(['runs', 'watch', 'done']);
    assert.equal(code, 0);
    assert.equal(out, 'run done (session s1)\n· queued\nthe answer is 42\nrun done completed in 1.5s\n');
    assert.ok(seen.some((s) => s.path === '/v1/runs/done/stream?cursor=0'));
  });

  test('runs watch on a failed run whose events are gone exits 1 and shows the error', async () => {
    const { code, out } = await cli(['run', 'follow', 'broken']);
    assert.equal(code, 1);
    assert.match(out, /run broken failed: model call failed: boom/);
  });

  test('runs watch streams assistant text live and stops at the terminal status', async () => {
    const { code, out } = await cli(['runs', 'watch', 'live']);
    assert.equal(code, 0);
    assert.equal(out, 'run live (session s1) is running\nHello!\nrun live completed\n');
    // One GET before subscribing; the replay from cursor 0 covers what happened since.
    assert.equal(liveGets, 1);
  });

  test('runs watch in json mode prints one JSON document per event', async () => {
    const { code, out } = await cli(['--output', 'json', 'runs', 'stream', 'live']);
    assert.equal(code, 0);
    const lines = out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l) => [l.id, l.event]),
      [
        ['9', 'trace'],
        ['10', 'trace'],
        ['11', 'trace'],
        ['12', 'output'],
        ['13', 'run_updated'],
      ],
    );
  });

  test('runs watch re-reads the run when the stream ends early', async () => {
    const { code, out } = await cli(['runs', 'watch', 'dropper']);
    assert.equal(code, 0);
    assert.match(out, /run dropper completed/);
  });

  test('Ctrl-C stops runs watch with exit 130 and says how to resume', async () => {
    const io = new FakeIo();
    const pending = cli(['runs', 'watch', 'endless'], io);
    while (!io.interrupt || !seen.some((s) => s.path.startsWith('/v1/runs/endless/stream'))) {
      await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 30));
    io.interrupt();
    const { code, err } = await pending;
    assert.equal(code, 130);
    assert.match(err, /runs watch endless/);
  });

  test('events follows the global stream with filters until Ctrl-C (exit 0)', async () => {
    const io = new FakeIo();
    const pending = cli(['--output', 'json', 'events', '--session-id', 's1', '--cursor', '5'], io);
    while (!io.out.includes('heartbeat')) await new Promise((r) => setTimeout(r, 5));
    io.interrupt!();
    const { code, out } = await pending;
    assert.equal(code, 0);
    const first = JSON.parse(out.split('\n')[0]);
    assert.equal(first.id, '1');
    assert.equal(first.event, 'run_updated');
    const req = seen.find((s) => s.path.startsWith('/v1/events/stream'))!;
    assert.equal(req.path, '/v1/events/stream?session_id=s1&cursor=5');
  });

  test('--token-file is read and sent as a bearer token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kd-cli-'));
    try {
      writeFileSync(join(dir, 'token'), '  s3cret\n');
      assert.equal((await cli(['--token-file', join(dir, 'token'), 'status'])).code, 0);
      assert.equal(seen.at(-1)!.headers.authorization, 'Bearer s3cret');
      const missing = await cli(['--token-file', join(dir, 'absent'), 'status']);
      assert.equal(missing.code, 4);
      assert.match(missing.err, /cannot read token file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
