// GET /v1/logs: the ring's records as the published docs shape them, with every secret the daemon
// knows masked (pino already redacts credential-named fields; a key quoted in a message is caught here).
import { maskSecrets } from '../../engine/trace-redact.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import { LOG_RING_CAPACITY, type LogRing } from './ring.ts';

export const DEFAULT_LOG_LIMIT = 1000;

const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};
/** Written by pino on every line; not worth repeating in `fields`. */
const PLUMBING = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'target']);

export interface LogEntry {
  timestamp_ms: number;
  level: string;
  target: string;
  message: string;
  fields: Record<string, unknown>;
}

export class LogsService {
  private readonly ring: LogRing | undefined;
  private readonly secrets: () => readonly string[];

  constructor(ring: LogRing | undefined, secrets: () => readonly string[]) {
    this.ring = ring;
    this.secrets = secrets;
  }

  recent(limitText: string | undefined): LogEntry[] {
    const limit = parseLimit(limitText);
    if (!this.ring) return [];
    // A secret inside a JSON string may be escaped there: search for both spellings.
    const secrets = this.secrets().flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]);
    return this.ring.recent(limit).map((line) => entryOf(maskSecrets(line, secrets)));
  }
}

function parseLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_LOG_LIMIT;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0)
    throw new DaemonError(
      400,
      'pagination',
      'invalid_limit',
      `limit must be a whole number from 1 to ${LOG_RING_CAPACITY}`,
    );
  return Math.min(n, LOG_RING_CAPACITY);
}

function entryOf(line: string): LogEntry {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { timestamp_ms: 0, level: 'info', target: 'kheish_daemon', message: line, fields: {} };
  }
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rec)) if (!PLUMBING.has(k)) fields[k] = v;
  return {
    timestamp_ms: typeof rec.time === 'number' ? rec.time : 0,
    level: LEVELS[rec.level as number] ?? String(rec.level),
    target: typeof rec.target === 'string' ? rec.target : 'kheish_daemon',
    message: typeof rec.msg === 'string' ? rec.msg : '',
    fields,
  };
}
