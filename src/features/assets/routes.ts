// HTTP binding of the assets API (api-core §7): parse, call the service, render.
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DaemonError } from '../../errors/daemon-error.ts';
import type { HttpApp } from '../../http/context.ts';
import { fetchLimit, parsePage, renderPage } from '../../http/pagination.ts';
import { MAX_RAW_UPLOAD_BYTES } from './media/index.ts';
import type { AssetReclaimer } from './reclaim.ts';
import {
  AssetDeletePlan,
  AssetGcReport,
  AssetGcRequest,
  AssetParams,
  AssetReferencesView,
  AssetView,
  DeleteAssetQuery,
  ImportAssetRequest,
  ListAssetsQuery,
} from './schema.ts';
import type { AssetsService } from './service.ts';

/**
 * Strict base64 (whitespace allowed): a typo must not silently store different bytes. Node's
 * decoder skips characters outside the alphabet, so a decoded length short of what the text's
 * length promises is how a bad character shows (a regular expression over 16 MiB costs ~45 ms).
 */
export function decodeBase64(text: string): Buffer {
  const compact = /\s/.test(text) ? text.replace(/\s+/g, '') : text;
  if (Math.floor((compact.length * 3) / 4) > MAX_RAW_UPLOAD_BYTES + 2)
    throw new DaemonError(
      400,
      'assets',
      'asset_too_large',
      `uploads are limited to ${MAX_RAW_UPLOAD_BYTES} bytes`,
    );
  const padding = compact.endsWith('==') ? 2 : compact.endsWith('=') ? 1 : 0;
  const bytes = Buffer.from(compact, 'base64');
  if (compact.length % 4 !== 0 || bytes.length !== (compact.length / 4) * 3 - padding)
    throw new DaemonError(400, 'assets', 'invalid_asset_request', 'content_base64 is not valid base64');
  return bytes;
}

/** `inline; filename="<ascii-safe>"`, plus the exact name as RFC 5987 `filename*` when it is not ASCII. */
export function contentDisposition(fileName: string): string {
  const safe = [...fileName].map((c) => (c >= ' ' && c <= '~' && c !== '"' && c !== '\\' ? c : '_')).join('');
  let header = `inline; filename="${safe || 'asset'}"`;
  if (safe !== fileName) {
    const star = encodeURIComponent(fileName).replace(
      /['()*]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    );
    header += `; filename*=UTF-8''${star}`;
  }
  return header;
}

export function registerAssetRoutes(app: HttpApp, assets: AssetsService, reclaim: AssetReclaimer): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['assets'];

  r.get('/v1/assets', { schema: { tags, querystring: ListAssetsQuery } }, async (req) => {
    const page = parsePage(req.query);
    const { items, total } = await assets.list({
      query: req.query.query,
      after: page.after,
      limit: fetchLimit(page),
    });
    return renderPage(page, items, { total, keyOf: (a) => a.asset_id, order: 'asset_id_asc' });
  });

  // 201 when the upload made a new asset, 200 when identical bytes returned the existing one.
  r.post(
    '/v1/assets',
    { schema: { tags, body: ImportAssetRequest, response: { 200: AssetView, 201: AssetView } } },
    async (req, reply) => {
      const { view, created } = await assets.importAsset({
        file_name: req.body.file_name,
        media_type: req.body.media_type,
        bytes: decodeBase64(req.body.content_base64),
      });
      return reply.code(created ? 201 : 200).send(view);
    },
  );

  r.post(
    '/v1/assets/gc',
    { schema: { tags, body: AssetGcRequest.nullish(), response: { 200: AssetGcReport } } },
    async (req) => reclaim.gc(req.body?.dry_run ?? true),
  );

  r.get(
    '/v1/assets/:asset_id',
    { schema: { tags, params: AssetParams, response: { 200: AssetView } } },
    async (req) => assets.getOrThrow(req.params.asset_id),
  );

  r.get(
    '/v1/assets/:asset_id/references',
    { schema: { tags, params: AssetParams, response: { 200: AssetReferencesView } } },
    async (req) => assets.references(req.params.asset_id),
  );

  // Admin-only when auth is on (src/http/auth.ts keeps it off the read-only allow-list).
  r.get(
    '/v1/assets/:asset_id/raw',
    { schema: { tags, params: AssetParams, response: { 200: z.any() } } },
    async (req, reply) => {
      const { row, bytes } = await assets.readRawWithRow(req.params.asset_id);
      return reply
        .header('content-type', row.media_type)
        .header('content-disposition', contentDisposition(row.file_name))
        .header('x-content-type-options', 'nosniff')
        .send(bytes);
    },
  );

  r.delete(
    '/v1/assets/:asset_id',
    {
      schema: {
        tags,
        params: AssetParams,
        querystring: DeleteAssetQuery,
        response: { 200: AssetDeletePlan },
      },
    },
    async (req) => {
      const dry = req.query.dry_run === 'true' || req.query.dry_run === '1';
      return dry ? reclaim.plan(req.params.asset_id) : reclaim.delete(req.params.asset_id);
    },
  );
}
