// Readers for tool arguments. Models send loosely typed JSON, so numbers and booleans given as
// strings are accepted; anything else gets an error naming the field and what it must be.
import { fail } from './failure.ts';

type Args = Record<string, unknown>;

/** The value of `key`, or of the first alias present; two different spellings at once are an error. */
function pick(args: Args, key: string, aliases: string[]): { name: string; value: unknown } {
  const present = [key, ...aliases].filter((k) => args[k] !== undefined && args[k] !== null);
  if (present.length > 1) fail(`give only one of \`${present.join('` / `')}\` (they mean the same thing)`);
  const name = present[0] ?? key;
  return { name, value: args[name] };
}

export function optString(args: Args, key: string, aliases: string[] = []): string | undefined {
  const { name, value } = pick(args, key, aliases);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') fail(`\`${name}\` must be a string, got ${typeof value}`);
  return value;
}

export function reqString(args: Args, key: string, aliases: string[] = []): string {
  const value = optString(args, key, aliases);
  if (value === undefined) fail(`missing required string field \`${key}\``);
  return value;
}

export function optInt(args: Args, key: string, bounds: { min: number; max?: number }): number | undefined {
  const value = args[key];
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n)) fail(`\`${key}\` must be an integer`);
  if (n < bounds.min) fail(`\`${key}\` must be at least ${bounds.min}, got ${n}`);
  if (bounds.max !== undefined && n > bounds.max) fail(`\`${key}\` must be at most ${bounds.max}, got ${n}`);
  return n;
}

export function optBool(args: Args, key: string): boolean | undefined {
  const value = args[key];
  if (value === undefined || value === null) return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return fail(`\`${key}\` must be true or false`);
}

/** A lower-case 64-hex-digit SHA-256, or undefined when absent. */
export function optSha256(args: Args, key: string): string | undefined {
  const value = optString(args, key);
  if (value === undefined) return undefined;
  const hex = value.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) fail(`\`${key}\` must be a SHA-256 digest: 64 hexadecimal characters`);
  return hex;
}
