// Background shell tasks: the `bash` tool's `run_in_background` lands here. The task row is
// durable before the process exists; the process identity is recorded right after the spawn; the
// final status follows the exit (completed on 0, failed otherwise, cancelled only for a stop).
// Tasks never survive the daemon: boot recovery settles them as failed (daemon_restarted) after
// killing any process tree that is provably still ours; nothing is ever re-run or re-attached.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { monotonicFactory } from 'ulid';
import type { EventLog } from '../../store/event-log.ts';
import {
  dependentsOf,
  getTask,
  insertTask,
  liveShellTasks,
  type TaskRow,
  updateTask,
} from '../../store/repos/tasks.ts';
import type { Store, WriteTx } from '../../store/store.ts';
import {
  type BackgroundExit,
  type BackgroundProcess,
  type ShutdownEvidence,
  shutdownMarkedProcesses,
  shutdownRecordedGroup,
  startBackground,
} from '../../tools/shell/background-process.ts';
import { TASK_ENV_MARKER } from '../../tools/shell/process-identity.ts';
import {
  type LogState,
  RotatingLog,
  readLogState,
  removeRotationLeftover,
} from '../../tools/shell/rotating-log.ts';
import type {
  ShellTaskLaunch,
  ShellTaskLauncher,
  ShellTaskLaunchRequest,
} from '../../tools/shell/task-launcher.ts';
import { isTerminalTask, metadataOf, publishTasks, reconcileDependents } from './records.ts';

const ulid = monotonicFactory();

export interface ShellTaskOptions {
  store: Store;
  events: EventLog;
  /** `<state_root>/blobs/tasks`. */
  outputDir: string;
  /** Retained output cap per task (rotation keeps the newest half). */
  outputMaxBytes: number;
  /** Watchdog upper bound; a call's `timeout_ms` may only lower it. */
  maxRuntimeMs: number;
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
  /** Resolves once the final status is committed. */
  settled: Promise<void>;
  stopRequested: boolean;
  lastPersistMs: number;
}

const counters = (s: LogState) => ({
  output_size_bytes: s.size_bytes,
  output_total_bytes: s.total_bytes,
  output_rotated: s.rotated,
  output_rotation_count: s.rotation_count,
});

export class ShellTasks implements ShellTaskLauncher {
  private readonly o: ShellTaskOptions;
  private readonly live = new Map<string, LiveShell>();
  private closing = false;
  /** Called after a task became terminal (wakes output waiters). */
  onSettled: (taskId: string) => void = () => undefined;

  constructor(o: ShellTaskOptions) {
    this.o = o;
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
    mkdirSync(this.o.outputDir, { recursive: true, mode: 0o700 });
    const taskId = `task-${ulid().toLowerCase()}`;
    const path = join(this.o.outputDir, `${taskId}.log`);
    const maxRuntime = Math.min(req.timeout_ms ?? this.o.maxRuntimeMs, this.o.maxRuntimeMs);
    const title = req.command.length > 120 ? `${req.command.slice(0, 117)}...` : req.command;
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
          ...counters({ size_bytes: 0, total_bytes: 0, rotated: false, rotation_count: 0 }),
        }),
        created_by_run_id: req.run_id,
        created_at_ms: tx.now,
        updated_at_ms: tx.now,
        archived_at_ms: null,
      };
      await insertTask(tx.db, row);
      await publishTasks(tx, this.o.events, [{ taskId, before: null }]);
    });
    const log = new RotatingLog(path, this.o.outputMaxBytes);
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
      settled: new Promise<void>((r) => {
        markSettled = r;
      }),
      stopRequested: false,
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
    if (now && isTerminalTask(now.status)) {
      live.stopRequested = true;
      void proc.stop();
    }
    void proc.exited
      .then((exit) => (this.closing ? undefined : this.settle(taskId, exit)))
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
    if (!live.stopRequested) {
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

  private async settle(taskId: string, exit: BackgroundExit): Promise<void> {
    const live = this.live.get(taskId);
    await this.change(taskId, (row, meta, now) => {
      const state = readLogState(String(meta.output_file_path));
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

  /** Applies one change to a task row and publishes it; completion reconciles dependents. */
  private async change(
    taskId: string,
    fn: (
      row: TaskRow,
      meta: Record<string, unknown>,
      now: number,
    ) => { status?: string; metadata: Record<string, unknown>; skip?: boolean },
  ): Promise<void> {
    await this.o.store.write(async (tx) => {
      const row = await getTask(tx.db, taskId);
      if (!row) return;
      const next = fn(row, metadataOf(row), tx.now);
      if (next.skip) return;
      await this.apply(tx, row, next.status ?? row.status, next.metadata);
    });
  }

  private async apply(tx: WriteTx, row: TaskRow, status: string, metadata: Record<string, unknown>) {
    await updateTask(tx.db, row.task_id, {
      status,
      metadata: JSON.stringify(metadata),
      updated_at_ms: tx.now,
    });
    const dependents =
      status !== row.status
        ? await reconcileDependents(tx, row.session_id, await dependentsOf(tx.db, row.task_id))
        : [];
    await publishTasks(tx, this.o.events, [{ taskId: row.task_id, before: row }, ...dependents]);
  }

  /**
   * Boot: shell tasks of a dead daemon become failed (daemon_restarted, recovered_on_boot). A
   * process tree still alive is killed first, only when it is provably ours.
   */
  async recover(graceMs = 2000): Promise<number> {
    const rows = await liveShellTasks(this.o.store.db);
    const evidence = await Promise.all(rows.map((row) => this.reapLeftover(row, graceMs)));
    await this.o.store.write(async (tx) => {
      for (const [i, row] of rows.entries()) {
        const meta = metadataOf(row);
        const path = String(meta.output_file_path ?? join(this.o.outputDir, `${row.task_id}.log`));
        removeRotationLeftover(path);
        await this.apply(tx, row, 'failed', {
          ...meta,
          ...counters(readLogState(path)),
          exit_code: null,
          terminal_reason: 'daemon_restarted',
          recovered_on_boot: true,
          recovered_at_ms: tx.now,
          ...evidence[i],
        });
      }
    });
    for (const row of rows)
      this.o.log.warn(
        { task_id: row.task_id, session_id: row.session_id },
        'a background shell task did not survive the previous daemon process: marked failed (daemon_restarted)',
      );
    return rows.length;
  }

  private reapLeftover(row: TaskRow, graceMs: number): Promise<ShutdownEvidence> {
    const meta = metadataOf(row);
    const pgid = meta.process_group_id;
    if (
      typeof pgid === 'number' &&
      typeof meta.process_start_ticks === 'number' &&
      typeof meta.boot_id === 'string'
    )
      return shutdownRecordedGroup(
        { pgid, start_ticks: meta.process_start_ticks, boot_id: meta.boot_id },
        row.task_id,
        graceMs,
      );
    return shutdownMarkedProcesses(row.task_id, graceMs);
  }

  /** Drain: kill every live tree and settle the tasks as failed (daemon_shutdown). */
  async shutdown(): Promise<void> {
    this.closing = true;
    const entries = [...this.live.entries()];
    const evidence = await Promise.all(entries.map(([, l]) => l.proc.stop()));
    const exits = await Promise.all(entries.map(([, l]) => l.proc.exited));
    await this.o.store
      .write(async (tx) => {
        for (const [i, [taskId]] of entries.entries()) {
          const row = await getTask(tx.db, taskId);
          if (!row || isTerminalTask(row.status)) continue;
          const meta = metadataOf(row);
          await this.apply(tx, row, 'failed', {
            ...meta,
            ...counters(readLogState(String(meta.output_file_path))),
            exit_code: exits[i]!.exit_code,
            signal: exits[i]!.signal,
            terminal_reason: 'daemon_shutdown',
            finished_at_ms: tx.now,
            ...evidence[i],
          });
        }
      })
      .catch((err) => this.o.log.warn({ err: String(err) }, 'could not settle shell tasks at shutdown'));
    this.live.clear();
  }
}
