// Option value parsers shared by commands. Commander turns InvalidArgumentError into a usage
// error (exit code 2) that names the flag.
import { InvalidArgumentError } from 'commander';

export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1) {
    throw new InvalidArgumentError('expected a positive integer');
  }
  return Number(value);
}

/** SSE cursors are u64 decimal strings (they exceed 2^53), so they stay strings. */
export function eventCursor(value: string): string {
  const v = value.trim();
  if (!/^\d{1,20}$/.test(v)) throw new InvalidArgumentError('expected a decimal event id');
  return v;
}

export function nonEmpty(value: string): string {
  if (!value.trim()) throw new InvalidArgumentError('must not be empty');
  return value;
}

/** A runtime object's revision, for `--expected-revision` (0 is the revision before any change). */
export function revision(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('expected a revision number');
  return Number(value);
}
