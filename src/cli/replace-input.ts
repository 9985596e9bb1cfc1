// The input of the `… set` commands that replace a whole runtime object (run-memory policy, tool
// limits, hook settings): exactly one of --file, --stdin or --reset, the JSON given either bare or
// as the wire body that wraps it under one key.
import type { Command } from 'commander';
import { jsonInput } from './approvals.ts';
import { UsageError } from './errors.ts';
import { revision } from './parse.ts';
import type { CliRuntime } from './runtime.ts';

export interface ReplaceFlags {
  file?: string;
  stdin?: boolean;
  reset?: boolean;
  expectedRevision?: number;
}

/** --file (described by `file`), --stdin, --reset (described by `reset`) and --expected-revision. */
export function replaceOptions(cmd: Command, file: string, reset: string): Command {
  return cmd
    .option('--file <path>', file)
    .option('--stdin', 'read that JSON from standard input')
    .option('--reset', reset)
    .option('--expected-revision <n>', 'fail with 409 unless the runtime is at this revision', revision);
}

/**
 * The value to send: `onReset` for --reset, else the JSON read from --file or --stdin (`label`
 * names it in errors), taken from under `key` when it is the wrapped request body.
 */
export async function replaceInput(
  rt: CliRuntime,
  flags: ReplaceFlags,
  opts: { label: string; key: string; onReset: unknown },
): Promise<unknown> {
  const sources = [flags.file !== undefined, flags.stdin === true, flags.reset === true].filter(Boolean);
  if (sources.length !== 1) throw new UsageError('give exactly one of --file, --stdin or --reset');
  if (flags.reset) return opts.onReset;
  const body = await jsonInput(rt, undefined, flags.stdin ? '-' : flags.file, opts.label);
  const wrapped = body && typeof body === 'object' && opts.key in (body as object);
  return wrapped ? (body as Record<string, unknown>)[opts.key] : body;
}
