// The `bash` built-in tool: one shell command in the session workspace, bounded in time and
// output, killed as a process group on cancel/timeout, inside bubblewrap when it works here.
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ToolContext, ToolDefinition, ToolRegistry, ToolResult } from '../registry.ts';
import type { GroupRunResult } from './process-group.ts';
import { runInProcessGroup } from './process-group.ts';
import type { SandboxStatus } from './sandbox.ts';
import { bwrapArgs, isWithin, sandboxStatus } from './sandbox.ts';
import type { ShellTaskLauncher } from './task-launcher.ts';

export interface ShellToolOptions {
  /** `auto` (default) sandboxes when bwrap works; `off` never; `require` refuses to run without it. */
  sandbox?: 'auto' | 'off' | 'require';
  /** Lets sandboxed commands reach the network (shares the host network namespace). */
  allowNetwork?: boolean;
  defaultTimeoutMs?: number;
  /** Upper bound for the `timeout_ms` argument (ToolRuntimeLimits.max_timeout_ms). */
  maxTimeoutMs?: number;
  /** Cap per stream (stdout and stderr each). */
  maxOutputBytes?: number;
  killGraceMs?: number;
  /** Masked inside the sandbox, e.g. the daemon state root (database, secret store). */
  hiddenPaths?: string[];
  /** Extra environment for commands; the daemon's own environment is not passed through. */
  env?: Record<string, string>;
  /** Overrides the probe (tests, or a daemon that probed already). */
  sandboxStatus?: () => SandboxStatus;
  /**
   * Live ToolRuntimeLimits, read at every call (limit changes apply to the next call without
   * re-registering). They can only lower the caps above, never raise them.
   */
  limits?: () => RuntimeLimitsView;
  /** Starts `run_in_background` commands as daemon tasks; without it they are refused. */
  backgroundTasks?: ShellTaskLauncher;
}

export interface RuntimeLimitsView {
  max_timeout_ms?: number;
  max_output_bytes?: number;
}

export const BASH_DEFAULTS = {
  defaultTimeoutMs: 20_000,
  maxTimeoutMs: 180_000,
  maxOutputBytes: 64 * 1024,
  killGraceMs: 2_000,
} as const;

// Variables a shell needs to behave normally. Everything else (API keys, the master key, tokens
// the daemon was started with) stays out of model-driven commands.
const INHERITED_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'SHELL'];

const INPUT_SCHEMA = {
  type: 'object',
  properties: {
    command: { type: 'string', minLength: 1, description: 'Shell command, run with `bash -c`.' },
    workdir: {
      type: 'string',
      description: 'Working directory, relative to the workspace root (default: the root).',
    },
    timeout_ms: {
      type: 'integer',
      minimum: 1,
      description:
        'Timeout in milliseconds (capped by the daemon). With run_in_background: the maximum runtime of the task.',
    },
    run_in_background: {
      type: 'boolean',
      description:
        'Start the command as a background task and return at once with its task_id; read its output with ' +
        'task_output and stop it with task_stop. Use it for servers, watchers and long builds.',
    },
  },
  required: ['command'],
  additionalProperties: false,
} as const;

export function createBashTool(opts: ShellToolOptions = {}): ToolDefinition {
  return {
    name: 'bash',
    description:
      'Executes one shell command with `bash -c` inside the workspace root and returns exit_code, stdout ' +
      'and stderr. Output is capped; long-running commands are killed at the timeout. With ' +
      '`run_in_background: true` the command becomes a session task instead (returns task_id at once).',
    input_schema: INPUT_SCHEMA,
    side_effects: true,
    execute: (args, ctx) => executeBash(args, ctx, opts),
  };
}

export function registerShellTool(registry: ToolRegistry, opts: ShellToolOptions = {}): void {
  registry.register(createBashTool(opts));
}

async function executeBash(
  args: Record<string, unknown>,
  ctx: ToolContext,
  opts: ShellToolOptions,
): Promise<ToolResult> {
  const command = args['command'];
  if (typeof command !== 'string' || command.trim() === '') {
    return refuse('bash: `command` must be a non-empty string');
  }
  if (!ctx.workspace_root) {
    return refuse('bash: this daemon has no workspace root configured, so shell commands are disabled');
  }
  const dirs = resolveWorkdir(ctx.workspace_root, args['workdir']);
  if ('error' in dirs) return refuse(`bash: ${dirs.error}`);
  const background = args['run_in_background'];
  if (background !== undefined && typeof background !== 'boolean')
    return refuse('bash: `run_in_background` must be a boolean');
  const limits = opts.limits?.() ?? {};
  const timeout = background
    ? backgroundTimeout(args['timeout_ms'])
    : effectiveTimeout(args['timeout_ms'], opts, limits);
  if (typeof timeout === 'string') return refuse(`bash: ${timeout}`);

  const mode = opts.sandbox ?? 'auto';
  const status = mode === 'off' ? undefined : (opts.sandboxStatus ?? sandboxStatus)();
  if (mode === 'require' && !status?.available) {
    return refuse(`bash: a sandbox is required but unavailable: ${status?.reason ?? 'bwrap not found'}`);
  }
  const sandboxed = status?.available === true && status.binary !== undefined;
  // The engine grants network (a `bash:network` allow rule) and may cap the workspace to read-only
  // (ToolRuntimeLimits.max_sandbox); without a context grant the static option decides.
  const allowNetwork = ctx.sandbox?.network ?? opts.allowNetwork === true;
  const readOnly = ctx.sandbox?.workspace_writable === false;
  if (readOnly && !sandboxed)
    return refuse(
      'bash: the tool limits cap the sandbox at read_only, which needs bubblewrap; it is not available here',
    );
  const shellArgs = ['-c', command];
  const spawnPlan = {
    file: sandboxed ? status.binary! : 'bash',
    args: sandboxed
      ? [
          ...bwrapArgs({
            workspace: dirs.root,
            workdir: dirs.workdir,
            allowNetwork,
            readOnlyWorkspace: readOnly,
            hiddenPaths: opts.hiddenPaths,
          }),
          '--',
          'bash',
          ...shellArgs,
        ]
      : shellArgs,
    cwd: dirs.workdir,
    env: commandEnv(opts.env, sandboxed),
  };
  if (background) {
    if (!opts.backgroundTasks) return refuse('bash: background tasks are not available in this daemon');
    const task = await opts.backgroundTasks.launchShellTask({
      session_id: ctx.session_id,
      run_id: ctx.run_id,
      agent_id: ctx.agent_id,
      tool_call_id: ctx.tool_call_id,
      command,
      workdir: dirs.workdir,
      sandboxed,
      network: sandboxed ? allowNetwork : true,
      spawn: spawnPlan,
      timeout_ms: timeout ?? undefined,
      kill_grace_ms: opts.killGraceMs ?? BASH_DEFAULTS.killGraceMs,
    });
    const out = {
      ...task,
      command,
      workdir: dirs.workdir,
      sandboxed,
      note: 'running in the background: read its output with task_output, stop it with task_stop',
    };
    return { content: JSON.stringify(out), is_error: false };
  }
  const run = await runInProcessGroup({
    ...spawnPlan,
    timeoutMs: timeout!,
    killGraceMs: opts.killGraceMs ?? BASH_DEFAULTS.killGraceMs,
    maxOutputBytes: Math.min(
      opts.maxOutputBytes ?? BASH_DEFAULTS.maxOutputBytes,
      limits.max_output_bytes ?? Number.POSITIVE_INFINITY,
    ),
    signal: ctx.signal,
  });
  // Cancellation is not a tool failure the model should read: the registry rethrows it and the
  // engine records the run as cancelled. The whole group is already dead at this point.
  if (run.aborted && ctx.signal.aborted) throw ctx.signal.reason ?? new Error('aborted');
  return render(command, dirs.workdir, timeout!, sandboxed, allowNetwork, run);
}

function render(
  command: string,
  workdir: string,
  timeoutMs: number,
  sandboxed: boolean,
  network: boolean,
  run: GroupRunResult,
): ToolResult {
  if (run.spawn_error) return refuse(`bash: could not start the command: ${run.spawn_error}`);
  const success = run.exit_code === 0 && !run.timed_out;
  const out: Record<string, unknown> = {
    command,
    workdir,
    exit_code: run.exit_code,
    success,
    stdout: run.stdout.text,
    stderr: run.stderr.text,
    stdout_truncated: run.stdout.truncated,
    stderr_truncated: run.stderr.truncated,
    stdout_bytes: run.stdout.total_bytes,
    stderr_bytes: run.stderr.total_bytes,
    signal: run.signal,
    timed_out: run.timed_out,
    timeout_ms: timeoutMs,
    duration_ms: run.duration_ms,
    sandboxed,
    network: sandboxed ? network : true,
  };
  if (run.timed_out) {
    out['error'] = `command timed out after ${timeoutMs} ms; its process group was killed`;
  }
  // A non-zero exit is an ordinary answer (the model reads exit_code); a timeout is not.
  return { content: JSON.stringify(out), is_error: run.timed_out };
}

function resolveWorkdir(root: string, raw: unknown): { root: string; workdir: string } | { error: string } {
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    return { error: `workspace root ${root} does not exist` };
  }
  if (raw === undefined || raw === null || raw === '') return { root: realRoot, workdir: realRoot };
  if (typeof raw !== 'string') return { error: '`workdir` must be a string' };
  const joined = path.resolve(realRoot, raw);
  if (!isWithin(realRoot, joined)) return { error: `workdir ${raw} is outside the workspace root` };
  let real: string;
  try {
    real = realpathSync(joined);
  } catch {
    return { error: `workdir ${raw} does not exist` };
  }
  // Checked again after resolving symlinks: a link inside the workspace may point outside it.
  if (!isWithin(realRoot, real)) return { error: `workdir ${raw} resolves outside the workspace root` };
  if (!statSync(real).isDirectory()) return { error: `workdir ${raw} is not a directory` };
  return { root: realRoot, workdir: real };
}

function effectiveTimeout(raw: unknown, opts: ShellToolOptions, limits: RuntimeLimitsView): number | string {
  const max = Math.min(
    opts.maxTimeoutMs ?? BASH_DEFAULTS.maxTimeoutMs,
    limits.max_timeout_ms ?? Number.POSITIVE_INFINITY,
  );
  if (raw === undefined || raw === null)
    return Math.min(opts.defaultTimeoutMs ?? BASH_DEFAULTS.defaultTimeoutMs, max);
  if (typeof raw !== 'number' || !Number.isFinite(raw) || raw <= 0) {
    return '`timeout_ms` must be a positive number';
  }
  return Math.min(Math.floor(raw), max);
}

/** Background tasks are bounded by the task watchdog, not by the foreground cap. */
function backgroundTimeout(raw: unknown): number | null | string {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'number' || !Number.isFinite(raw) || raw <= 0)
    return '`timeout_ms` must be a positive number';
  return Math.floor(raw);
}

function commandEnv(extra: Record<string, string> | undefined, sandboxed: boolean): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of INHERITED_ENV) {
    const v = process.env[key];
    if (v !== undefined) env[key] = v;
  }
  env['PATH'] ??= '/usr/local/bin:/usr/bin:/bin';
  env['TERM'] = 'dumb';
  // Inside the sandbox /tmp is private and empty; a host TMPDIR would not exist there.
  if (sandboxed) env['TMPDIR'] = '/tmp';
  else if (process.env['TMPDIR']) env['TMPDIR'] = process.env['TMPDIR'];
  return { ...env, ...extra };
}

function refuse(message: string): ToolResult {
  return { content: message, is_error: true };
}
