// The secret slots a routes file names, read straight from a daemon's store so that
// `doctor routes --routes-file` judges `auth_ref` routes as `serve` would. Read only: the daemon may
// be running (the SQLite store is in WAL mode; PostgreSQL serves many clients).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RoutesConfig } from '../config/routes-file.ts';
import type { SecretValue } from '../models/drivers/index.ts';
import { openSecretsOffline } from './offline-store.ts';
import { DEFAULT_STATE_ROOT } from './state-root-flags.ts';

export interface OfflineStoreFlags {
  stateRoot?: string;
  databaseUrl?: string;
}

export interface OfflineSlots {
  lookup?: (ref: string) => SecretValue | undefined;
  /** What the operator should know about the store (not found, no master key, ...). */
  notes: string[];
}

/** Loads the `auth_ref` slots of `config`; no store is opened when no route names one. */
export async function offlineSlots(config: RoutesConfig, flags: OfflineStoreFlags): Promise<OfflineSlots> {
  const refs = [...config.routes.values()].flatMap((r) => (r.auth_ref ? [r.auth_ref] : []));
  if (refs.length === 0) return { notes: [] };
  const root = resolve(flags.stateRoot || DEFAULT_STATE_ROOT);
  const databaseUrl = flags.databaseUrl || null;
  if (!databaseUrl && !existsSync(join(root, 'kheish.sqlite')))
    return {
      notes: [
        `no daemon state at ${root}, so auth_ref slots cannot be checked: pass the daemon's --state-root (or --database-url), or set KHEISH_STATE_ROOT / KHEISH_DATABASE_URL as for serve`,
      ],
    };
  const { SlotCache } = await import('../models/slot-cache.ts');
  const { secrets, close } = await openSecretsOffline(root, databaseUrl);
  try {
    const cache = new SlotCache(secrets, refs);
    await cache.reload();
    const values = new Map(refs.map((ref) => [ref, cache.lookup(ref)]));
    return { lookup: (ref) => values.get(ref), notes: [...secrets.warnings] };
  } finally {
    await close();
  }
}
