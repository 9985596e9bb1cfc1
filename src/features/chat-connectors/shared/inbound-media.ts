// Inbound chat files become assets (api-core §7) the run input points at. A file that cannot be
// fetched or is refused by the assets store does not sink the message: the run gets the text and
// the metadata names the skipped file and why (decision 300).
import { isDaemonError } from '../../../errors/daemon-error.ts';
import type { AssetsPort } from '../../assets/port.ts';
import { WireError } from './wire-client.ts';

/** The assets store's upload bound (api-core: 12 MiB); larger files are not fetched at all. */
export const MAX_INBOUND_FILE_BYTES = 12 * 1024 * 1024;
/** At most this many files of one message are fetched. */
export const MAX_INBOUND_FILES = 10;

export interface InboundItem {
  type: 'asset_reference';
  asset_id: string;
}

export interface SkippedFile {
  id: string;
  reason: string;
}

/** Why a file was skipped, without URLs or tokens. */
export function skipReason(err: unknown): string {
  if (err instanceof WireError) return `download_${err.kind}`;
  if (isDaemonError(err)) return err.code;
  return 'download_failed';
}

export async function importInbound(
  assets: AssetsPort,
  file: { file_name: string; media_type?: string | null; bytes: Uint8Array },
  signal?: AbortSignal,
): Promise<InboundItem> {
  const a = await assets.import(
    {
      file_name: file.file_name,
      ...(file.media_type ? { media_type: file.media_type } : {}),
      bytes: file.bytes,
    },
    signal,
  );
  return { type: 'asset_reference', asset_id: a.asset_id };
}

/** A message made only of files none of which could be used still says what it was. */
export const withoutFilesText = (text: string, fileCount: number): string =>
  text.trim() !== '' || fileCount === 0
    ? text
    : `[a message with ${fileCount} file(s) that could not be fetched]`;

/** The run input: plain content without files, else a text item followed by the file references. */
export function inputWith(
  text: string,
  items: InboundItem[],
  fileCount = items.length,
): { content?: string; input_items?: Array<{ type: 'text'; text: string } | InboundItem> } {
  if (items.length === 0) return { content: withoutFilesText(text, fileCount) };
  return { input_items: [...(text.trim() !== '' ? [{ type: 'text' as const, text }] : []), ...items] };
}
