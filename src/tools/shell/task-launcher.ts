// What `bash` needs to start a background shell task (`run_in_background: true`). The tasks
// feature implements it (durable task row, output file, watchdog, restart semantics); the tool
// only prepares the command exactly as it would run it in the foreground.
import type { BackgroundSpawn } from './background-process.ts';

export interface ShellTaskLaunchRequest {
  session_id: string;
  run_id: string;
  agent_id: string;
  tool_call_id: string;
  command: string;
  /** Absolute working directory inside the workspace. */
  workdir: string;
  sandboxed: boolean;
  network: boolean;
  /** The prepared spawn (bwrap wrapper or plain `bash -c`), environment included. */
  spawn: BackgroundSpawn;
  /** Requested watchdog (`timeout_ms` of the call); the launcher caps it. */
  timeout_ms?: number;
  kill_grace_ms: number;
}

export interface ShellTaskLaunch {
  task_id: string;
  status: string;
  /** Null when the output is kept in the database (PostgreSQL replicas): read it with task_output. */
  output_file_path: string | null;
  /** The watchdog that applies. */
  max_runtime_ms: number;
}

export interface ShellTaskLauncher {
  launchShellTask(req: ShellTaskLaunchRequest): Promise<ShellTaskLaunch>;
}
