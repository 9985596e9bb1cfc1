// Builders of input items (api-core §3.6) for `input_items` and `attachments`: text, a stored
// asset, a file uploaded inline. Browser-safe: bytes are base64-encoded without Node's Buffer.
import type { InputItem } from './types.ts';

/** Standard base64 of the bytes (in chunks, so large files do not overflow the call stack). */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export const textItem = (text: string): Extract<InputItem, { type: 'text' }> => ({ type: 'text', text });

export const assetReference = (assetId: string): Extract<InputItem, { type: 'asset_reference' }> => ({
  type: 'asset_reference',
  asset_id: assetId,
});

/**
 * A file sent with the request; the daemon stores it as an asset before the run is created. A
 * string is sent as its UTF-8 bytes. Give `mediaType` for text kinds (the content cannot tell).
 */
export function inlineAsset(
  fileName: string,
  content: Uint8Array | string,
  mediaType?: string,
): Extract<InputItem, { type: 'inline_asset' }> {
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  const item: Extract<InputItem, { type: 'inline_asset' }> = {
    type: 'inline_asset',
    file_name: fileName,
    content_base64: bytesToBase64(bytes),
  };
  if (mediaType !== undefined) item.media_type = mediaType;
  return item;
}
