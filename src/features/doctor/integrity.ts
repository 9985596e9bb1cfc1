// Store integrity for `doctor`: SQLite's `PRAGMA quick_check` on a read-only connection in a worker
// thread (it reads the whole file; the daemon's event loop keeps serving meanwhile), and for
// PostgreSQL reachability plus whether every migration this build knows has been applied.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { Migrator } from 'kysely/migration';
import { type DoctorCheck, fail, pass } from '../../config/doctor-check.ts';
import { migrationProvider } from '../../store/migrations/index.ts';
import { pingStore } from '../../store/ping.ts';
import type { Store } from '../../store/store.ts';

const QUICK_CHECK_TIMEOUT_MS = 60_000;

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
let db;
try {
  db = new Database(workerData.file, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  const rows = db.pragma('quick_check(20)', { simple: false }).map((r) => Object.values(r)[0]);
  parentPort.postMessage({ rows });
} catch (err) {
  parentPort.postMessage({ error: String(err && err.message || err) });
} finally {
  db && db.close();
}`;

function quickCheck(file: string, signal: AbortSignal): Promise<{ rows?: string[]; error?: string }> {
  const module = createRequire(import.meta.url).resolve('better-sqlite3');
  return new Promise((resolve) => {
    const worker = new Worker(WORKER, { eval: true, workerData: { file, module } });
    const stop = () => {
      void worker.terminate();
      resolve({ error: `quick_check did not finish within ${QUICK_CHECK_TIMEOUT_MS / 1000} s` });
    };
    const timer = setTimeout(stop, QUICK_CHECK_TIMEOUT_MS);
    signal.addEventListener('abort', stop, { once: true });
    worker.once('message', (m) => {
      clearTimeout(timer);
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', (err) => {
      clearTimeout(timer);
      resolve({ error: err.message });
    });
  });
}

export async function storeIntegrity(store: Store, signal: AbortSignal): Promise<DoctorCheck[]> {
  if (store.dialect === 'sqlite') {
    const r = await quickCheck(store.location, signal);
    if (r.error)
      return [
        fail(
          'store_integrity',
          'store_integrity_unchecked',
          'warning',
          `PRAGMA quick_check could not run on ${store.location}: ${r.error}`,
          'run `sqlite3 <state_root>/kheish.sqlite "PRAGMA quick_check"` with the daemon stopped',
        ),
      ];
    const problems = (r.rows ?? []).filter((row) => row !== 'ok');
    return [
      problems.length === 0
        ? pass('store_integrity', `PRAGMA quick_check: ok (${store.location})`)
        : fail(
            'store_integrity',
            'store_corrupt',
            'error',
            `PRAGMA quick_check found ${problems.length} problem(s): ${problems.slice(0, 3).join('; ')}`,
            'stop the daemon and restore the state root from the last backup (docs/operations.md, "Restore")',
          ),
    ];
  }
  const checks: DoctorCheck[] = [];
  const started = performance.now();
  try {
    await pingStore(store, 5000);
    checks.push(
      pass('store_reachable', `PostgreSQL answers in ${Math.round(performance.now() - started)} ms`),
    );
  } catch (err) {
    return [
      fail(
        'store_reachable',
        'store_unreachable',
        'error',
        `PostgreSQL does not answer: ${(err as Error).message}`,
        'check the database server and --database-url; the daemon reconnects by itself',
      ),
    ];
  }
  const migrator = new Migrator({
    db: store.db,
    provider: migrationProvider,
    allowUnorderedMigrations: true,
    ...(store.postgres ? { migrationTableSchema: store.postgres.schema } : {}),
  });
  const migrations = await migrator.getMigrations();
  const pending = migrations.filter((m) => m.executedAt === undefined).map((m) => m.name);
  checks.push(
    pending.length === 0
      ? pass('store_migrations', `all ${migrations.length} migrations applied`)
      : fail(
          'store_migrations',
          'store_migrations_pending',
          'error',
          `migrations not applied: ${pending.join(', ')}`,
          'restart one daemon of this build: it applies them before serving',
        ),
  );
  return checks;
}
