// What list_files, glob_search and grep_search share: resolving `base`, building the worker job,
// and telling the model plainly when a result is partial and how to get the rest.
import { lstat } from 'node:fs/promises';
import { optBool, optInt, optString } from './args.ts';
import type { FileToolEnv } from './define-tool.ts';
import { fail } from './failure.ts';
import { runSearchJob } from './search-pool.ts';
import type { SearchJob, SearchOutcome } from './search-walk.ts';
import { type ExistingTarget, resolveExisting } from './workspace-path.ts';

export interface SearchBase {
  target: ExistingTarget;
  isFile: boolean;
}

export const BASE_SCHEMA = {
  type: 'string',
  description: 'Directory to search, relative to the workspace root (default: the root).',
} as const;

export const LIMIT_SCHEMA = {
  type: 'integer',
  minimum: 1,
  description: 'Maximum number of results (default 200).',
} as const;

export async function resolveBase(
  env: FileToolEnv,
  args: Record<string, unknown>,
  allowFile: boolean,
): Promise<SearchBase> {
  // `path` is what models often send for the base directory; accept it as a synonym.
  const raw = optString(args, 'base', ['path']) || '.';
  const target = await resolveExisting(env.root, raw, 'base');
  const info = await lstat([env.root.real, ...target.components].join('/'));
  if (info.isDirectory()) return { target, isFile: false };
  if (allowFile && info.isFile()) return { target, isFile: true };
  if (info.isFile()) fail(`\`${target.display}\` is a file, not a directory; use read_file to read it`);
  return fail(`\`${target.display}\` is not a directory`);
}

export function resultLimit(env: FileToolEnv, args: Record<string, unknown>): number {
  const asked = optInt(args, 'limit', { min: 1 });
  return Math.min(asked ?? env.limits.default_results, env.limits.max_results);
}

export async function runSearch(
  env: FileToolEnv,
  base: SearchBase,
  args: Record<string, unknown>,
  job: Pick<SearchJob, 'kind' | 'limit'> & Partial<SearchJob>,
): Promise<SearchOutcome> {
  const started = Date.now();
  const full: SearchJob = {
    rootReal: env.root.real,
    base: base.target.components,
    baseDisplay: base.target.display,
    baseIsFile: base.isFile,
    maxDepth: null,
    includeIgnored: optBool(args, 'include_ignored') ?? false,
    // Room for the JSON around the results.
    maxOutputBytes: Math.max(1024, env.limits.max_output_bytes - 4096),
    // Stop a little before the call's own timeout so partial results can still be returned.
    deadline: started + Math.max(100, env.timeoutMs - 500),
    maxFileBytes: env.limits.max_search_file_bytes,
    maxLineChars: env.limits.max_line_chars,
    ...job,
  };
  return runSearchJob(full, env.ctx.signal, env.timeoutMs + 1500);
}

/** An explicit marker for partial results, saying how to see the rest. */
export function partialNotice(
  env: FileToolEnv,
  outcome: SearchOutcome,
  limit: number,
  noun: string,
): { truncated: boolean; notice?: string } {
  switch (outcome.stopped) {
    case 'limit': {
      const raise =
        limit < env.limits.max_results ? `, or raise \`limit\` (up to ${env.limits.max_results})` : '';
      return {
        truncated: true,
        notice: `showing the first ${limit} ${noun}; more exist. Narrow \`base\` or the pattern${raise}`,
      };
    }
    case 'bytes':
      return {
        truncated: true,
        notice: `output capped at about ${env.limits.max_output_bytes} bytes; more ${noun} exist. Narrow \`base\` or the pattern`,
      };
    case 'time':
      return {
        truncated: true,
        notice: `stopped after ${env.timeoutMs} ms with partial results; narrow \`base\` or the pattern`,
      };
    default:
      return { truncated: false };
  }
}

/** Validates a ripgrep-style glob; `..` could only point the match outside the base. */
export function checkGlob(pattern: string, field: string): string {
  let p = pattern.trim();
  if (p === '') fail(`\`${field}\` must not be empty`);
  if (p.includes('\0')) fail(`\`${field}\` contains a NUL byte`);
  if (p.includes('\\')) fail(`\`${field}\` contains a backslash; use \`/\` between directories`);
  if (p.split('/').includes('..')) fail(`\`${field}\` must not contain \`..\`; set \`base\` instead`);
  // A leading `/` or `./` anchors at the base, as in ripgrep and .gitignore.
  while (p.startsWith('./')) p = p.slice(2);
  if (p.startsWith('/')) p = p.replace(/^\/+/, '');
  if (p === '') fail(`\`${field}\` must match files, not only the base directory`);
  return p;
}
