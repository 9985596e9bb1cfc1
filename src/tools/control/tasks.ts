// Session work-task tools (ops-runtime §10): structured work tracking inside the calling session,
// with blocked-by dependencies, plus inspection and stop of background shell tasks. The tasks
// feature implements `SessionTaskHost`; these definitions only validate arguments and render.
import { z } from 'zod';
import { TASK_STATUSES } from '../../store/repos/tasks.ts';
import type { ToolContext, ToolDefinition, ToolRegistry } from '../registry.ts';
import { defineControlTool } from './define-control-tool.ts';

const Status = z.enum(TASK_STATUSES);
const TaskId = z.string().min(1);
const Metadata = z.record(z.string(), z.unknown());

export const TaskCreateInput = z
  .object({
    title: z.string().trim().min(1).max(500),
    description: z.string().max(20_000).optional(),
    /** Defaults to the calling agent. */
    owner_agent_id: z.string().min(1).optional(),
    blocked_by: z.array(TaskId).max(100).optional(),
    status: z.enum(['pending', 'in_progress', 'blocked']).optional(),
    metadata: Metadata.optional(),
  })
  .strict();

export const TaskUpdateInput = z
  .object({
    task_id: TaskId,
    title: z.string().trim().min(1).max(500).optional(),
    description: z.string().max(20_000).optional(),
    status: Status.optional(),
    owner_agent_id: z.string().min(1).nullable().optional(),
    /** Replaces the whole blocker list. */
    blocked_by: z.array(TaskId).max(100).optional(),
    add_blocked_by: z.array(TaskId).max(100).optional(),
    remove_blocked_by: z.array(TaskId).max(100).optional(),
    output: z.unknown().optional(),
    /** Merged into the existing metadata; a null value removes a key. */
    metadata: Metadata.optional(),
  })
  .strict();

export const TaskGetInput = z.object({ task_id: TaskId }).strict();
export const TaskListInput = z
  .object({ status: Status.optional(), include_archived: z.boolean().optional() })
  .strict();
export const TaskOutputInput = z
  .object({
    task_id: TaskId,
    wait: z.boolean().optional(),
    timeout_ms: z.number().int().positive().optional(),
    tail_bytes: z.number().int().positive().optional(),
    full: z.boolean().optional(),
  })
  .strict();
export const TaskStopInput = z.object({ task_id: TaskId, reason: z.string().max(2000).optional() }).strict();
export const TaskDeleteInput = z.object({ task_id: TaskId }).strict();

export type TaskCreateInput = z.infer<typeof TaskCreateInput>;
export type TaskUpdateInput = z.infer<typeof TaskUpdateInput>;
export type TaskListInput = z.infer<typeof TaskListInput>;
export type TaskOutputInput = z.infer<typeof TaskOutputInput>;

/** Who calls: the task tools act on the calling session, on behalf of the calling agent. */
export interface TaskCaller {
  session_id: string;
  agent_id: string;
  run_id: string;
  tool_call_id: string;
}

/** Implemented by the tasks feature. Errors thrown carry a message the model can act on. */
export interface SessionTaskHost {
  createTask(caller: TaskCaller, input: TaskCreateInput): Promise<unknown>;
  updateTask(caller: TaskCaller, input: TaskUpdateInput): Promise<unknown>;
  getTask(caller: TaskCaller, taskId: string): Promise<unknown>;
  listTasks(caller: TaskCaller, input: TaskListInput): Promise<unknown>;
  taskOutput(caller: TaskCaller, input: TaskOutputInput, signal: AbortSignal): Promise<unknown>;
  stopTask(caller: TaskCaller, taskId: string, reason: string | undefined): Promise<unknown>;
  deleteTask(caller: TaskCaller, taskId: string): Promise<unknown>;
}

/** The longest a task_output call may wait, whatever it asks for. */
export const TASK_OUTPUT_TOOL_MAX_WAIT_MS = 120_000;

const caller = (ctx: ToolContext): TaskCaller => ({
  session_id: ctx.session_id,
  agent_id: ctx.agent_id,
  run_id: ctx.run_id,
  tool_call_id: ctx.tool_call_id,
});

export function createTaskTools(host: SessionTaskHost): ToolDefinition[] {
  return [
    defineControlTool(
      'task_create',
      'Create a task in this session to track a unit of work (title, description, owner, blocked_by ' +
        'dependencies on other task ids). The owner defaults to you. Returns the task record.',
      TaskCreateInput,
      true,
      (input, ctx) => host.createTask(caller(ctx), input),
    ),
    defineControlTool(
      'task_update',
      'Update a task of this session: status (pending, in_progress, blocked, completed, failed, cancelled), ' +
        'title, description, owner, output, metadata, or its blocked_by dependencies (blocked_by replaces, ' +
        'add_blocked_by/remove_blocked_by edit). A task cannot start or complete while a blocker is unfinished.',
      TaskUpdateInput,
      true,
      (input, ctx) => host.updateTask(caller(ctx), input),
    ),
    defineControlTool(
      'task_get',
      'Read one task of this session (work or background shell task).',
      TaskGetInput,
      false,
      (input, ctx) => host.getTask(caller(ctx), input.task_id),
    ),
    defineControlTool(
      'task_list',
      'List the tasks of this session in creation order, optionally filtered by status.',
      TaskListInput,
      false,
      (input, ctx) => host.listTasks(caller(ctx), input),
    ),
    defineControlTool(
      'task_output',
      'Read the output of a task (a background shell command, or a work task output). wait=true blocks ' +
        'until the task ends or timeout_ms passes. retrieval_status "success" only means the output was ' +
        'read: a shell command succeeded only when task.status is "completed" and task.metadata.exit_code is 0.',
      TaskOutputInput,
      false,
      (input, ctx) =>
        host.taskOutput(
          caller(ctx),
          {
            ...input,
            timeout_ms: Math.min(input.timeout_ms ?? 30_000, TASK_OUTPUT_TOOL_MAX_WAIT_MS),
          },
          ctx.signal,
        ),
    ),
    defineControlTool(
      'task_stop',
      'Stop a task of this session: a background shell command is terminated with its whole process ' +
        'tree; a work task is marked cancelled. The record may still say in_progress with ' +
        'metadata.stop_requested while the process shuts down.',
      TaskStopInput,
      true,
      (input, ctx) => host.stopTask(caller(ctx), input.task_id, input.reason),
    ),
    defineControlTool(
      'task_delete',
      'Delete (archive) a task of this session: it leaves task_list and every dependency list; reading ' +
        'it by id still works. A running shell task must be stopped first.',
      TaskDeleteInput,
      true,
      (input, ctx) => host.deleteTask(caller(ctx), input.task_id),
    ),
  ];
}

export function registerTaskTools(registry: ToolRegistry, host: SessionTaskHost): void {
  for (const tool of createTaskTools(host)) registry.register(tool);
}
