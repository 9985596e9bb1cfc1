// `--file <path>` and `--asset <id>` on `runs submit` and `sessions input` (concepts §4.6): mapped
// onto the legacy `attachments`, appended after the message text. A file travels inline (base64)
// and the daemon imports it as an asset before the run is written; an asset id is referenced.
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { Command } from 'commander';
import type { InputAttachment } from '../sdk/types.ts';
import { UsageError } from './errors.ts';

export interface AttachmentFlags {
  file?: string[];
  asset?: string[];
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Declared media types for extensions whose content cannot be sniffed (text kinds) or is ambiguous. */
const BY_EXTENSION: Record<string, string> = {
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.pdf': 'application/pdf',
  '.dxf': 'application/dxf',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.wav': 'audio/wav',
  '.mp3': 'audio/mpeg',
  '.webm': 'audio/webm',
  '.m4a': 'audio/m4a',
  '.flac': 'audio/flac',
  '.opus': 'audio/opus',
  '.aac': 'audio/aac',
};

export function attachmentOptions(cmd: Command): Command {
  return cmd
    .option('--file <path>', 'attach a local file (uploaded inline, stored as an asset; repeatable)', collect)
    .option('--asset <asset_id>', 'attach a stored asset by id (repeatable)', collect);
}

export function attachmentsOf(flags: AttachmentFlags): InputAttachment[] {
  const out: InputAttachment[] = [];
  for (const path of flags.file ?? []) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw new UsageError(`cannot read --file ${path} (${(err as NodeJS.ErrnoException).code})`);
    }
    const item: InputAttachment = {
      type: 'inline_asset',
      file_name: basename(path),
      content_base64: bytes.toString('base64'),
    };
    const mediaType = BY_EXTENSION[extname(path).toLowerCase()];
    if (mediaType) item.media_type = mediaType;
    out.push(item);
  }
  for (const id of flags.asset ?? []) {
    if (!id.trim()) throw new UsageError('--asset needs an asset id');
    out.push({ type: 'asset_reference', asset_id: id });
  }
  return out;
}
