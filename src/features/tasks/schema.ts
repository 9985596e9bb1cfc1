// Wire types of the session task API (api-core §6.1–6.2).
import { z } from 'zod';

export const TaskStatus = z.enum(['pending', 'in_progress', 'blocked', 'completed', 'failed', 'cancelled']);

export const TaskRecord = z
  .object({
    id: z.string(),
    title: z.string(),
    description: z.string(),
    status: TaskStatus,
    owner_agent_id: z.string().nullable(),
    blocked_by: z.array(z.string()),
    blocks: z.array(z.string()),
    output: z.unknown().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    created_at_ms: z.number(),
    updated_at_ms: z.number(),
    /** Extensions: the session and whether this is a work item or a background shell task. */
    session_id: z.string(),
    kind: z.enum(['work', 'shell']),
  })
  .meta({ id: 'TaskRecord' });
export type TaskRecord = z.infer<typeof TaskRecord>;

export const RetrievalStatus = z.enum(['success', 'not_ready', 'timeout']);

export const TaskOutputView = z
  .object({
    retrieval_status: RetrievalStatus,
    task: TaskRecord,
    output_file_path: z.string().nullable(),
    output_excerpt: z.string().nullable(),
    output_text: z.string().nullable(),
    output_truncated: z.boolean(),
    output_size_bytes: z.number(),
    output_total_bytes: z.number(),
    output_rotated: z.boolean(),
    output_rotation_count: z.number(),
  })
  .meta({ id: 'TaskOutputView' });
export type TaskOutputView = z.infer<typeof TaskOutputView>;

export const TaskParams = z.object({ session_id: z.string().min(1), task_id: z.string().min(1) });
export const SessionTaskParams = z.object({ session_id: z.string().min(1) });

const boolFlag = z
  .enum(['true', 'false', '1', '0'])
  .optional()
  .transform((v) => v === 'true' || v === '1');

/** `in-progress` (the CLI spelling) is accepted as `in_progress`. */
export const ListTasksQuery = z.object({
  status: z
    .string()
    .optional()
    .transform((v) => (v === undefined ? undefined : v.replace(/-/g, '_')))
    .pipe(TaskStatus.optional()),
  page: z.string().optional(),
  cursor: z.string().optional(),
  limit: z.string().optional(),
});

export const TaskOutputQuery = z.object({
  wait: boolFlag,
  full: boolFlag,
  timeout_ms: z.coerce.number().int().min(0).max(600_000).optional(),
  tail_bytes: z.coerce
    .number()
    .int()
    .min(0)
    .max(16 * 1024 * 1024)
    .optional(),
});

export const StopTaskRequest = z
  .object({ reason: z.string().max(2000).optional() })
  .strict()
  .nullish();
