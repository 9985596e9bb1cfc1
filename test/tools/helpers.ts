// Shared fixtures for the file tool tests: a real temp workspace beside a real "outside" directory,
// and a registry with the built-in file tools registered as the daemon would.
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { closeSearchWorkers, registerBuiltinFileTools } from '../../src/tools/builtin/index.ts';
import type { FileToolOptions, ToolRuntimeLimits } from '../../src/tools/builtin/limits.ts';
import { ToolRegistry, type ToolResult } from '../../src/tools/registry.ts';

export interface Sandbox {
  /** Parent of both directories. */
  dir: string;
  ws: string;
  outside: string;
  registry: ToolRegistry;
  call(
    name: string,
    args: Record<string, unknown>,
    opts?: { signal?: AbortSignal; root?: string | null },
  ): Promise<ToolResult>;
  /** Calls a tool that must succeed and returns its parsed JSON. */
  ok(name: string, args: Record<string, unknown>): Promise<any>;
  /** Calls a tool that must fail and returns its message. */
  err(name: string, args: Record<string, unknown>): Promise<string>;
  put(rel: string, content: string | Buffer): Promise<string>;
  read(rel: string): Promise<string>;
  cleanup(): Promise<void>;
}

export async function sandbox(
  limits?: ToolRuntimeLimits,
  options?: Partial<FileToolOptions>,
): Promise<Sandbox> {
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'kheish-tools-')));
  const ws = join(dir, 'ws');
  const outside = join(dir, 'outside');
  await mkdir(ws);
  await mkdir(outside);
  const registry = new ToolRegistry();
  registerBuiltinFileTools(registry, limits, options);
  const call: Sandbox['call'] = (name, args, opts = {}) =>
    registry.execute({ id: 'call-1', name, arguments: args } as never, {
      run_id: 'run-1',
      session_id: 'session-1',
      agent_id: 'agent-1',
      tool_call_id: 'call-1',
      workspace_root: opts.root === undefined ? ws : opts.root,
      signal: opts.signal ?? new AbortController().signal,
    });
  return {
    dir,
    ws,
    outside,
    registry,
    call,
    async ok(name, args) {
      const r = await call(name, args);
      if (r.is_error) throw new Error(`${name} failed: ${r.content}`);
      return JSON.parse(r.content);
    },
    async err(name, args) {
      const r = await call(name, args);
      if (!r.is_error) throw new Error(`${name} unexpectedly succeeded: ${r.content}`);
      return r.content;
    },
    async put(rel, content) {
      const p = join(ws, rel);
      await mkdir(dirname(p), { recursive: true });
      await writeFile(p, content);
      return p;
    },
    read: (rel) => readFile(join(ws, rel), 'utf8'),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A snapshot of a directory tree (names, sizes, contents, mtimes) to prove nothing changed. */
export async function snapshot(root: string): Promise<string> {
  const lines: string[] = [];
  async function visit(p: string, rel: string): Promise<void> {
    const entries = await readdir(p, { withFileTypes: true });
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const full = join(p, e.name);
      const st = await stat(full).catch(() => null);
      if (e.isDirectory()) {
        lines.push(`d ${rel}${e.name}`);
        await visit(full, `${rel}${e.name}/`);
      } else if (e.isFile()) {
        lines.push(`f ${rel}${e.name} ${st?.size} ${st?.mtimeMs} ${await readFile(full, 'utf8')}`);
      } else {
        lines.push(`o ${rel}${e.name}`);
      }
    }
  }
  await visit(root, '');
  return lines.join('\n');
}

export { closeSearchWorkers };
