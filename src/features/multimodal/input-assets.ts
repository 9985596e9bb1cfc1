// The engine's InputAssetsPort over the assets store: inline uploads imported before a run is
// written, references checked and written with their owner, and each asset rendered for the route
// just before a model call (render.ts).
import type { RouteConfig } from '../../config/routes-file.ts';
import type { InputAssetsPort, InputOwner } from '../../engine/input-assets.ts';
import type { InputItem } from '../../engine/types.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import { routeHas } from '../../models/capabilities.ts';
import type { ChatMessage } from '../../models/driver.ts';
import type { WriteTx } from '../../store/store.ts';
import type { AssetsPort, AssetView } from '../assets/port.ts';
import { isImage, renderParts } from './render.ts';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export const assetNotFound = (assetId: string) =>
  new DaemonError(404, 'assets', 'asset_not_found', `asset ${assetId} does not exist (or was deleted)`);

/** Strict base64: a typo must not silently become other bytes. */
export function decodeBase64(text: string, what: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  if (clean.length % 4 !== 0 || !BASE64.test(clean))
    throw new DaemonError(
      400,
      'assets',
      'invalid_asset_request',
      `${what}: content_base64 is not valid base64`,
    );
  return Buffer.from(clean, 'base64');
}

/** Resolves a `board_reference` for a session into the items a model reads (the boards feature). */
export interface BoardInputResolver {
  resolve(item: InputItem, sessionId: string | null): Promise<InputItem[]>;
}

export class InputAssets implements InputAssetsPort {
  private readonly assets: () => AssetsPort;
  /** Installed by the boards feature; without it a board_reference is refused. */
  boards: BoardInputResolver | null = null;
  constructor(assets: () => AssetsPort) {
    this.assets = assets;
  }

  async prepareItems(
    items: InputItem[],
    signal?: AbortSignal,
    sessionId?: string | null,
  ): Promise<InputItem[]> {
    const out: InputItem[] = [];
    for (const item of items) {
      if (item.type === 'board_reference') {
        if (!this.boards)
          throw new DaemonError(400, 'boards', 'boards_unavailable', 'this daemon offers no boards');
        out.push(...(await this.boards.resolve(item, sessionId ?? null)));
      } else if (item.type === 'inline_asset') {
        const fileName = String(item.file_name);
        const asset = await this.assets().import(
          {
            file_name: fileName,
            media_type: typeof item.media_type === 'string' ? item.media_type : undefined,
            bytes: decodeBase64(String(item.content_base64 ?? ''), fileName),
          },
          signal,
        );
        out.push({ type: 'asset_reference', asset_id: asset.asset_id });
      } else if (item.type === 'asset_reference') {
        const id = String(item.asset_id);
        if (!(await this.assets().get(id))) throw assetNotFound(id);
        out.push({ type: 'asset_reference', asset_id: id });
      } else out.push(item);
    }
    return out;
  }

  async checkRoute(items: InputItem[], route: RouteConfig): Promise<void> {
    if (routeHas(route, 'multimodal_input')) return;
    for (const item of items) {
      if (item.type !== 'asset_reference') continue;
      const asset = await this.assets().get(String(item.asset_id));
      // An image the route cannot see and that has no text to stand in for it (docs/decisions.md).
      if (asset && isImage(asset.media_type) && asset.text_uri === null) throw imageOnTextRoute(asset, route);
    }
  }

  async reference(tx: WriteTx, owner: InputOwner, assetIds: string[]): Promise<void> {
    await this.assets().addReferences(
      assetIds.map((asset_id) => ({ asset_id, ...owner, hard: true })),
      tx.db,
    );
  }

  async release(tx: WriteTx, owner: { domain: string; owner_id: string }): Promise<void> {
    await this.assets().removeReferences(owner, tx.db);
  }

  async render(messages: ChatMessage[], route: RouteConfig, signal: AbortSignal): Promise<ChatMessage[]> {
    const out: ChatMessage[] = [];
    for (const m of messages) {
      if (m.role === 'user' && m.parts?.some((p) => p.type === 'asset'))
        out.push({ ...m, parts: await renderParts(this.assets(), m.parts, route, signal) });
      else out.push(m);
    }
    return out;
  }
}

function imageOnTextRoute(asset: AssetView, route: RouteConfig): DaemonError {
  return new DaemonError(
    400,
    'routes',
    'route_capability_missing',
    `route \`${route.route_id}\` cannot read images (multimodal_input is off) and image ${asset.file_name} (${asset.asset_id}) has no text to send instead; submit on a vision-capable route (provider) or send text`,
  );
}
