// What a route receives for each asset of an input, decided at model-call time from the route's
// encoding (models/capabilities.ts): image and file parts carry the bytes the assets store
// re-verified; a route that cannot take a kind gets the asset's derived text, or a notice.
import type { RouteConfig } from '../../config/routes-file.ts';
import { assetEncoding } from '../../models/capabilities.ts';
import type { UserPart } from '../../models/driver.ts';
import type { AssetsPort, AssetView } from '../assets/port.ts';

const TEXT_TYPES = new Set(['text/plain', 'text/csv', 'text/markdown', 'application/json']);

export const isImage = (mediaType: string): boolean => mediaType.startsWith('image/');
const isAudio = (mediaType: string): boolean => mediaType.startsWith('audio/');

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

/** A document's text, introduced so the model knows which file it reads. */
const textOf = (a: AssetView, text: string): UserPart => ({
  type: 'text',
  text: `[file ${a.file_name} (${a.asset_id}), ${a.media_type}]\n${text}`,
});

const notice = (text: string): UserPart => ({ type: 'text', text: `[${text}]` });

async function derivedText(assets: AssetsPort, a: AssetView): Promise<string | null> {
  const text = await assets.readText(a.asset_id);
  if (text !== null) return text;
  // Plain-text types are their own text when the store kept no separate rendering.
  if (TEXT_TYPES.has(a.media_type)) return Buffer.from(await assets.readRaw(a.asset_id)).toString('utf8');
  return null;
}

export async function renderParts(
  assets: AssetsPort,
  parts: UserPart[],
  route: RouteConfig,
  signal: AbortSignal,
): Promise<UserPart[]> {
  const enc = assetEncoding(route);
  const out: UserPart[] = [];
  for (const p of parts) {
    if (signal.aborted) throw signal.reason;
    if (p.type !== 'asset') {
      out.push(p);
      continue;
    }
    const a = await assets.get(p.asset_id);
    if (!a) {
      out.push(notice(`asset no longer available: ${p.asset_id}`));
      continue;
    }
    const file = (bytes: Uint8Array, mediaType = a.media_type) => ({
      asset_id: a.asset_id,
      file_name: a.file_name,
      media_type: mediaType,
      data_base64: b64(bytes),
    });
    if (isImage(a.media_type)) {
      if (enc.images) {
        // The normalized rendering when the store made one (bounded edge and size), else the bytes.
        const preview = a.preview_image_uri === null ? null : await assets.readPreview(a.asset_id);
        out.push(
          preview
            ? { type: 'image', ...file(preview.bytes, preview.media_type) }
            : { type: 'image', ...file(await assets.readRaw(a.asset_id)) },
        );
      } else {
        const text = await assets.readText(a.asset_id);
        out.push(
          text !== null
            ? textOf(a, text)
            : notice(`image ${a.file_name} (${a.asset_id}): this route cannot see images`),
        );
      }
      continue;
    }
    if (a.media_type === 'application/pdf' && enc.pdf_files) {
      out.push({ type: 'file', ...file(await assets.readRaw(a.asset_id)) });
      continue;
    }
    if (isAudio(a.media_type) && enc.audio_file(a.media_type)) {
      out.push({ type: 'file', ...file(await assets.readRaw(a.asset_id)) });
      continue;
    }
    const text = await derivedText(assets, a);
    if (text !== null) out.push(textOf(a, text));
    else if (isAudio(a.media_type))
      out.push(
        notice(`audio ${a.file_name} (${a.asset_id}): this route cannot hear audio and it has no transcript`),
      );
    else
      out.push(
        notice(`file ${a.file_name} (${a.asset_id}), ${a.media_type}: no text could be derived from it`),
      );
    // A derived preview (a DXF plan) goes along as an image where the route can see one.
    if (enc.images && a.preview_image_uri !== null) {
      const preview = await assets.readPreview(a.asset_id);
      if (preview) out.push({ type: 'image', ...file(preview.bytes, preview.media_type) });
    }
  }
  return out;
}
