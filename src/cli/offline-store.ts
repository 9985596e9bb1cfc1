// The secret store of a daemon's state root or database, opened by the CLI itself (offline
// commands, `doctor routes`): the master key from the same environment as `serve`, and every
// failure as a usage error that says what to fix.
import type { SecretStore } from '../secrets/secret-store.ts';
import { UsageError } from './errors.ts';

export async function openSecretsOffline(
  root: string,
  databaseUrl: string | null,
): Promise<{ secrets: SecretStore; close(): Promise<void> }> {
  const [{ Store }, { SecretStore }, keys, errs, pg] = await Promise.all([
    import('../store/store.ts'),
    import('../secrets/secret-store.ts'),
    import('../secrets/master-key.ts'),
    import('../secrets/errors.ts'),
    import('../store/postgres/open.ts'),
  ]);
  const asUsage = (err: unknown) => (errs.isSecretStoreStartupError(err) ? new UsageError(err.message) : err);
  let key: ReturnType<typeof keys.loadMasterKey>;
  try {
    key = keys.loadMasterKey(process.env);
  } catch (err) {
    throw asUsage(err);
  }
  const store = await Store.open({ stateRoot: root, databaseUrl }).catch((err) => {
    throw err instanceof pg.DatabaseUnavailableError ? new UsageError(err.message) : err;
  });
  try {
    const secrets = await SecretStore.open(store, key).catch((err) => {
      throw asUsage(err);
    });
    return { secrets, close: () => store.close() };
  } catch (err) {
    await store.close();
    throw err;
  }
}
