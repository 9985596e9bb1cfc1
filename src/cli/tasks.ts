// `tasks` (alias `task`): list, get, output, stop session tasks (ops-runtime §2.10, api-core §6.2).
import { type Command, InvalidArgumentError } from 'commander';
import {
  getTask,
  getTaskOutput,
  isTerminalTaskStatus,
  listTasks,
  stopTask,
  TASK_STATUSES,
  type TaskOutputView,
  type TaskRecord,
  type TaskStatus,
} from '../sdk/tasks.ts';
import { itemsOf, type ListResult } from '../sdk/types.ts';
import { EXIT } from './errors.ts';
import { keyValues, oneLine, scalar, table, time } from './format.ts';
import { positiveInt } from './parse.ts';
import { pageFooter } from './render.ts';
import type { CliRuntime } from './runtime.ts';

/** `in-progress` on the command line, `in_progress` on the wire (both accepted). */
export function parseTaskStatus(value: string): TaskStatus {
  const v = value.trim().replaceAll('-', '_');
  if (!(TASK_STATUSES as readonly string[]).includes(v))
    throw new InvalidArgumentError(
      `expected one of ${TASK_STATUSES.map((s) => s.replaceAll('_', '-')).join(', ')}`,
    );
  return v as TaskStatus;
}

const nonNegativeInt = (value: string): number => {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
};

/** A shell command succeeded only when completed with exit code 0 (work tasks: completed). */
export function taskSucceeded(task: TaskRecord): boolean {
  if (task.status !== 'completed') return false;
  return task.kind !== 'shell' || task.metadata.exit_code === 0;
}

function outcome(task: TaskRecord): string {
  const m = task.metadata;
  const parts: string[] = [task.status];
  if (task.kind === 'shell' && m.exit_code !== undefined && m.exit_code !== null)
    parts.push(`exit ${m.exit_code}`);
  if (typeof m.terminal_reason === 'string' && m.terminal_reason !== 'exited') parts.push(m.terminal_reason);
  if (m.stop_requested === true && !isTerminalTaskStatus(task.status)) parts.push('stop requested');
  return parts.join(', ');
}

export function renderTaskList(result: ListResult<TaskRecord>): string[] {
  const items = itemsOf(result);
  if (items.length === 0) return ['no tasks', ...pageFooter(result)];
  return [
    ...table(
      ['TASK', 'STATUS', 'KIND', 'OWNER', 'BLOCKED BY', 'TITLE'],
      items.map((t) => [
        t.id,
        outcome(t),
        t.kind ?? '-',
        t.owner_agent_id ?? '-',
        t.blocked_by.length ? t.blocked_by.join(',') : '-',
        oneLine(t.title, 60),
      ]),
    ),
    ...pageFooter(result),
  ];
}

export function renderTask(t: TaskRecord): string[] {
  const m = t.metadata;
  const shell = t.kind === 'shell';
  return [
    ...keyValues([
      ['task', t.id],
      ['title', t.title],
      ['description', t.description || undefined],
      ['status', outcome(t)],
      ['kind', t.kind],
      ['owner', t.owner_agent_id ?? undefined],
      ['blocked by', t.blocked_by.length ? t.blocked_by.join(', ') : undefined],
      ['blocks', t.blocks.length ? t.blocks.join(', ') : undefined],
      ['command', shell ? scalar(m.command, 200) : undefined],
      ['workdir', shell ? scalar(m.workdir) : undefined],
      [
        'output file',
        shell
          ? m.output_store === 'database'
            ? '(kept in the database)'
            : scalar(m.output_file_path, 200)
          : undefined,
      ],
      // With replicas: the one whose process tree runs the command.
      ['replica', shell && typeof m.owner_replica === 'string' ? m.owner_replica : undefined],
      ['output', !shell && t.output !== null ? scalar(t.output, 200) : undefined],
      ['created', time(t.created_at_ms)],
      ['updated', time(t.updated_at_ms)],
    ]),
    ...(shell && !isTerminalTaskStatus(t.status)
      ? [`read its output with: kheish-daemon tasks output ${t.session_id ?? '<session_id>'} ${t.id} --wait`]
      : []),
  ];
}

function outputSummary(v: TaskOutputView): string {
  const size =
    v.output_rotated || v.output_truncated
      ? `; ${v.output_size_bytes} of ${v.output_total_bytes} bytes retained${v.output_rotated ? `, rotated ${v.output_rotation_count}×` : ''}`
      : '';
  const note =
    v.retrieval_status === 'timeout'
      ? ' (still running when the wait ended)'
      : v.retrieval_status === 'not_ready'
        ? ' (still running; --wait to wait for the end)'
        : '';
  return `task ${v.task.id}: ${outcome(v.task)}${note}${size}`;
}

export function registerTasks(program: Command, rt: CliRuntime): void {
  const tasks = program.command('tasks').alias('task').description('inspect and stop session tasks');

  tasks
    .command('list')
    .description('tasks of a session (legacy array; --page or --cursor for the paginated envelope)')
    .argument('<session_id>')
    .option(
      '--status <status>',
      'pending | in-progress | blocked | completed | failed | cancelled',
      parseTaskStatus,
    )
    .option('--page', 'return the paginated envelope')
    .option('--limit <n>', 'at most n tasks (max 100)', positiveInt)
    .option('--cursor <cursor>', 'continue after this page cursor')
    .action(
      async (
        sessionId: string,
        flags: { status?: TaskStatus; page?: boolean; limit?: number; cursor?: string },
      ) => {
        const result = await listTasks(rt.client(), sessionId, {
          status: flags.status,
          page: flags.page,
          limit: flags.limit,
          cursor: flags.cursor,
        });
        rt.emit(result, renderTaskList);
      },
    );

  tasks
    .command('get')
    .alias('show')
    .description('one task: status, dependencies, shell metadata')
    .argument('<session_id>')
    .argument('<task_id>')
    .action(async (sessionId: string, taskId: string) => {
      rt.emit(await getTask(rt.client(), sessionId, taskId), renderTask);
    });

  tasks
    .command('output')
    .description(
      'what a task printed; with --wait, exit 0 only when it ended successfully (1 when it failed or was stopped, 7 when the wait timed out)',
    )
    .argument('<session_id>')
    .argument('<task_id>')
    .option('--wait', 'wait until the task ends (or --timeout-ms passes)')
    .option('--timeout-ms <ms>', 'how long --wait waits', nonNegativeInt, 30_000)
    .option('--tail-bytes <n>', 'size of the excerpt (default 4096)', nonNegativeInt)
    .option('--full', 'the whole retained output instead of the tail')
    .action(
      async (
        sessionId: string,
        taskId: string,
        flags: { wait?: boolean; timeoutMs: number; tailBytes?: number; full?: boolean },
      ) => {
        const interrupt = new AbortController();
        const off = rt.io.onInterrupt(() => interrupt.abort());
        let view: TaskOutputView;
        try {
          view = await getTaskOutput(
            rt.client(),
            sessionId,
            taskId,
            {
              wait: flags.wait,
              timeout_ms: flags.wait ? flags.timeoutMs : undefined,
              tail_bytes: flags.tailBytes,
              full: flags.full,
            },
            interrupt.signal,
          );
        } catch (err) {
          if (interrupt.signal.aborted) {
            rt.note(`stopped waiting; task ${taskId} keeps running in the daemon`);
            rt.exitCode = EXIT.interrupted;
            return;
          }
          throw err;
        } finally {
          off();
        }
        if (rt.json) rt.emit(view, () => []);
        else {
          // The output itself goes to stdout untouched (pipeable); the summary goes to stderr.
          const text = view.output_text ?? view.output_excerpt ?? '';
          if (text) rt.io.stdout(text.endsWith('\n') ? text : `${text}\n`);
          rt.note(outputSummary(view));
        }
        if (flags.wait)
          rt.exitCode =
            view.retrieval_status === 'timeout'
              ? EXIT.retryable
              : taskSucceeded(view.task)
                ? EXIT.ok
                : EXIT.failure;
      },
    );

  tasks
    .command('stop')
    .description('stop a task: a shell command is terminated with its process tree; a work task is cancelled')
    .argument('<session_id>')
    .argument('<task_id>')
    .option('--reason <text>', 'recorded on the task')
    .action(async (sessionId: string, taskId: string, flags: { reason?: string }) => {
      const task = await stopTask(rt.client(), sessionId, taskId, flags.reason);
      rt.emit(task, (t) =>
        isTerminalTaskStatus(t.status)
          ? [`task ${t.id} ${outcome(t)}`]
          : [
              `stop requested: task ${t.id} is still ${t.status} while its process tree shuts down`,
              `check it with: kheish-daemon tasks output ${sessionId} ${t.id} --wait`,
            ],
      );
    });
}
