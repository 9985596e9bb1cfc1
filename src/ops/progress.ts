// Progress of a long operation, for the CLI to print on stderr.
export interface OpsProgress {
  phase: string;
  files_done: number;
  files_total: number;
  bytes_done: number;
  bytes_total: number;
}

export type ProgressSink = (p: OpsProgress) => void;

/** A running tally that reports through `sink` (the CLI throttles what it prints). */
export class Tally {
  readonly p: OpsProgress;
  private readonly sink: ProgressSink | undefined;
  constructor(phase: string, files: number, bytes: number, sink?: ProgressSink) {
    this.p = { phase, files_done: 0, files_total: files, bytes_done: 0, bytes_total: bytes };
    this.sink = sink;
    sink?.({ ...this.p });
  }
  bytes(n: number): void {
    this.p.bytes_done += n;
    this.sink?.({ ...this.p });
  }
  file(): void {
    this.p.files_done += 1;
    this.sink?.({ ...this.p });
  }
}
