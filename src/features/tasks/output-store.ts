// Where the output of a background shell task lives. SQLite daemons keep one rotating file per task
// under <state_root>/blobs/tasks (ARCHITECTURE §4); PostgreSQL replicas keep it in the database
// (database-log.ts) so any replica can serve it. A row says which in `metadata.output_store`
// (absent on rows from before: a file), so reads never depend on how this daemon was started.
import { join } from 'node:path';
import type { TaskRow } from '../../store/repos/tasks.ts';
import type { Store } from '../../store/store.ts';
import {
  type AppendLog,
  type LogState,
  RotatingLog,
  readLogState,
  readRange,
  removeRotationLeftover,
} from '../../tools/shell/rotating-log.ts';
import { DatabaseLog, type OutputRead, readBlobOutput } from './database-log.ts';
import { metadataOf } from './records.ts';

export type OutputStoreKind = 'file' | 'database';

export interface TaskLog extends AppendLog {
  /** Resolves once every appended byte is durable (a file is at once; the database after a flush). */
  flushed(): Promise<void>;
}

export interface OpenedOutput {
  log: TaskLog;
  /** The file, or null when the output is in the database. */
  path: string | null;
  /** Recorded in the task's metadata as `output_store`. */
  kind: OutputStoreKind;
}

/** The blob of a task's output in the database. */
export const taskBlobId = (taskId: string): string => `task-output:${taskId}`;

export class TaskOutputs {
  private readonly store: Store;
  private readonly dir: string;
  private readonly cap: number;
  private readonly kind: OutputStoreKind;
  private readonly warn: (o: object, m: string) => void;

  constructor(o: {
    store: Store;
    dir: string;
    cap: number;
    kind: OutputStoreKind;
    warn: (o: object, m: string) => void;
  }) {
    this.store = o.store;
    this.dir = o.dir;
    this.cap = o.cap;
    this.kind = o.kind;
    this.warn = o.warn;
  }

  /** The writer for a new task (the file is created now; a database blob at its first flush). */
  open(taskId: string): OpenedOutput {
    if (this.kind === 'database') {
      const log = new DatabaseLog(this.store, taskBlobId(taskId), this.cap, this.warn);
      return { log, path: null, kind: 'database' };
    }
    const path = this.pathOf(taskId);
    const file = new RotatingLog(path, this.cap);
    const log: TaskLog = {
      append: (c) => file.append(c),
      state: () => file.state(),
      close: () => file.close(),
      flushed: async () => undefined,
    };
    return { log, path, kind: 'file' };
  }

  /** The file a new task of this daemon writes (also reported before the writer exists). */
  pathOf(taskId: string): string {
    return join(this.dir, `${taskId}.log`);
  }

  get storeKind(): OutputStoreKind {
    return this.kind;
  }

  /** Counters of a task's retained output. */
  async state(row: TaskRow): Promise<LogState> {
    return (await this.read(row, 0, false)).state;
  }

  /** The state, the last `tail` bytes and (with `full`) the whole retained body. */
  async read(row: TaskRow, tail: number, full: boolean): Promise<OutputRead> {
    const meta = metadataOf(row);
    if (meta.output_store === 'database')
      return readBlobOutput(this.store.db, taskBlobId(row.task_id), tail, full);
    const path = typeof meta.output_file_path === 'string' ? meta.output_file_path : null;
    if (!path)
      return {
        state: { size_bytes: 0, total_bytes: 0, rotation_count: 0, rotated: false },
        tail: Buffer.alloc(0),
        full: full ? Buffer.alloc(0) : null,
      };
    const state = readLogState(path);
    const want = Math.min(tail, state.size_bytes);
    return {
      state,
      tail: want > 0 ? readRange(path, state.size_bytes - want, want) : Buffer.alloc(0),
      full: full ? readRange(path, 0, state.size_bytes) : null,
    };
  }

  /** Boot: a rotation cut short by a crash leaves an aside file (file stores only). */
  tidy(row: TaskRow): void {
    const meta = metadataOf(row);
    if (meta.output_store === 'database') return;
    removeRotationLeftover(
      typeof meta.output_file_path === 'string' ? meta.output_file_path : this.pathOf(row.task_id),
    );
  }
}
