// Real MCP servers for the tests, run from node_modules on the project's Node 24: the reference
// "everything" server (stdio, or Streamable HTTP on a free port), the filesystem server, and the
// fault fixture (test/fixtures/mcp/fault-server.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
export const NODE = process.execPath;
export const EVERYTHING = join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
export const FILESYSTEM = join(ROOT, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
export const FAULT = join(ROOT, 'test/fixtures/mcp/fault-server.ts');

const q = (s: string) => JSON.stringify(s);

/** A `[mcp_servers.<name>]` stdio table running a script on this Node. */
export function stdioServer(name: string, script: string, args: string[] = [], extra = ''): string {
  return `[mcp_servers.${name}]\ncommand = ${q(NODE)}\nargs = [${[script, ...args].map(q).join(', ')}]\n${extra}\n`;
}

export function writeMcpConfig(dir: string, toml: string, file = 'mcp.toml'): string {
  const path = join(dir, file);
  writeFileSync(path, toml);
  return path;
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}

export interface HttpMcpServer {
  url: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** server-everything in its Streamable HTTP mode, ready when it says it listens. */
export async function startEverythingHttp(port?: number): Promise<HttpMcpServer> {
  const p = port ?? (await freePort());
  const proc = spawn(NODE, [EVERYTHING, 'streamableHttp'], {
    env: { ...process.env, PORT: String(p) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`everything (HTTP) did not start:\n${out}`)), 15_000);
    const onData = (d: Buffer) => {
      out += d;
      if (/listening on port/i.test(out)) {
        clearTimeout(timer);
        res();
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`everything (HTTP) exited with ${code}:\n${out}`));
    });
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    url: `http://127.0.0.1:${p}/mcp`,
    proc,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** The daemon's `mcp` runtime section. */
export async function mcpSnapshot(url: string): Promise<any> {
  const res = await fetch(`${url}/v1/runtime`);
  return ((await res.json()) as { mcp: any }).mcp;
}

export async function waitForServer(
  url: string,
  server: string,
  ok: (s: any) => boolean,
  timeoutMs = 20_000,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const snap = await mcpSnapshot(url);
    const s = snap.servers.find((x: { server: string }) => x.server === server);
    if (s && ok(s)) return s;
    if (Date.now() > deadline) throw new Error(`server ${server} never matched: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
