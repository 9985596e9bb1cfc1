// The AssetsPort other features use (runs, observations, derivations), on a real store: SQLite with
// payload files, and PostgreSQL (payload rows) for both halves of each case. References commit in
// the caller's transaction, hard ones block deletion and GC, soft ones do not, derived text is
// re-verified, and derivation results show in the view.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { isDaemonError } from '../../src/errors/daemon-error.ts';
import { DigestLocks, payloadStoreFor } from '../../src/features/assets/payload-store.ts';
import { AssetReclaimer } from '../../src/features/assets/reclaim.ts';
import { AssetsService } from '../../src/features/assets/service.ts';
import { EventLog } from '../../src/store/event-log.ts';
import { Store } from '../../src/store/store.ts';
import { type FreshSchema, freshSchema } from '../helpers/pg-schema.ts';

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`assets port on ${dialect}`, () => {
    let dir: string;
    let schema: FreshSchema | null = null;
    let store: Store;
    let assets: AssetsService;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'kheish-assets-port-'));
      if (dialect === 'postgres') schema = await freshSchema();
      store = await Store.open({ stateRoot: dir, databaseUrl: schema?.url ?? null, poolSize: 3 });
      assets = new AssetsService(
        store,
        payloadStoreFor(store, dir),
        new DigestLocks(),
        new EventLog(store, 1000),
      );
      assets.reclaim = new AssetReclaimer(assets, pino({ level: 'silent' }));
      await assets.reclaim.prepare();
    });
    after(async () => {
      await store?.close();
      await schema?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    const code = (err: unknown) =>
      isDaemonError(err) ? `${err.status} ${err.domain}/${err.code}` : String(err);

    test('import, dedupe, raw and derived text read back verified', async () => {
      const bytes = new TextEncoder().encode('port text\n');
      const a = await assets.import({ file_name: 'p.txt', media_type: 'text/plain', bytes });
      const b = await assets.import({ file_name: 'q.txt', media_type: 'TEXT/PLAIN', bytes });
      assert.equal(a.asset_id, b.asset_id);
      assert.deepEqual(Buffer.from(await assets.readRaw(a.asset_id)), Buffer.from(bytes));
      assert.equal(await assets.readText(a.asset_id), 'port text\n');
      assert.equal(await assets.readPreview(a.asset_id), null);
      assert.equal(await assets.get('asset-none'), null);
      await assert.rejects(assets.readRaw('asset-none'), (e) => code(e) === '404 assets/asset_not_found');
      await assert.rejects(
        assets.import({ file_name: 'a.wav', media_type: 'text/csv', bytes, accept: ['audio/wav'] }),
        (e) => code(e) === '400 assets/unsupported_media_type',
      );
    });

    test('a reference committed in the caller transaction blocks deletion until it turns soft', async () => {
      const a = await assets.import({
        file_name: 'in.md',
        media_type: 'text/markdown',
        bytes: Buffer.from('# in'),
      });
      await store.write(async (tx) => {
        await assets.addReferences(
          [
            {
              asset_id: a.asset_id,
              domain: 'runs',
              owner_id: 'run-1',
              role: 'input_attachment',
              hard: true,
              parent_id: 's',
            },
          ],
          tx.db,
        );
      });
      // Idempotent per (asset, domain, owner, role).
      await assets.addReferences([
        {
          asset_id: a.asset_id,
          domain: 'runs',
          owner_id: 'run-1',
          role: 'input_attachment',
          hard: true,
          parent_id: 's',
        },
      ]);
      assert.equal((await assets.references(a.asset_id)).hard_reference_count, 1);
      await assert.rejects(
        assets.reclaim.delete(a.asset_id),
        (e) => code(e) === '409 assets/asset_delete_blocked',
      );
      const gc = await assets.reclaim.gc(false);
      assert.ok(gc.blocked.some((x) => x.asset_id === a.asset_id));
      assert.ok(!gc.deleted_asset_ids.includes(a.asset_id));

      await assets.setReferencesHard({ domain: 'runs', owner_id: 'run-1' }, false, 'purged');
      const refs = await assets.references(a.asset_id);
      assert.deepEqual(refs.references, [
        {
          domain: 'runs',
          owner_id: 'run-1',
          role: 'input_attachment',
          hard: false,
          parent_id: 's',
          detail_id: 'purged',
        },
      ]);
      const plan = await assets.reclaim.delete(a.asset_id);
      assert.equal(plan.deleted, true);
      assert.equal(plan.soft_reference_count, 1, 'soft lineage does not block');
      assert.equal(await assets.get(a.asset_id), null);
    });

    test('a reference to an unknown or deleted asset fails the caller transaction', async () => {
      await assert.rejects(
        store.write(async (tx) => {
          await assets.addReferences(
            [{ asset_id: 'asset-gone', domain: 'runs', owner_id: 'r', role: 'x', hard: true }],
            tx.db,
          );
        }),
        (e) => code(e) === '404 assets/asset_not_found',
      );
    });

    test('derivation results list in the view and the query; removeReferences frees the asset for GC', async () => {
      const a = await assets.import({ file_name: 'sum.txt', bytes: Buffer.from('summary of things') });
      await assets.addReferences([
        { asset_id: a.asset_id, domain: 'derivations', owner_id: 'derivation-7', role: 'result', hard: true },
      ]);
      assert.deepEqual((await assets.get(a.asset_id))?.derivation_ids, ['derivation-7']);
      const found = await assets.list({ query: 'DERIVATION-7' });
      assert.deepEqual(
        found.items.map((x) => x.asset_id),
        [a.asset_id],
      );
      await assets.removeReferences({ domain: 'derivations', owner_id: 'derivation-7' });
      const gc = await assets.reclaim.gc(false);
      assert.ok(gc.deleted_asset_ids.includes(a.asset_id));
    });

    test('setDerivedText attaches a verified transcript', async () => {
      const a = await assets.import({
        file_name: 'n.csv',
        media_type: 'text/csv',
        bytes: Buffer.from('a,b\n'),
      });
      const v = await assets.setDerivedText(a.asset_id, 'two columns: a and b');
      assert.equal(v.text_uri, `asset://${a.asset_id}/text`);
      assert.equal(v.text_byte_length, 'two columns: a and b'.length);
      assert.equal(await assets.readText(a.asset_id), 'two columns: a and b');
    });
  });
}
