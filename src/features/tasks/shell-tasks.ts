// Background shell tasks: the `bash` tool's `run_in_background` lands here. The task row is
// durable before the process exists; the process identity is recorded right after the spawn; the
// final status follows the exit (completed on 0, failed otherwise, cancelled only for a stop).
// Tasks never survive the daemon: boot recovery settles them as failed (daemon_restarted) after
// killing any process tree that is provably still ours; nothing is ever re-run or re-attached.
// With several replicas on one database a task belongs to the replica that started it
// (`owner_replica`): recovery settles only tasks whose owner is this replica or dead (ownership.ts),
// never a live replica's.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { monotonicFactory } from 'ulid';
import type { EventLog } from '../../store/event-log.ts';
import { getTask, insertTask, type TaskRow, updateTask } from '../../store/repos/tasks.ts';
import type { Store } from '../../store/store.ts';
import {
  type BackgroundExit,
  type BackgroundProcess,
  startBackground,
} from '../../tools/shell/background-process.ts';
import { TASK_ENV_MARKER } from '../../tools/shell/process-identity.ts';
import type { LogState } from '../../tools/shell/rotating-log.ts';
import type {
  ShellTaskLaunch,
  ShellTaskLauncher,
  ShellTaskLaunchRequest,
} from '../../tools/shell/task-launcher.ts';
import { type TaskLog, TaskOutputs } from './output-store.ts';
import type { TaskReplica } from './ownership.ts';
import {
  changeTask,
  commitTaskChange,
  isTerminalTask,
  metadataOf,
  publishTasks,
  type TaskChange,
} from './records.ts';
import { outputCounters, ShellRecovery } from './shell-recovery.ts';

const ulid = monotonicFactory();

export interface ShellTaskOptions {
  store: Store;
  events: EventLog;
  /** Where output goes: files under `<state_root>/blobs/tasks`, or the database (PostgreSQL). */
  outputs: TaskOutputs;
  /** `<state_root>/blobs/tasks` (created for file outputs). */
  outputDir: string;
  /** Watchdog upper bound; a call's `timeout_ms` may only lower it. */
  maxRuntimeMs: number;
  replica: TaskReplica;
  log: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
}

export const SHELL_TASK_DEFAULTS = {
  outputMaxBytes: 8 * 1024 * 1024,
  maxRuntimeMs: 2 * 60 * 60 * 1000,
  /** How long POST …/stop waits for the tree to go before answering `in_progress`. */
  stopWaitMs: 1500,
  maxLive: 32,
  /** Rotation counters are persisted at most this often while a task runs. */
  rotationPersistMs: 1000,
} as const;

interface LiveShell {
  proc: BackgroundProcess;
  log: TaskLog;
  /** Resolves once the final status is committed. */
  settled: Promise<void>;
  stopRequested: boolean;
  /** The process has ended (its final status is being written). */
  exited: boolean;
  lastPersistMs: number;
}

const EMPTY_STATE: LogState = { size_bytes: 0, total_bytes: 0, rotation_count: 0, rotated: false };

const counters = outputCounters;

export class ShellTasks implements ShellTaskLauncher {
  private readonly o: ShellTaskOptions;
  private readonly live = new Map<string, LiveShell>();
  private closing = false;
  private readonly recovery: ShellRecovery;
  /** Called after a task became terminal (wakes output waiters). */
  onSettled: (taskId: string) => void = () => undefined;

  constructor(o: ShellTaskOptions) {
    this.o = o;
    this.recovery = new ShellRecovery(o, (id) => this.onSettled(id));
  }

  get liveCount(): number {
    return this.live.size;
  }

  isLive(taskId: string): boolean {
    return this.live.has(taskId);
  }

  async launchShellTask(req: ShellTaskLaunchRequest): Promise<ShellTaskLaunch> {
    if (this.closing) throw new Error('the daemon is shutting down; no new background tasks');
    if (this.live.size >= SHELL_TASK_DEFAULTS.maxLive)
      throw new Error(
        `${this.live.size} background tasks are already running (the limit); stop one with task_stop first`,
      );
    const taskId = `task-${ulid().toLowerCase()}`;
    const file = this.o.outputs.storeKind === 'file';
    if (file) mkdirSync(this.o.outputDir, { recursive: true, mode: 0o700 });
    const path = file ? this.o.outputs.pathOf(taskId) : null;
    const maxRuntime = Math.min(req.timeout_ms ?? this.o.maxRuntimeMs, this.o.maxRuntimeMs);
    const title = req.command.length > 120 ? `${req.command.slice(0, 117)}...` : req.command;
    const owner = this.o.replica.replicaId;
    // Durable before the process exists: a crash from here on leaves a row boot recovery settles.
    await this.o.store.write(async (tx) => {
      const row: TaskRow = {
        task_id: taskId,
        session_id: req.session_id,
        kind: 'shell',
        title,
        description: `background shell command (bash tool call ${req.tool_call_id})`,
        status: 'pending',
        owner_agent_id: req.agent_id,
        output: null,
        metadata: JSON.stringify({
          task_kind: 'shell',
          command: req.command,
          workdir: req.workdir,
          run_id: req.run_id,
          tool_call_id: req.tool_call_id,
          sandboxed: req.sandboxed,
          network: req.network,
          max_runtime_ms: maxRuntime,
          output_file_path: path,
          output_store: this.o.outputs.storeKind,
          owner_replica: owner,
          ...counters({ size_bytes: 0, total_bytes: 0, rotated: false, rotation_count: 0 }),
        }),
        created_by_run_id: req.run_id,
        created_at_ms: tx.now,
        updated_at_ms: tx.now,
        archived_at_ms: null,
        owner_replica: owner,
      };
      await insertTask(tx.db, row);
      await publishTasks(tx, this.o.events, [{ taskId, before: null }]);
    });
    const { log } = this.o.outputs.open(taskId);
    const proc = startBackground({
      ...req.spawn,
      env: { ...req.spawn.env, [TASK_ENV_MARKER]: taskId },
      log,
      maxRuntimeMs: maxRuntime,
      killGraceMs: req.kill_grace_ms,
      onRotate: (state) => this.persistRotation(taskId, state),
    });
    let markSettled!: () => void;
    const live: LiveShell = {
      proc,
      log,
      settled: new Promise<void>((r) => {
        markSettled = r;
      }),
      stopRequested: false,
      exited: false,
      lastPersistMs: 0,
    };
    this.live.set(taskId, live);
    await this.change(taskId, (row, meta, now) => ({
      status: 'in_progress',
      metadata: {
        ...meta,
        started_at_ms: now,
        process_id: proc.pid ?? null,
        process_group_id: proc.pid ?? null,
        process_start_ticks: proc.identity?.start_ticks ?? null,
        boot_id: proc.identity?.boot_id ?? null,
      },
      skip: isTerminalTask(row.status),
    }));
    // Stopped while the spawn was in flight (no live entry yet): the stop wins.
    const now = await getTask(this.o.store.db, taskId);
    if (now && (isTerminalTask(now.status) || metadataOf(now).stop_requested === true)) {
      live.stopRequested = true;
      void proc.stop();
    }
    void proc.exited
      .then((exit) => {
        live.exited = true;
        return this.closing ? undefined : this.settle(taskId, exit, log);
      })
      .catch((err) => this.o.log.warn({ task_id: taskId, err: String(err) }, 'could not settle a shell task'))
      .finally(() => {
        if (!this.closing) this.live.delete(taskId);
        markSettled();
      });
    return {
      task_id: taskId,
      status: now?.status ?? 'in_progress',
      output_file_path: path,
      max_runtime_ms: maxRuntime,
    };
  }

  /**
   * Stops a live task: records stop_requested, signals the tree, and waits briefly for the final
   * status. Returns false when the task has no live process here.
   */
  async stop(taskId: string, reason: string | undefined): Promise<boolean> {
    const live = this.live.get(taskId);
    if (!live) return false;
    if (!live.stopRequested && !live.exited) {
      live.stopRequested = true;
      await this.change(taskId, (row, meta, now) => ({
        metadata: { ...meta, stop_requested: true, stop_requested_at_ms: now, stop_reason: reason ?? null },
        skip: isTerminalTask(row.status),
      }));
      void live.proc.stop();
    }
    await Promise.race([
      live.settled,
      new Promise((r) => setTimeout(r, SHELL_TASK_DEFAULTS.stopWaitMs).unref()),
    ]);
    return true;
  }

  /**
   * Signals a running task's tree without writing: another replica already wrote why, either a stop
   * request (`requested`) or the task's final status (`settled`: it took this replica for dead,
   * e.g. after it was cut off from the database, and the process must not outlive its row).
   */
  signalStop(taskId: string, why: 'requested' | 'settled'): void {
    const live = this.live.get(taskId);
    if (!live || live.exited || live.stopRequested) return;
    live.stopRequested = true;
    if (why === 'settled')
      this.o.log.warn(
        { task_id: taskId },
        'another replica settled this background task: stopping its process',
      );
    void live.proc.stop();
  }

  /** Tasks of this process still running that no stop was sent to yet. */
  unstopped(): string[] {
    return [...this.live].filter(([, l]) => !l.exited && !l.stopRequested).map(([taskId]) => taskId);
  }

  private async settle(taskId: string, exit: BackgroundExit, log: TaskLog): Promise<void> {
    const live = this.live.get(taskId);
    // Readers that see the final status see all the output.
    await log.flushed();
    const before = await getTask(this.o.store.db, taskId);
    const state = before ? await this.o.outputs.state(before) : log.state();
    await this.change(taskId, (row, meta, now) => {
      const stopped = exit.stopped || live?.stopRequested === true;
      const ok = exit.exit_code === 0 && !exit.timed_out && !exit.spawn_error;
      const status = stopped ? 'cancelled' : ok ? 'completed' : 'failed';
      const reason = stopped
        ? 'stopped'
        : exit.spawn_error
          ? 'spawn_failed'
          : exit.timed_out
            ? 'timed_out'
            : 'exited';
      return {
        status,
        metadata: {
          ...meta,
          ...counters(state),
          exit_code: exit.exit_code,
          signal: exit.signal,
          timed_out: exit.timed_out,
          duration_ms: exit.duration_ms,
          finished_at_ms: now,
          terminal_reason: reason,
          ...(exit.spawn_error ? { error: `could not start the command: ${exit.spawn_error}` } : {}),
          ...(exit.shutdown ?? {}),
        },
        skip: isTerminalTask(row.status),
      };
    });
    this.onSettled(taskId);
  }

  private persistRotation(taskId: string, state: LogState): void {
    const live = this.live.get(taskId);
    const now = Date.now();
    if (!live || now - live.lastPersistMs < SHELL_TASK_DEFAULTS.rotationPersistMs) return;
    live.lastPersistMs = now;
    // Bookkeeping only (no event): the file's own marker stays the source of truth.
    void this.o.store
      .write(async (tx) => {
        const row = await getTask(tx.db, taskId);
        if (!row || isTerminalTask(row.status)) return;
        await updateTask(tx.db, taskId, {
          metadata: JSON.stringify({ ...metadataOf(row), ...counters(state) }),
        });
      })
      .catch(() => undefined);
  }

  private change(taskId: string, fn: TaskChange): Promise<void> {
    return changeTask(this.o.store, this.o.events, taskId, fn);
  }

  /**
   * Boot: shell tasks of a daemon process that is gone become failed (daemon_restarted); see
   * shell-recovery.ts for which ones (never a live replica's).
   */
  recover(graceMs = 2000): Promise<number> {
    return this.recovery.recover(graceMs);
  }

  /** Later (shared database): tasks whose owner died since (or only these) are settled the same way. */
  settleDeadOwners(only?: string[], graceMs = 2000): Promise<number> {
    return this.recovery.settleDeadOwners(only, graceMs);
  }
  /**
   * Drain: kill every live tree and record how it ended (exit, signal, tree evidence, the output
   * counters) on the task, which stays unsettled: as after a crash, the restart settles it failed
   * with daemon_restarted and recovered_on_boot (ops-runtime #42), keeping this evidence; on a
   * shared database another replica may settle it first, once this one is marked stopped.
   */
  async shutdown(): Promise<void> {
    this.closing = true;
    const entries = [...this.live.entries()];
    const evidence = await Promise.all(entries.map(([, l]) => l.proc.stop()));
    const exits = await Promise.all(entries.map(([, l]) => l.proc.exited));
    await Promise.all(entries.map(([, l]) => l.log.flushed()));
    const states = new Map<string, LogState>();
    for (const [taskId] of entries) {
      const row = await getTask(this.o.store.db, taskId).catch(() => undefined);
      if (row) states.set(taskId, await this.o.outputs.state(row).catch(() => EMPTY_STATE));
    }
    await this.o.store
      .write(async (tx) => {
        for (const [i, [taskId]] of entries.entries()) {
          const row = await getTask(tx.db, taskId);
          if (!row || isTerminalTask(row.status)) continue;
          const meta = metadataOf(row);
          await commitTaskChange(tx, this.o.events, row, row.status, {
            ...meta,
            ...counters(states.get(taskId) ?? EMPTY_STATE),
            exit_code: exits[i]!.exit_code,
            signal: exits[i]!.signal,
            stopped_at_shutdown_ms: tx.now,
            ...evidence[i],
          });
        }
      })
      .catch((err) =>
        this.o.log.warn({ err: String(err) }, 'could not record the shell tasks stopped at shutdown'),
      );
    this.live.clear();
  }
}

/**
 * The shell tasks of a daemon and where their output goes: files under <state_root>/blobs/tasks on
 * SQLite (ARCHITECTURE §4), the database when replicas share PostgreSQL.
 */
export function createShellTasks(o: {
  store: Store;
  events: EventLog;
  stateRoot: string;
  outputMaxBytes?: number;
  maxRuntimeMs?: number;
  replica?: { replicaId: string; ttlMs: number };
  log: ShellTaskOptions['log'];
}): { shell: ShellTasks; outputs: TaskOutputs; replica: TaskReplica } {
  const shared = o.store.dialect === 'postgres';
  const replica: TaskReplica = {
    replicaId: o.replica?.replicaId ?? 'local',
    ttlMs: o.replica?.ttlMs ?? 15_000,
    shared,
  };
  const outputDir = join(o.stateRoot, 'blobs', 'tasks');
  const outputs = new TaskOutputs({
    store: o.store,
    dir: outputDir,
    cap: o.outputMaxBytes ?? SHELL_TASK_DEFAULTS.outputMaxBytes,
    kind: shared ? 'database' : 'file',
    warn: (obj, msg) => o.log.warn(obj, msg),
  });
  const shell = new ShellTasks({
    store: o.store,
    events: o.events,
    outputs,
    outputDir,
    maxRuntimeMs: o.maxRuntimeMs ?? SHELL_TASK_DEFAULTS.maxRuntimeMs,
    replica,
    log: o.log,
  });
  return { shell, outputs, replica };
}
