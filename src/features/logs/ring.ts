// The daemon's own recent log records, in memory, for GET /v1/logs (the published docs' "bounded
// ring of daemon tracing events"): the newest 5,000 lines as pino wrote them (after its redaction),
// oldest dropped first. It never grows past that, and it is no durable log: stderr is.
import type { Logger } from 'pino';

export const LOG_RING_CAPACITY = 5000;
/** A longer line is kept as a summary, so one huge record cannot hold megabytes. */
const LINE_MAX_CHARS = 16 * 1024;

export class LogRing {
  readonly capacity: number;
  private readonly lines: string[] = [];
  private next = 0;
  /** Lines pushed since the start, including those the ring has dropped since. */
  total = 0;

  constructor(capacity = LOG_RING_CAPACITY) {
    this.capacity = capacity;
  }

  push(line: string): void {
    const kept = line.length <= LINE_MAX_CHARS ? line.trimEnd() : summarize(line);
    if (this.lines.length < this.capacity) this.lines.push(kept);
    else this.lines[this.next] = kept;
    this.next = (this.next + 1) % this.capacity;
    this.total++;
  }

  /** The newest `limit` lines, oldest first. */
  recent(limit: number): string[] {
    const n = Math.min(limit, this.lines.length);
    const out: string[] = [];
    const size = this.lines.length;
    const end = size < this.capacity ? size : this.next;
    for (let i = n; i > 0; i--) out.push(this.lines[(end - i + size) % size]!);
    return out;
  }
}

function summarize(line: string): string {
  try {
    const { level, time, msg } = JSON.parse(line) as Record<string, unknown>;
    return JSON.stringify({ level, time, msg, truncated: true, original_chars: line.length });
  } catch {
    return JSON.stringify({ level: 30, time: Date.now(), msg: line.slice(0, 200), truncated: true });
  }
}

const RING = Symbol('kheish.logRing');

/** Child loggers inherit it: pino builds them with Object.create(parent). */
export function attachLogRing(logger: Logger, ring: LogRing): Logger {
  (logger as unknown as Record<symbol, LogRing>)[RING] = ring;
  return logger;
}

export function logRingOf(logger: Logger): LogRing | undefined {
  return (logger as unknown as Record<symbol, LogRing | undefined>)[RING];
}
