// `asset_updated` on the global event stream: an import that made a new asset, or a delete. It
// names the asset and its size only: no file name (user text) and no content.
import type { EventInput } from '../../store/event-log.ts';
import type { AssetRow } from '../../store/repos/assets.ts';

export type AssetAction = 'created' | 'deleted';

export function assetEvent(
  r: Pick<AssetRow, 'asset_id' | 'media_type' | 'sha256' | 'byte_length'>,
  action: AssetAction,
  extra: { reclaimed_bytes?: number } = {},
): EventInput {
  return {
    name: 'asset_updated',
    data: {
      asset_id: r.asset_id,
      action,
      media_type: r.media_type,
      sha256: r.sha256,
      byte_length: r.byte_length,
      ...extra,
    },
  };
}
