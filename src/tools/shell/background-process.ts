// One background shell command: the leader of its own process group (like foreground `bash`),
// stdout and stderr interleaved into a rotating log file, a watchdog, and a stop that escalates
// SIGTERM → SIGKILL over the whole tree and reports what it could confirm.
import { spawn } from 'node:child_process';
import { closed, groupExists, signalGroup, withTimeout } from './process-group.ts';
import {
  groupIsOurs,
  groupMembers,
  identify,
  markedProcesses,
  type ProcessIdentity,
} from './process-identity.ts';
import type { AppendLog, LogState } from './rotating-log.ts';

export interface BackgroundSpawn {
  file: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export interface BackgroundOptions extends BackgroundSpawn {
  log: AppendLog;
  /** Watchdog: the tree is killed after this long. */
  maxRuntimeMs: number;
  /** Time between SIGTERM and SIGKILL. */
  killGraceMs: number;
  /** Called after each rotation of the log (to persist the counters). */
  onRotate?: (state: LogState) => void;
}

/** The `process_tree_*` evidence of api-core §6.2. */
export interface ShutdownEvidence {
  process_tree_shutdown_supported: boolean;
  process_tree_shutdown_matched_target: boolean;
  process_tree_shutdown_signal_sent: boolean;
  process_tree_shutdown_confirmed: boolean;
  process_tree_remaining_pids: number[];
}

export interface BackgroundExit {
  exit_code: number | null;
  signal: string | null;
  timed_out: boolean;
  /** stop() was called before the command ended on its own. */
  stopped: boolean;
  duration_ms: number;
  spawn_error?: string;
  /** Present when the daemon had to terminate the tree (stop or watchdog). */
  shutdown?: ShutdownEvidence;
}

export interface BackgroundProcess {
  pid: number | undefined;
  /** Recorded durably so a later daemon can tell this group from a reused pid. */
  identity: ProcessIdentity | null;
  exited: Promise<BackgroundExit>;
  /** Terminates the tree; resolves when the escalation is over (the exit may follow). */
  stop(): Promise<ShutdownEvidence>;
}

const POLL_MS = 25;
const PIPE_DRAIN_MS = 1000;
const MAX_REPORTED_PIDS = 16;
const SUPPORTED = process.platform !== 'win32';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitGone(pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (groupExists(pgid)) {
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
  return true;
}

/** SIGTERM the group, SIGKILL what is left after the grace period, then report. */
export async function shutdownProcessGroup(pgid: number, graceMs: number): Promise<ShutdownEvidence> {
  const sent = signalGroup(pgid, 'SIGTERM');
  let gone = sent ? await waitGone(pgid, graceMs) : !groupExists(pgid);
  if (!gone) {
    signalGroup(pgid, 'SIGKILL');
    gone = await waitGone(pgid, 1000);
  }
  return {
    process_tree_shutdown_supported: SUPPORTED,
    process_tree_shutdown_matched_target: true,
    process_tree_shutdown_signal_sent: sent,
    process_tree_shutdown_confirmed: gone,
    process_tree_remaining_pids: gone ? [] : groupMembers(pgid, MAX_REPORTED_PIDS),
  };
}

/**
 * A group a dead daemon started: signalled only when it is provably ours (same leader start time
 * on the same boot, or a member carrying the task's environment marker).
 */
export async function shutdownRecordedGroup(
  recorded: { pgid: number; start_ticks: number; boot_id: string },
  taskId: string,
  graceMs: number,
): Promise<ShutdownEvidence> {
  const { members, matched } = groupIsOurs(recorded, taskId);
  if (matched) return shutdownProcessGroup(recorded.pgid, graceMs);
  return {
    process_tree_shutdown_supported: SUPPORTED,
    process_tree_shutdown_matched_target: false,
    process_tree_shutdown_signal_sent: false,
    // Nothing left in the group: the tree is gone. Members we cannot prove ours stay untouched.
    process_tree_shutdown_confirmed: members.length === 0,
    process_tree_remaining_pids: members.slice(0, MAX_REPORTED_PIDS),
  };
}

/** No group was recorded (a crash right after the spawn): find the task's processes by marker. */
export async function shutdownMarkedProcesses(taskId: string, graceMs: number): Promise<ShutdownEvidence> {
  const groups = [...new Set(markedProcesses(taskId).map((p) => p.pgid))];
  if (groups.length === 0)
    return {
      process_tree_shutdown_supported: SUPPORTED,
      process_tree_shutdown_matched_target: false,
      process_tree_shutdown_signal_sent: false,
      process_tree_shutdown_confirmed: true,
      process_tree_remaining_pids: [],
    };
  const all = await Promise.all(groups.map((g) => shutdownProcessGroup(g, graceMs)));
  return {
    process_tree_shutdown_supported: SUPPORTED,
    process_tree_shutdown_matched_target: true,
    process_tree_shutdown_signal_sent: all.some((e) => e.process_tree_shutdown_signal_sent),
    process_tree_shutdown_confirmed: all.every((e) => e.process_tree_shutdown_confirmed),
    process_tree_remaining_pids: all
      .flatMap((e) => e.process_tree_remaining_pids)
      .slice(0, MAX_REPORTED_PIDS),
  };
}

export function startBackground(o: BackgroundOptions): BackgroundProcess {
  const started = performance.now();
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(o.file, o.args, {
      cwd: o.cwd,
      env: o.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    o.log.close();
    const exit: BackgroundExit = {
      exit_code: null,
      signal: null,
      timed_out: false,
      stopped: false,
      duration_ms: 0,
      spawn_error: (e as Error).message,
    };
    const none: ShutdownEvidence = {
      process_tree_shutdown_supported: SUPPORTED,
      process_tree_shutdown_matched_target: false,
      process_tree_shutdown_signal_sent: false,
      process_tree_shutdown_confirmed: true,
      process_tree_remaining_pids: [],
    };
    return { pid: undefined, identity: null, exited: Promise.resolve(exit), stop: async () => none };
  }
  const pgid = child.pid;
  const identity = pgid === undefined ? null : identify(pgid);
  let stopped = false;
  let timedOut = false;
  let shutdown: Promise<ShutdownEvidence> | undefined;
  const terminate = (): Promise<ShutdownEvidence> => {
    shutdown ??=
      pgid === undefined
        ? Promise.resolve({
            process_tree_shutdown_supported: SUPPORTED,
            process_tree_shutdown_matched_target: false,
            process_tree_shutdown_signal_sent: false,
            process_tree_shutdown_confirmed: true,
            process_tree_remaining_pids: [],
          })
        : shutdownProcessGroup(pgid, o.killGraceMs);
    return shutdown;
  };

  const write = (c: Buffer) => {
    const before = o.log.state().rotation_count;
    try {
      o.log.append(c);
    } catch {
      // A full disk must not crash the daemon; the command keeps running, its output is lost.
      return;
    }
    const after = o.log.state();
    if (after.rotation_count !== before) o.onRotate?.(after);
  };
  child.stdout!.on('data', write);
  child.stderr!.on('data', write);
  const streamsClosed = Promise.all([closed(child.stdout!), closed(child.stderr!)]);

  const watchdog = setTimeout(() => {
    timedOut = true;
    void terminate();
  }, o.maxRuntimeMs);
  watchdog.unref();

  const exited = new Promise<BackgroundExit>((resolve) => {
    let settled = false;
    const finish = (exit: BackgroundExit) => {
      if (settled) return;
      settled = true;
      clearTimeout(watchdog);
      o.log.close();
      resolve(exit);
    };
    child.once('error', (e) => {
      finish({
        exit_code: null,
        signal: null,
        timed_out: false,
        stopped,
        duration_ms: Math.round(performance.now() - started),
        spawn_error: e.message,
      });
    });
    child.once('exit', (code, sig) => {
      // Leftover `&` jobs die with the command, as with foreground bash.
      const reap = shutdown ?? (pgid !== undefined && groupExists(pgid) ? terminate() : undefined);
      void Promise.resolve(reap)
        .then(async (evidence) => {
          await withTimeout(streamsClosed, PIPE_DRAIN_MS);
          child.stdout!.destroy();
          child.stderr!.destroy();
          finish({
            exit_code: code,
            signal: sig,
            timed_out: timedOut,
            stopped,
            duration_ms: Math.round(performance.now() - started),
            shutdown: stopped || timedOut ? evidence : undefined,
          });
        })
        .catch(() => undefined);
    });
  });

  return {
    pid: pgid,
    identity,
    exited,
    stop: () => {
      stopped = true;
      return terminate();
    },
  };
}
