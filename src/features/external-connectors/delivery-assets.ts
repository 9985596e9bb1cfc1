// Which assets a sidecar may download (api-collab §6.8): exactly those referenced by a pending
// external delivery of that connector. Rows are opened before POST /deliver and settled when the
// delivery is committed or fails for good; anything else is 404 to the download route.
import type { Store } from '../../store/store.ts';

export class DeliveryAssets {
  private readonly store: Store;
  constructor(store: Store) {
    this.store = store;
  }

  async open(connector: string, deliveryId: string, assetIds: string[]): Promise<void> {
    if (assetIds.length === 0) return;
    await this.store.write(async (tx) => {
      for (const asset_id of new Set(assetIds))
        await tx.db
          .insertInto('external_delivery_assets')
          .values({
            connector,
            delivery_id: deliveryId,
            asset_id,
            created_at_ms: tx.now,
            settled_at_ms: null,
          })
          .onConflict((oc) =>
            oc.columns(['connector', 'delivery_id', 'asset_id']).doUpdateSet({ settled_at_ms: null }),
          )
          .execute();
    });
  }

  async settle(connector: string, deliveryId: string): Promise<void> {
    await this.store.write((tx) =>
      tx.db
        .updateTable('external_delivery_assets')
        .set({ settled_at_ms: tx.now })
        .where('connector', '=', connector)
        .where('delivery_id', '=', deliveryId)
        .where('settled_at_ms', 'is', null)
        .execute(),
    );
  }

  async servable(connector: string, deliveryId: string, assetId: string): Promise<boolean> {
    const r = await this.store.db
      .selectFrom('external_delivery_assets')
      .select('asset_id')
      .where('connector', '=', connector)
      .where('delivery_id', '=', deliveryId)
      .where('asset_id', '=', assetId)
      .where('settled_at_ms', 'is', null)
      .executeTakeFirst();
    return r !== undefined;
  }
}
