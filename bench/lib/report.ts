// What a result file records about where it was measured, and the markdown table printed at the end.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { NODE, ROOT } from './daemon.ts';

export interface Machine {
  cpu: string;
  cores: number;
  mem_gib: number;
  kernel: string;
  node: string;
  tmp_fs: string;
  load_avg_1m_at_start: number;
}

const run = (cmd: string, args: string[]): string => {
  try {
    return execFileSync(cmd, args, {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return 'unknown';
  }
};

export function machine(): Machine {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    mem_gib: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: run(NODE, ['--version']),
    tmp_fs: run('findmnt', ['-n', '-o', 'FSTYPE', '-T', tmpdir()]),
    load_avg_1m_at_start: Number(loadavg()[0]!.toFixed(2)),
  };
}

/** Short commit id, with `-dirty` when the working tree has uncommitted changes under src/. */
export function commitId(): string {
  const head = run('git', ['rev-parse', '--short', 'HEAD']);
  const dirty = run('git', ['status', '--porcelain', '--', 'src']);
  return dirty && dirty !== 'unknown' ? `${head}-dirty` : head;
}

export interface Row {
  benchmark: string;
  metric: string;
  value: string;
  vsFloor?: string;
  vsPeer?: string;
}

export function markdownTable(rows: Row[]): string {
  const lines = [
    '| benchmark | metric | value | × floor commit (same store and synchronous) | × LangGraph.js |',
    '|---|---|---:|---:|---:|',
  ];
  for (const r of rows)
    lines.push(`| ${r.benchmark} | ${r.metric} | ${r.value} | ${r.vsFloor ?? ''} | ${r.vsPeer ?? ''} |`);
  return lines.join('\n');
}

export const fmt = (x: number | undefined, digits = 2): string =>
  x === undefined || !Number.isFinite(x) ? 'n/a' : x >= 100 ? x.toFixed(0) : x.toFixed(digits);

export const ratio = (a: number | undefined, b: number | undefined, digits = 1): string =>
  a === undefined || b === undefined || !Number.isFinite(a / b) ? '' : `${(a / b).toFixed(digits)}×`;
