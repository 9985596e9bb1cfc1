// write_file: creates or replaces one file atomically (temp file, fsync, rename), creating missing
// parent directories inside the workspace. `expected_sha256` turns it into compare-and-swap.
import { optSha256, optString } from './args.ts';
import { defineFileTool, type FileToolConfig } from './define-tool.ts';
import { fail, throwIfAborted } from './failure.ts';
import { withPathLocks } from './locks.ts';
import {
  closeDir,
  commitWrite,
  type DirRef,
  keepMode,
  openDir,
  openRegular,
  readAll,
  stageWrite,
  writeTargetInfo,
} from './secure-fs.ts';
import { sha256Hex } from './text.ts';
import { lockKey, resolveForWrite } from './workspace-path.ts';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function contentBytes(args: Record<string, unknown>, maxBytes: number): Buffer {
  const text = optString(args, 'content');
  const b64 = optString(args, 'content_base64');
  if (text !== undefined && b64 !== undefined)
    fail('give exactly one of `content` or `content_base64`, not both');
  if (text === undefined && b64 === undefined) fail('missing `content` (text) or `content_base64` (bytes)');
  let data: Buffer;
  if (b64 !== undefined) {
    const compact = b64.replace(/\s+/g, '');
    if (compact.length % 4 !== 0 || !BASE64.test(compact)) fail('`content_base64` is not valid base64');
    data = Buffer.from(compact, 'base64');
  } else {
    data = Buffer.from(text!, 'utf8');
  }
  if (data.length > maxBytes) {
    fail(
      `the content is ${data.length} bytes, over max_input_bytes (${maxBytes}); write the file in smaller parts`,
    );
  }
  return data;
}

/** Fails unless the file exists and its bytes hash to `expected`. */
export async function checkExpectedSha(
  dir: DirRef,
  leaf: string,
  display: string,
  expected: string,
  maxBytes: number,
): Promise<Buffer> {
  const fh = await openRegular(dir, leaf, display);
  try {
    const bytes = await readAll(
      fh,
      maxBytes,
      display,
      'expected_sha256 cannot be checked on a file this large',
    );
    const actual = sha256Hex(bytes);
    if (actual !== expected) {
      fail(
        `expected_sha256 does not match \`${display}\` (expected ${expected}, found ${actual}): the file changed since you read it. Read it again and redo the change.`,
      );
    }
    return bytes;
  } finally {
    await fh.close().catch(() => {});
  }
}

export function writeFileTool(config?: FileToolConfig) {
  return defineFileTool(
    {
      name: 'write_file',
      description:
        'Create or replace a whole file in the workspace (atomic; missing parent directories are created). Give `content` (text) or `content_base64` (bytes). Pass expected_sha256 (from read_file) to replace only the version you read.',
      input_schema: {
        type: 'object',
        properties: {
          path: { type: 'string', description: 'Workspace-relative file path.' },
          content: { type: 'string', description: 'Full new file contents (UTF-8 text).' },
          content_base64: {
            type: 'string',
            description: 'Full new file contents as base64, instead of content.',
          },
          expected_sha256: {
            type: 'string',
            description: 'SHA-256 (hex) the existing file must have; the write is refused otherwise.',
          },
        },
        required: ['path'],
      },
      side_effects: true,
      timeout_ms: 5_000,
      async run(args, env) {
        const data = contentBytes(args, env.limits.max_input_bytes);
        const expected = optSha256(args, 'expected_sha256');
        const target = await resolveForWrite(
          env.root,
          args.path ?? fail('missing required string field `path`'),
          'path',
        );
        const key = lockKey(env.root, [...target.parent, target.leaf]);
        return withPathLocks([key], async () => {
          let dir: DirRef | null = null;
          try {
            dir = await openDir(env.root, target.parent, {
              create: expected === undefined,
              display: target.display,
            });
            const existing = await writeTargetInfo(dir, target.leaf, target.display);
            if (expected !== undefined) {
              if (!existing) fail(`\`${target.display}\` does not exist, so it cannot match expected_sha256`);
              await checkExpectedSha(dir, target.leaf, target.display, expected, env.limits.max_input_bytes);
            }
            throwIfAborted(env.signal);
            const staged = await stageWrite(
              dir,
              target.leaf,
              data,
              target.display,
              keepMode(existing),
              env.signal,
            );
            // Past this point the change happens; the call no longer gives up on timeout.
            await commitWrite(staged);
            return {
              path: target.display,
              bytes_written: data.length,
              sha256: sha256Hex(data),
              created: existing === null,
            };
          } finally {
            await closeDir(dir);
          }
        });
      },
    },
    config,
  );
}
