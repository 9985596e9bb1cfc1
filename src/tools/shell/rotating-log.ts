// The output file of a background shell task: appended as the command writes, bounded by
// rotation. When the file would outgrow its cap, the newest half is kept behind a one-line marker
// that says how much was discarded, so the file alone tells the whole story after a crash
// (retained bytes, total bytes observed, rotation count) — nothing else needs to be trusted.
import {
  closeSync,
  fstatSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { utf8SafeStart } from './capped-output.ts';

export interface LogState {
  /** Bytes in the file now (the body `full=true` returns, marker included). */
  size_bytes: number;
  /** Bytes the command wrote in total, including the discarded ones. */
  total_bytes: number;
  rotation_count: number;
  rotated: boolean;
}

const MARKER = /^\[kheish-daemon: output rotated (\d+) times?; (\d+) earlier bytes discarded\]\n/;
const MARKER_PROBE_BYTES = 160;

export function rotationMarker(count: number, discarded: number): string {
  return `[kheish-daemon: output rotated ${count} ${count === 1 ? 'time' : 'times'}; ${discarded} earlier bytes discarded]\n`;
}

interface MarkerInfo {
  count: number;
  discarded: number;
  length: number;
}

function parseMarker(path: string, size: number): MarkerInfo | null {
  const head = readRange(path, 0, Math.min(size, MARKER_PROBE_BYTES)).toString('latin1');
  const m = MARKER.exec(head);
  return m ? { count: Number(m[1]), discarded: Number(m[2]), length: m[0].length } : null;
}

/** Reads the rotation state from the file itself; a missing file is an empty log. */
export function readLogState(path: string): LogState {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return { size_bytes: 0, total_bytes: 0, rotation_count: 0, rotated: false };
  }
  const m = parseMarker(path, size);
  if (!m) return { size_bytes: size, total_bytes: size, rotation_count: 0, rotated: false };
  return {
    size_bytes: size,
    total_bytes: m.discarded + (size - m.length),
    rotation_count: m.count,
    rotated: m.count > 0,
  };
}

/** Bytes [start, start+length) of a file (shorter when the file is). */
export function readRange(path: string, start: number, length: number): Buffer {
  if (length <= 0) return Buffer.alloc(0);
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const n = readSync(fd, buf, got, length - got, start + got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** What a background process writes its output to: a rotating file, or the database (PostgreSQL). */
export interface AppendLog {
  append(chunk: Buffer): void;
  state(): LogState;
  close(): void;
}

export class RotatingLog implements AppendLog {
  readonly path: string;
  private readonly maxBytes: number;
  private fd: number;
  private size: number;
  private markerLen: number;
  private discarded: number;
  private rotations: number;

  /** Opens (creating) the file; an existing file keeps its rotation state. */
  constructor(path: string, maxBytes: number) {
    this.path = path;
    this.maxBytes = Math.max(1024, Math.floor(maxBytes));
    this.fd = openSync(path, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
    const m = parseMarker(path, this.size);
    this.rotations = m?.count ?? 0;
    this.discarded = m?.discarded ?? 0;
    this.markerLen = m?.length ?? 0;
  }

  append(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) off += writeSync(this.fd, chunk, off, chunk.length - off);
    this.size += chunk.length;
    if (this.size > this.maxBytes) this.rotate();
  }

  state(): LogState {
    const body = this.size - this.markerLen;
    return {
      size_bytes: this.size,
      total_bytes: this.discarded + body,
      rotation_count: this.rotations,
      rotated: this.rotations > 0,
    };
  }

  /** Keeps the newest half of the cap behind a fresh marker; atomic (write aside, rename over). */
  private rotate(): void {
    const body = this.size - this.markerLen;
    const keepTarget = Math.floor(this.maxBytes / 2);
    const raw = readRange(this.path, this.size - keepTarget, keepTarget);
    // Never start the kept window in the middle of a UTF-8 sequence.
    const kept = raw.subarray(utf8SafeStart(raw));
    this.discarded += body - kept.length;
    this.rotations += 1;
    const marker = Buffer.from(rotationMarker(this.rotations, this.discarded));
    const aside = `${this.path}.rotating`;
    writeFileSync(aside, Buffer.concat([marker, kept]), { mode: 0o600 });
    renameSync(aside, this.path);
    closeSync(this.fd);
    this.fd = openSync(this.path, 'a', 0o600);
    this.markerLen = marker.length;
    this.size = marker.length + kept.length;
  }

  close(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
  }
}

/** A rotation interrupted by a crash leaves its aside file behind: drop it. */
export function removeRotationLeftover(path: string): void {
  rmSync(`${path}.rotating`, { force: true });
}
