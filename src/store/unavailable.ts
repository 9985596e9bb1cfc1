// Errors that mean "the database does not answer" (a PostgreSQL server down, restarting, refusing
// connections, or a connection cut), as opposed to a statement that failed: the HTTP layer answers
// them with 503 storage_unavailable instead of an internal error, and the write path backs off.
import { errors } from '../errors/daemon-error.ts';
import { describePgError } from './postgres/open.ts';

const NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);
/** SQLSTATE classes 08 (connection exception) and 57P0x (server shutting down / not accepting). */
const PG_CODE = /^(08|57P0[1-4])/;
const MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|database system is (starting up|shutting down)|not currently accepting connections/i;

export function isStorageUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; errors?: unknown[] } | undefined;
  if (!e) return false;
  if (typeof e.code === 'string' && (NODE_CODES.has(e.code) || PG_CODE.test(e.code))) return true;
  if (Array.isArray(e.errors) && e.errors.some(isStorageUnavailable)) return true;
  return typeof e.message === 'string' && MESSAGES.test(e.message);
}

/** The 503 a caller gets while the database does not answer (the cause without URL or password). */
export const storageUnavailable = (err: unknown) => errors.storageUnavailable(describePgError(err));
