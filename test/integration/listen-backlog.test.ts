// Issue 10 item 7, the listen backlog: a burst of 1,000 connections reaching a daemon that is not
// accepting at that moment must wait in the kernel's accept queue, not be dropped. SIGSTOP stands
// in for a saturated event loop: while the daemon is stopped, only the kernel completes handshakes,
// so every connect succeeds only if the backlog holds all of them (Node's default of 511 does
// not: the surplus SYNs are dropped and retried seconds later). Then the daemon resumes and must
// answer every one of them.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { startDaemon } from '../helpers/daemon.ts';

const CONNECTIONS = 1000;
/** How long the stopped daemon's kernel gets to complete all handshakes (they take milliseconds). */
const CONNECT_BOUND_MS = 10_000;
/** How long the resumed daemon gets to answer all of them. */
const ANSWER_BOUND_MS = 60_000;

// The kernel caps any backlog at net.core.somaxconn; below 1,000 the burst cannot fit whatever
// the daemon asks for (old kernels default to 128).
const SOMAXCONN = '/proc/sys/net/core/somaxconn';
const somaxconn = existsSync(SOMAXCONN) ? Number(readFileSync(SOMAXCONN, 'utf8')) : 0;
const skip =
  somaxconn >= CONNECTIONS ? false : `needs Linux with net.core.somaxconn ≥ ${CONNECTIONS} (${somaxconn})`;

/** Resolves with how many sockets connected before the bound; never rejects. */
function connectAll(sockets: Socket[], boundMs: number): Promise<{ connected: number; errors: string[] }> {
  return new Promise((resolve) => {
    let connected = 0;
    const errors: string[] = [];
    let settled = 0;
    const done = () => {
      clearTimeout(timer);
      resolve({ connected, errors });
    };
    const timer = setTimeout(done, boundMs);
    for (const s of sockets) {
      s.once('connect', () => {
        connected++;
        if (++settled === sockets.length) done();
      });
      s.once('error', (err) => {
        errors.push((err as NodeJS.ErrnoException).code ?? err.message);
        if (++settled === sockets.length) done();
      });
    }
  });
}

/** Sends GET /healthz on a connected socket and resolves with the status line of the answer. */
function healthz(s: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d) => {
      text += d;
    });
    s.once('end', () => resolve(text.split('\r\n', 1)[0] ?? ''));
    s.once('error', reject);
    s.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
  });
}

async function within<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([work, bound]);
  } finally {
    clearTimeout(timer);
  }
}

test('listen backlog: 1,000 simultaneous connects to a daemon that is not accepting are all queued, then all answered', {
  skip,
  timeout: 120_000,
}, async () => {
  const d = await startDaemon();
  const pid = d.proc.pid!;
  const { hostname, port } = new URL(d.url);
  const sockets: Socket[] = [];
  try {
    process.kill(pid, 'SIGSTOP');
    let connected: { connected: number; errors: string[] };
    try {
      for (let i = 0; i < CONNECTIONS; i++) sockets.push(connect({ host: hostname, port: Number(port) }));
      connected = await connectAll(sockets, CONNECT_BOUND_MS);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    assert.deepEqual(connected.errors, [], 'no connection refused or reset');
    assert.equal(connected.connected, CONNECTIONS, 'every handshake completed while the daemon was stopped');

    const answers = await within(
      Promise.all(sockets.map(healthz)),
      ANSWER_BOUND_MS,
      'the daemon did not answer every connection',
    );
    const statuses = new Map<string, number>();
    for (const a of answers) statuses.set(a, (statuses.get(a) ?? 0) + 1);
    assert.deepEqual([...statuses], [['HTTP/1.1 200 OK', CONNECTIONS]]);
  } finally {
    for (const s of sockets) s.destroy();
    await d.kill();
    d.cleanup();
  }
});
