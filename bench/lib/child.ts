// Runs one in-process benchmark (the SQLite floor, LangGraph.js) in a fresh child process, so its
// heap, JIT state and open files neither disturb nor are disturbed by the load generator.
// Child usage: node bench/lib/child.ts <floor|langgraph> '<json options>' → one JSON line on stdout.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { NODE, ROOT } from './daemon.ts';

export type ChildKind = 'floor' | 'langgraph';

export function runInChild<T>(kind: ChildKind, opts: unknown, timeoutMs = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      NODE,
      [
        '--disable-warning=ExperimentalWarning',
        join(ROOT, 'bench', 'lib', 'child.ts'),
        kind,
        JSON.stringify(opts),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => {
      out += d;
    });
    proc.stderr.on('data', (d) => {
      err += d;
    });
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) return reject(new Error(`${kind} child exited ${code ?? signal}:\n${err}${out}`));
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${kind} child printed no JSON:\n${err}${out}`));
      }
    });
  });
}

async function main(): Promise<void> {
  const [kind, json] = process.argv.slice(2);
  const opts = JSON.parse(json ?? '{}');
  let result: unknown;
  if (kind === 'floor') result = (await import('../floor.ts')).runFloor(opts);
  else if (kind === 'langgraph') result = await (await import('../langgraph.ts')).runLangGraph(opts);
  else throw new Error(`unknown child benchmark ${kind}`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (import.meta.main) {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
}
