// A cheap "does the database answer" check for readiness: one round trip, bounded in time.
import { statSync } from 'node:fs';
import { sql } from 'kysely';
import { describePgError } from './postgres/open.ts';
import type { Store } from './store.ts';

export class StorePingError extends Error {}

/**
 * Resolves when `SELECT 1` answers within `timeoutMs`; rejects with a StorePingError whose message
 * names the cause (never the URL or its password). On SQLite the file must also still exist.
 */
export async function pingStore(store: Store, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    if (store.dialect === 'sqlite') statSync(store.location);
    const query = sql`SELECT 1`.execute(store.db);
    // The race may be lost: the late query's failure is not an unhandled rejection.
    query.catch(() => undefined);
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StorePingError(`no answer from the database in ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    await Promise.race([query, late]);
  } catch (err) {
    if (err instanceof StorePingError) throw err;
    throw new StorePingError(
      store.dialect === 'postgres' ? describePgError(err) : String((err as Error)?.message ?? err),
    );
  } finally {
    clearTimeout(timer);
  }
}
