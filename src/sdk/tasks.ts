// Session task client calls (api-core §6.1–6.2), as functions over DaemonClient.request.
import type { DaemonClient } from './client.ts';
import type { JsonObject, ListResult, PageQuery } from './types.ts';

export const TASK_STATUSES = [
  'pending',
  'in_progress',
  'blocked',
  'completed',
  'failed',
  'cancelled',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const isTerminalTaskStatus = (s: string): boolean =>
  s === 'completed' || s === 'failed' || s === 'cancelled';

export interface TaskRecord {
  id: string;
  title: string;
  description: string;
  status: TaskStatus;
  owner_agent_id: string | null;
  blocked_by: string[];
  blocks: string[];
  output: unknown;
  metadata: JsonObject;
  created_at_ms: number;
  updated_at_ms: number;
  /** Extensions of this daemon. */
  session_id?: string;
  kind?: 'work' | 'shell';
  [key: string]: unknown;
}

export interface TaskOutputView {
  retrieval_status: 'success' | 'not_ready' | 'timeout';
  task: TaskRecord;
  output_file_path: string | null;
  output_excerpt: string | null;
  output_text: string | null;
  output_truncated: boolean;
  output_size_bytes: number;
  output_total_bytes: number;
  output_rotated: boolean;
  output_rotation_count: number;
}

export interface TaskListQuery extends PageQuery {
  status?: TaskStatus;
}

export interface TaskOutputQuery {
  wait?: boolean;
  timeout_ms?: number;
  tail_bytes?: number;
  full?: boolean;
}

const enc = encodeURIComponent;
const base = (sessionId: string) => `/v1/sessions/${enc(sessionId)}/tasks`;

export async function listTasks(
  client: DaemonClient,
  sessionId: string,
  query: TaskListQuery = {},
): Promise<ListResult<TaskRecord>> {
  return (await client.request('GET', base(sessionId), { query: { ...query } })) as ListResult<TaskRecord>;
}

export async function getTask(client: DaemonClient, sessionId: string, taskId: string): Promise<TaskRecord> {
  return (await client.request('GET', `${base(sessionId)}/${enc(taskId)}`)) as TaskRecord;
}

/** With `wait`, the request lasts up to `timeout_ms` (plus a margin) whatever the client timeout. */
export async function getTaskOutput(
  client: DaemonClient,
  sessionId: string,
  taskId: string,
  query: TaskOutputQuery = {},
  signal?: AbortSignal,
): Promise<TaskOutputView> {
  const timeoutMs =
    query.wait && client.timeoutMs > 0
      ? Math.max(client.timeoutMs, (query.timeout_ms ?? 30_000) + 10_000)
      : undefined;
  return (await client.request('GET', `${base(sessionId)}/${enc(taskId)}/output`, {
    query: { ...query },
    timeoutMs,
    signal,
  })) as TaskOutputView;
}

export async function stopTask(
  client: DaemonClient,
  sessionId: string,
  taskId: string,
  reason?: string,
): Promise<TaskRecord> {
  const body = reason === undefined ? {} : { reason };
  return (await client.request('POST', `${base(sessionId)}/${enc(taskId)}/stop`, { body })) as TaskRecord;
}
