// TaskOutputView (api-core §6.2): what a task printed, read from its output file or database blob
// (shell tasks) or its `output` value (work tasks). `retrieval_status` describes the read, never
// the command.

import type { TaskRow } from '../../store/repos/tasks.ts';
import { utf8SafeStart } from '../../tools/shell/capped-output.ts';
import type { TaskOutputs } from './output-store.ts';
import { isTerminalTask, metadataOf } from './records.ts';
import type { TaskOutputView, TaskRecord } from './schema.ts';

export interface OutputQuery {
  wait?: boolean;
  timeout_ms?: number;
  tail_bytes?: number;
  full?: boolean;
}

/** The excerpt size when `tail_bytes` is not given. */
export const DEFAULT_TAIL_BYTES = 4096;

const tailText = (buf: Buffer): string => buf.subarray(utf8SafeStart(buf)).toString('utf8');

export async function buildOutputView(
  task: TaskRecord,
  row: TaskRow,
  q: OutputQuery,
  outputs: TaskOutputs,
): Promise<TaskOutputView> {
  const retrieval_status = isTerminalTask(row.status) ? 'success' : q.wait ? 'timeout' : 'not_ready';
  const tail = q.tail_bytes ?? DEFAULT_TAIL_BYTES;
  if (row.kind === 'shell') {
    const meta = metadataOf(row);
    const path = typeof meta.output_file_path === 'string' ? meta.output_file_path : null;
    const read = await outputs.read(row, Math.max(0, tail), q.full === true);
    const state = read.state;
    const excerpt = tail > 0 ? tailText(read.tail) : '';
    const text = read.full === null ? null : read.full.toString('utf8');
    const shown = text !== null ? state.size_bytes : Buffer.byteLength(excerpt);
    return {
      retrieval_status,
      task,
      output_file_path: path,
      output_excerpt: excerpt,
      output_text: text,
      output_truncated: state.rotated || shown < state.size_bytes,
      output_size_bytes: state.size_bytes,
      output_total_bytes: state.total_bytes,
      output_rotated: state.rotated,
      output_rotation_count: state.rotation_count,
    };
  }
  const value = task.output;
  const body =
    value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  const bytes = Buffer.from(body);
  const excerpt = tail > 0 ? tailText(bytes.subarray(Math.max(0, bytes.length - tail))) : '';
  return {
    retrieval_status,
    task,
    output_file_path: null,
    output_excerpt: excerpt,
    output_text: q.full ? body : null,
    output_truncated: !q.full && Buffer.byteLength(excerpt) < bytes.length,
    output_size_bytes: bytes.length,
    output_total_bytes: bytes.length,
    output_rotated: false,
    output_rotation_count: 0,
  };
}
