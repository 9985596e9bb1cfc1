// The ObservationsPort derivations use, on a real store and asset store (SQLite with payload files,
// then PostgreSQL): read an observation with its retention_state, ask whether its source allows
// use, attach a canonical-text asset (with its hard reference, in one transaction), and refuse that
// on a purged observation. The engine is not involved (materialization has its own tests).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import type { Engine } from '../../src/engine/engine.ts';
import { DigestLocks, payloadStoreFor } from '../../src/features/assets/payload-store.ts';
import { AssetReclaimer } from '../../src/features/assets/reclaim.ts';
import { AssetsService } from '../../src/features/assets/service.ts';
import type { ObservationsPort } from '../../src/features/observations/port.ts';
import { ObservationsService } from '../../src/features/observations/service.ts';
import { EventLog } from '../../src/store/event-log.ts';
import { Store } from '../../src/store/store.ts';
import { uploadBody } from '../helpers/observations.ts';
import { type FreshSchema, freshSchema } from '../helpers/pg-schema.ts';

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`observations port on ${dialect}`, () => {
    let dir: string;
    let schema: FreshSchema | null = null;
    let store: Store;
    let assets: AssetsService;
    let svc: ObservationsService;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'kheish-observations-port-'));
      if (dialect === 'postgres') schema = await freshSchema();
      store = await Store.open({ stateRoot: dir, databaseUrl: schema?.url ?? null, poolSize: 3 });
      const log = pino({ level: 'silent' });
      assets = new AssetsService(
        store,
        payloadStoreFor(store, dir),
        new DigestLocks(),
        new EventLog(store, 1000),
      );
      assets.reclaim = new AssetReclaimer(assets, log);
      await assets.reclaim.prepare();
      svc = new ObservationsService({
        store,
        // Only materialization submits runs; this test never calls it.
        engine: undefined as unknown as Engine,
        assets: () => assets,
        log,
        // Only materialization transcribes; this test never calls it.
        transcribe: async () => {},
        postgres: dialect === 'postgres',
      });
    });
    after(async () => {
      await store?.close();
      await schema?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('get, sourceAllowsUse, setCanonicalTextAsset; a purged observation refuses the attachment', async () => {
      const port: ObservationsPort = svc;
      const token = 'port-upload-token-000001';
      await svc.sources.create({
        source_id: 'port',
        display_name: 'Port',
        kind: 'screen_snapshot',
        upload_token: token,
        max_active_observations: 1,
      });
      const first = (await svc.ingress.upload('port', token, uploadBody('p1', 1))).view;
      assert.equal((await port.get(first.observation_id))?.retention_state, 'active');
      assert.equal(await port.get('observation-none'), null);
      assert.equal(await port.sourceAllowsUse(first.observation_id), true);

      const text = await assets.import({
        file_name: 'ocr.txt',
        media_type: 'text/plain',
        bytes: new TextEncoder().encode('derived text'),
      });
      assert.equal(await port.setCanonicalTextAsset(first.observation_id, text.asset_id), true);
      assert.equal((await port.get(first.observation_id))?.canonical_text_asset_id, text.asset_id);
      const refs = JSON.stringify(await assets.references(text.asset_id));
      assert.ok(refs.includes(first.observation_id) && refs.includes('canonical_text'), refs);

      // A second upload takes the source over its budget of one: the first is purged.
      await svc.ingress.upload('port', token, uploadBody('p2', 2));
      assert.equal((await port.get(first.observation_id))?.retention_state, 'purged');
      assert.equal(await port.setCanonicalTextAsset(first.observation_id, text.asset_id), false);
      assert.equal(await port.setCanonicalTextAsset('observation-none', text.asset_id), false);
    });
  });
}
