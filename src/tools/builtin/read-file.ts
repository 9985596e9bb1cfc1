// read_file: a slice of lines of one workspace file, with the whole file's SHA-256 so a later
// write can use it as `expected_sha256`. Content is plain text (no line-number prefixes), exactly
// as on disk, so it can be pasted into edit_file's `old_text`.
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { optBool, optInt, reqString } from './args.ts';
import { defineFileTool, type FileToolConfig } from './define-tool.ts';
import { fail, throwIfAborted } from './failure.ts';
import { closeDir, openDir, openRegular } from './secure-fs.ts';
import { completeUtf8Length, decodeText } from './text.ts';
import { resolveExisting } from './workspace-path.ts';

const CHUNK = 64 * 1024;
/** Above this size the digest would cost more than the read; sha256 is then null. */
const FULL_HASH_LIMIT = 64 * 1024 * 1024;

interface Scan {
  region: Buffer;
  /** The requested lines hold more bytes than `region` (the byte cap was hit). */
  overCap: boolean;
  found: boolean;
  /** File offset just past the last requested line, or -1 when the lines run to end of file. */
  regionEnd: number;
  totalLines: number | null;
  sha256: string | null;
  head: Buffer;
}

/** One pass over the file: counts lines, collects the requested region (≤ cap+1 bytes), hashes. */
async function scanFile(
  fh: FileHandle,
  size: number,
  start: number,
  count: number | undefined,
  cap: number,
  signal: AbortSignal,
): Promise<Scan> {
  const hash = size <= FULL_HASH_LIMIT ? createHash('sha256') : null;
  const buf = Buffer.alloc(CHUNK);
  const parts: Buffer[] = [];
  const want = cap + 1;
  let collected = 0;
  let pos = 0;
  let line = 1;
  let sliceStart = start === 1 ? 0 : -1;
  let sliceEnd = -1;
  let head = Buffer.alloc(0);
  let lastByte = -1;
  let eof = false;
  while (!eof) {
    throwIfAborted(signal);
    const { bytesRead: n } = await fh.read(buf, 0, CHUNK, pos);
    if (n === 0) {
      eof = true;
      break;
    }
    const chunk = buf.subarray(0, n);
    if (pos === 0) head = Buffer.from(chunk.subarray(0, 8192));
    hash?.update(chunk);
    for (let j = chunk.indexOf(10); j !== -1; j = chunk.indexOf(10, j + 1)) {
      if (sliceStart !== -1 && sliceEnd === -1 && count !== undefined && line - start + 1 === count) {
        sliceEnd = pos + j + 1;
      }
      line++;
      if (sliceStart === -1 && line === start) sliceStart = pos + j + 1;
    }
    if (sliceStart !== -1 && collected < want) {
      const from = Math.max(sliceStart - pos, 0);
      const to = Math.min(n, sliceEnd === -1 ? n : sliceEnd - pos, from + want - collected);
      if (to > from) {
        parts.push(Buffer.from(chunk.subarray(from, to)));
        collected += to - from;
      }
    }
    lastByte = chunk[n - 1]!;
    pos += n;
    const regionDone = collected >= want || (sliceEnd !== -1 && pos >= sliceEnd);
    if (!hash && regionDone) break;
  }
  const totalLines = eof ? (pos === 0 ? 0 : lastByte === 10 ? line - 1 : line) : null;
  return {
    region: Buffer.concat(parts),
    overCap: collected > cap,
    found: sliceStart !== -1 && (sliceStart < pos || pos === 0),
    regionEnd: sliceEnd,
    totalLines,
    sha256: hash && eof ? hash.digest('hex') : null,
    head,
  };
}

function linesIn(text: Buffer): number {
  if (text.length === 0) return 0;
  let n = 0;
  for (let j = text.indexOf(10); j !== -1; j = text.indexOf(10, j + 1)) n++;
  return text[text.length - 1] === 10 ? n : n + 1;
}

export function readFileTool(config?: FileToolConfig) {
  return defineFileTool(
    {
      name: 'read_file',
      description:
        'Read a file in the workspace. Returns its text exactly as on disk (no line numbers) for the requested lines, plus the whole file sha256 to use as expected_sha256 when writing. Large files are returned in parts: follow next_start_line.',
      input_schema: {
        type: 'object',
        properties: {
          path: {
            type: 'string',
            description: 'Workspace-relative (or absolute, inside the workspace) file path.',
          },
          start_line: {
            type: 'integer',
            minimum: 1,
            description: 'First line to return, 1-based (default 1).',
          },
          line_count: {
            type: 'integer',
            minimum: 1,
            description: 'Number of lines to return (default: to the end).',
          },
          include_base64: { type: 'boolean', description: 'Also return the returned bytes as base64.' },
        },
        required: ['path'],
      },
      side_effects: false,
      timeout_ms: 5_000,
      async run(args, env) {
        const raw = reqString(args, 'path');
        const start = optInt(args, 'start_line', { min: 1 }) ?? 1;
        const count = optInt(args, 'line_count', { min: 1 });
        const includeBase64 = optBool(args, 'include_base64') ?? false;
        const target = await resolveExisting(env.root, raw, 'path');
        if (target.components.length === 0) {
          fail('`.` is the workspace root, a directory; use list_files to see what it contains');
        }
        const cap = includeBase64 ? Math.floor(env.limits.max_read_bytes / 2) : env.limits.max_read_bytes;
        const dir = await openDir(env.root, target.components.slice(0, -1), {
          create: false,
          display: target.display,
        });
        let fh: FileHandle | null = null;
        try {
          fh = await openRegular(dir, target.components[target.components.length - 1]!, target.display);
          const size = (await fh.stat()).size;
          const scan = await scanFile(fh, size, start, count, cap, env.signal);
          const base = { path: target.display, size, sha256: scan.sha256 };
          if (decodeText(scan.head.subarray(0, completeUtf8Length(scan.head))) === null) {
            const bytes = Buffer.alloc(Math.min(size, cap));
            const { bytesRead } = await fh.read(bytes, 0, bytes.length, 0);
            return {
              ...base,
              start_line: 1,
              line_count: 0,
              content: '',
              bytes_read: bytesRead,
              encoding: 'binary',
              binary: true,
              truncated: bytesRead < size,
              ...(includeBase64 ? { content_base64: bytes.subarray(0, bytesRead).toString('base64') } : {}),
              notice: `binary file (${size} bytes); content is empty${includeBase64 ? '' : ', pass include_base64=true for the bytes'}${bytesRead < size ? `; only the first ${bytesRead} bytes are included` : ''}`,
            };
          }
          return textResult(base, scan, start, cap, includeBase64);
        } finally {
          await fh?.close().catch(() => {});
          await closeDir(dir);
        }
      },
    },
    config,
  );
}

function textResult(
  base: Record<string, unknown>,
  scan: Scan,
  start: number,
  cap: number,
  includeBase64: boolean,
): Record<string, unknown> {
  if (!scan.found) {
    return {
      ...base,
      start_line: start,
      line_count: 0,
      content: '',
      bytes_read: 0,
      encoding: 'utf-8',
      binary: false,
      truncated: false,
      total_lines: scan.totalLines,
      notice: `start_line ${start} is past the end of the file (it has ${scan.totalLines ?? 'fewer'} lines)`,
    };
  }
  let content = scan.region;
  let notice: string | undefined;
  if (scan.overCap) {
    const lastNewline = content.lastIndexOf(10, cap - 1);
    content =
      lastNewline >= 0
        ? content.subarray(0, lastNewline + 1)
        : content.subarray(0, completeUtf8Length(content, cap));
  }
  const lineCount = linesIn(content);
  const complete = content.length > 0 && content[content.length - 1] === 10 ? lineCount : lineCount - 1;
  let next: number | undefined;
  if (scan.overCap) {
    next = start + Math.max(complete, 0);
    notice =
      complete > 0
        ? `output truncated at ${cap} bytes; call read_file again with start_line=${next} to continue`
        : `line ${start} alone is longer than ${cap} bytes; only its beginning is shown (use grep_search to find text inside it)`;
  } else if (scan.regionEnd !== -1 && (scan.totalLines === null || start + lineCount <= scan.totalLines)) {
    next = start + lineCount;
  }
  const text = decodeText(content);
  if (text === null)
    notice = `${notice ? `${notice}; ` : ''}these lines are not valid UTF-8 and are shown with replacement characters`;
  return {
    ...base,
    start_line: start,
    line_count: lineCount,
    content: text ?? content.toString('utf8'),
    bytes_read: content.length,
    encoding: 'utf-8',
    binary: false,
    truncated: scan.overCap,
    ...(scan.totalLines !== null ? { total_lines: scan.totalLines } : {}),
    ...(next !== undefined ? { next_start_line: next } : {}),
    ...(includeBase64 ? { content_base64: content.toString('base64') } : {}),
    ...(notice ? { notice } : {}),
  };
}
