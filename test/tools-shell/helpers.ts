// Shared helpers for the bash tool tests: temporary workspaces, tool contexts, and a /proc scan
// that tells whether any process with a marker in its command line is still alive.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ToolContext } from '../../src/tools/registry.ts';

export interface TempWorkspace {
  base: string;
  root: string;
  cleanup(): void;
}

/** `<base>/ws` is the workspace, so `<base>` is a host directory just outside it. */
export function tempWorkspace(): TempWorkspace {
  const base = mkdtempSync(path.join(tmpdir(), 'kheish-bash-'));
  const root = path.join(base, 'ws');
  mkdirSync(root);
  return { base, root, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

export function toolCtx(root: string | null, signal = new AbortController().signal): ToolContext {
  return {
    run_id: 'run-test',
    session_id: 'ses-test',
    agent_id: 'agent-test',
    tool_call_id: 'call-test',
    workspace_root: root,
    signal,
  };
}

/** A unique `sleep` duration: it identifies our processes in /proc and sleeps for minutes. */
export function marker(): string {
  return `${300 + Math.floor(Math.random() * 600)}.${process.pid}${Math.floor(Math.random() * 1e6)}`;
}

/** PIDs of live (non-zombie) processes whose command line contains `needle`. */
export function livePids(needle: string, atStart = false): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // A zombie's cmdline is empty, so dead-but-unreaped processes do not count.
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (atStart ? cmd.startsWith(needle) : cmd.includes(needle)) out.push(Number(entry));
    } catch {
      // the process exited while we looked
    }
  }
  return out;
}

/** Waits (bounded) for processes to disappear; returns what is still alive. */
export async function waitGone(needle: string, boundMs = 3000): Promise<number[]> {
  const until = Date.now() + boundMs;
  let pids = livePids(needle);
  while (pids.length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 25));
    pids = livePids(needle);
  }
  return pids;
}

/** Waits (bounded) until a process with the marker exists, so a kill test kills something real. */
export async function waitStarted(needle: string, boundMs = 5000): Promise<void> {
  const until = Date.now() + boundMs;
  // At the start of the command line: the sandbox and shell wrappers also mention the needle.
  while (livePids(needle, true).length === 0) {
    if (Date.now() > until) throw new Error(`no process with ${needle} started`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function killLeftovers(needle: string): void {
  for (const pid of livePids(needle)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
