// edit_file: exact text replacement in one existing UTF-8 file. As in the reference
// implementation the first occurrence is replaced unless `replace_all` is set; when the text occurs
// more than once the result says so, so the model can check it changed the right one.
import { optBool, optSha256, reqString } from './args.ts';
import { defineFileTool, type FileToolConfig, type FileToolEnv } from './define-tool.ts';
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
import { decodeText, nearMissHint, replaceExact, sha256Hex } from './text.ts';
import { lockKey, resolveForWrite, type WriteTarget } from './workspace-path.ts';

/** Loads an existing text file for in-place editing; binary and oversized files are refused. */
export async function loadTextForEdit(
  env: FileToolEnv,
  dir: DirRef,
  target: WriteTarget,
  expected: string | undefined,
): Promise<{ text: string; mode: number | undefined }> {
  const info = await writeTargetInfo(dir, target.leaf, target.display);
  if (!info) fail(`\`${target.display}\` does not exist; use write_file to create it`);
  const fh = await openRegular(dir, target.leaf, target.display);
  let bytes: Buffer;
  try {
    bytes = await readAll(fh, env.limits.max_edit_bytes, target.display, 'replace it whole with write_file');
  } finally {
    await fh.close().catch(() => {});
  }
  if (expected !== undefined) {
    const actual = sha256Hex(bytes);
    if (actual !== expected) {
      fail(
        `expected_sha256 does not match \`${target.display}\` (expected ${expected}, found ${actual}): the file changed since you read it. Read it again and redo the edit.`,
      );
    }
  }
  const text = decodeText(bytes);
  if (text === null) {
    fail(`\`${target.display}\` is not UTF-8 text (binary content); edit tools only change text files`);
  }
  return { text, mode: keepMode(info) };
}

export function editFileTool(config?: FileToolConfig) {
  return defineFileTool(
    {
      name: 'edit_file',
      description:
        'Replace exact text in an existing workspace file. old_text must match the file byte for byte (whitespace and line endings included). Replaces the first occurrence, or every one with replace_all. Include enough surrounding lines to make old_text unique.',
      input_schema: {
        type: 'object',
        properties: {
          path: { type: 'string', description: 'Workspace-relative file path.' },
          old_text: { type: 'string', description: 'Exact existing text to replace (non-empty).' },
          new_text: { type: 'string', description: 'Replacement text (may be empty to delete).' },
          replace_all: { type: 'boolean', description: 'Replace every occurrence instead of the first.' },
          expected_sha256: {
            type: 'string',
            description: 'SHA-256 (hex) the file must have before editing.',
          },
        },
        required: ['path', 'old_text', 'new_text'],
      },
      side_effects: true,
      timeout_ms: 5_000,
      async run(args, env) {
        // old_string/new_string are the names other agent tool sets use; accept them too.
        const oldText = reqString(args, 'old_text', ['old_string']);
        const newText = reqString(args, 'new_text', ['new_string']);
        const all = optBool(args, 'replace_all') ?? false;
        const expected = optSha256(args, 'expected_sha256');
        if (oldText === '')
          fail('`old_text` must not be empty; use write_file to create or replace a whole file');
        if (oldText === newText) fail('`old_text` and `new_text` are identical; nothing would change');
        const target = await resolveForWrite(
          env.root,
          args.path ?? fail('missing required string field `path`'),
          'path',
        );
        const key = lockKey(env.root, [...target.parent, target.leaf]);
        return withPathLocks([key], async () => {
          let dir: DirRef | null = null;
          try {
            dir = await openDir(env.root, target.parent, { create: false, display: target.display });
            const { text, mode } = await loadTextForEdit(env, dir, target, expected);
            const result = replaceExact(text, oldText, newText, all);
            if (result.matches === 0) {
              fail(`old_text was not found in \`${target.display}\`.${nearMissHint(text, oldText)}`);
            }
            const data = Buffer.from(result.text, 'utf8');
            throwIfAborted(env.signal);
            const staged = await stageWrite(dir, target.leaf, data, target.display, mode, env.signal);
            await commitWrite(staged);
            return {
              path: target.display,
              replacements: result.replaced,
              sha256: sha256Hex(data),
              matches: result.matches,
              ...(result.matches > result.replaced
                ? {
                    notice: `old_text occurs ${result.matches} times; only the first was replaced. Check it was the intended one, or use replace_all / a longer old_text.`,
                  }
                : {}),
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
