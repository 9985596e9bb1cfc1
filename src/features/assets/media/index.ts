// Validation and normalization of uploaded media (api-core §7.2), as pure functions of the bytes:
// the asset store calls `normalizeMedia` before anything is kept, so a refused upload stores nothing.
// This first version knows the text types only; the full set (images, PDF, DXF, audio) replaces it.
import { DaemonError } from '../../../errors/daemon-error.ts';

export interface MediaInput {
  file_name: string;
  /** As declared by the caller (may be absent, carry parameters or be an alias). */
  media_type?: string;
  bytes: Uint8Array;
}

export interface NormalizedMedia {
  /** The normalized media type the asset is stored under. */
  media_type: string;
  /** Prompt-ready derived text (documents), if any. */
  text?: string;
  /** A derived preview image (DXF plan, normalized PNG/JPEG), if any. */
  preview?: { media_type: string; bytes: Uint8Array };
}

export const MAX_RAW_UPLOAD_BYTES = 12 * 1024 * 1024;

const TEXT_TYPES = new Set(['text/plain', 'text/csv', 'text/markdown', 'application/json']);

export async function normalizeMedia(input: MediaInput, _signal?: AbortSignal): Promise<NormalizedMedia> {
  if (input.bytes.byteLength > MAX_RAW_UPLOAD_BYTES)
    throw new DaemonError(
      400,
      'assets',
      'asset_too_large',
      `uploads are limited to ${MAX_RAW_UPLOAD_BYTES} bytes`,
    );
  const declared = (input.media_type ?? 'text/plain').split(';')[0]!.trim().toLowerCase();
  if (!TEXT_TYPES.has(declared))
    throw new DaemonError(400, 'assets', 'unsupported_media_type', `media type ${declared} is not supported`);
  const text = new TextDecoder('utf-8', { fatal: true }).decode(input.bytes);
  return { media_type: declared, text };
}
