// The Python test sidecar (test/fixtures/external-sidecar.py) from the test's side: start it in
// remote_http mode, read what it received, switch its /deliver behaviour, make it post events.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempDir } from './daemon.ts';

export const SIDECAR = resolve(import.meta.dirname, '../fixtures/external-sidecar.py');

export type DeliverMode = 'ok' | 'hang' | '429' | '500' | 'committed_500' | 'crash';

export interface SidecarAttempt {
  delivery_id: string;
  attempt: number;
  idempotency_key: string | null;
  protocol_header: string | null;
  /** The W3C trace context the daemon sent (only with tracing on). */
  traceparent_header: string | null;
  authorization_ok: boolean;
  body: Record<string, any>;
  mode: DeliverMode;
  downloads: Array<{ asset_id: string; status: number; bytes: number | null }>;
}

export interface SidecarState {
  instance_id: string;
  pid: number;
  attempts: SidecarAttempt[];
  committed: Array<{ delivery_id: string; content: string; reply_route: string }>;
  credentials: Record<string, { status: number; body: any }>;
  inherited_secrets: string[];
}

async function json(url: string, init?: RequestInit): Promise<any> {
  const res = await fetch(url, {
    ...init,
    headers: { 'content-type': 'application/json', ...init?.headers },
  });
  return res.json();
}

/** A sidecar by its base URL (whoever started it). */
export class SidecarClient {
  readonly url: string;
  constructor(url: string) {
    this.url = url.replace(/\/+$/, '');
  }
  state(): Promise<SidecarState> {
    return json(`${this.url}/deliveries`);
  }
  async setMode(mode: DeliverMode, retryAfter?: string): Promise<void> {
    await json(`${this.url}/control`, {
      method: 'POST',
      body: JSON.stringify({ deliver_mode: mode, ...(retryAfter ? { retry_after: retryAfter } : {}) }),
    });
  }
  /** The sidecar posts the event to the daemon (protocol 2, v1 fallback); returns the daemon's answer. */
  emit(event: Record<string, unknown>): Promise<{ status: number; body: any; retry_after: string | null }> {
    return json(`${this.url}/emit`, { method: 'POST', body: JSON.stringify({ event }) });
  }
  emitBatch(events: Array<Record<string, unknown>>): Promise<{ status: number; body: any }> {
    return json(`${this.url}/emit`, { method: 'POST', body: JSON.stringify({ events }) });
  }
  /** The sidecar fetches its granted credentials again with its launch token. */
  async refreshCredentials(): Promise<SidecarState['credentials']> {
    return (await json(`${this.url}/credentials/refresh`, { method: 'POST', body: '{}' })).credentials;
  }
  async alive(): Promise<boolean> {
    try {
      await this.state();
      return true;
    } catch {
      return false;
    }
  }
}

export interface RemoteSidecar extends SidecarClient {
  proc: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts the sidecar on a free loopback port, as an operator would run a remote_http sidecar. */
export async function startRemoteSidecar(o: {
  daemonUrl: string;
  connector: string;
  sharedToken: string;
  env?: Record<string, string>;
}): Promise<RemoteSidecar> {
  const dir = tempDir('kheish-sidecar-');
  const portFile = join(dir, 'port');
  const proc = spawn(
    'python3',
    [
      SIDECAR,
      '--port',
      '0',
      '--daemon-url',
      o.daemonUrl,
      '--connector',
      o.connector,
      '--shared-token',
      o.sharedToken,
    ],
    { env: { ...process.env, SIDECAR_PORT_FILE: portFile, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout!.on('data', (d) => {
    out += d;
  });
  proc.stderr!.on('data', (d) => {
    out += d;
  });
  const deadline = Date.now() + 10_000;
  while (!existsSync(portFile)) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`sidecar did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const port = Number(readFileSync(portFile, 'utf8'));
  const client = new SidecarClient(`http://127.0.0.1:${port}`);
  const exited = new Promise<void>((r) => {
    if (proc.exitCode !== null) r();
    proc.once('exit', () => r());
  });
  return Object.assign(client, {
    proc,
    output: () => out,
    stop: async () => {
      proc.kill('SIGKILL');
      await exited;
    },
  }) as RemoteSidecar;
}

/**
 * Writes a --connectors-config file (in a new temp folder) declaring one child_process connector
 * that launches the Python sidecar on `port`, answering deliveries with 'ok'; returns its path.
 */
export function childSidecarConnectorsFile(o: {
  name: string;
  port: number;
  sharedTokenEnv: string;
}): string {
  const file = join(tempDir('kheish-ext-file-'), 'connectors.toml');
  writeFileSync(
    file,
    [
      '[[external_connectors]]',
      `name = "${o.name}"`,
      'platform = "python-test"',
      'mode = "child_process"',
      `base_url = "http://127.0.0.1:${o.port}"`,
      `shared_token_env = "${o.sharedTokenEnv}"`,
      'include_self_output = true',
      '',
      '[external_connectors.session_policy]',
      'create_if_missing = true',
      '',
      '[external_connectors.child_process]',
      'command = "python3"',
      `args = [${JSON.stringify(SIDECAR)}]`,
      '',
      '[external_connectors.child_process.env]',
      'SIDECAR_DELIVER_MODE = "ok"',
    ].join('\n'),
  );
  return file;
}

/** Polls until `check` returns a value other than undefined/false. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A free loopback port (for a child_process base_url the daemon's child will bind). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolvePort(port));
    });
  });
}
