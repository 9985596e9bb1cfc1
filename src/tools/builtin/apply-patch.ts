// apply_patch: exact-text hunks across several files, all or nothing. Every hunk is resolved,
// located and applied in memory first; only then are the new versions (and the originals, for
// rollback) staged as fsynced temp files and renamed into place. A failed rename puts the
// already-replaced files back.

import { defineFileTool, type FileToolConfig } from './define-tool.ts';
import { loadTextForEdit } from './edit-file.ts';
import { fail, ToolFailure, throwIfAborted } from './failure.ts';
import { withPathLocks } from './locks.ts';
import {
  abortWrite,
  closeDir,
  commitWrite,
  type DirRef,
  openDir,
  type Staged,
  stageWrite,
} from './secure-fs.ts';
import { nearMissHint, replaceExact, sha256Hex } from './text.ts';
import { lockKey, resolveForWrite, type WriteTarget } from './workspace-path.ts';

const MAX_HUNKS = 1000;

interface Hunk {
  index: number;
  path: string;
  old_text: string;
  new_text: string;
  replace_all: boolean;
  expected_sha256?: string;
}

interface PendingFile {
  key: string;
  target: WriteTarget;
  hunks: Hunk[];
  expected?: string;
  dir?: DirRef;
  original?: string;
  updated?: string;
  mode?: number;
  replacements: number;
}

function parseHunks(args: Record<string, unknown>): Hunk[] {
  const raw = args.hunks;
  if (!Array.isArray(raw))
    fail('`hunks` must be an array of {path, old_text, new_text, replace_all?, expected_sha256?}');
  if (raw.length === 0) fail('`hunks` is empty; give at least one hunk');
  if (raw.length > MAX_HUNKS) fail(`too many hunks (${raw.length}); at most ${MAX_HUNKS} per call`);
  return raw.map((h, index) => {
    const where = `hunks[${index}]`;
    if (!h || typeof h !== 'object' || Array.isArray(h)) fail(`${where} must be an object`);
    const o = h as Record<string, unknown>;
    for (const k of ['path', 'old_text', 'new_text']) {
      if (typeof o[k] !== 'string') fail(`${where}.${k} must be a string`);
    }
    if (o.old_text === '')
      fail(`${where}.old_text must not be empty (apply_patch only changes existing text)`);
    if (o.replace_all !== undefined && typeof o.replace_all !== 'boolean')
      fail(`${where}.replace_all must be a boolean`);
    let expected: string | undefined;
    if (o.expected_sha256 !== undefined && o.expected_sha256 !== null) {
      expected = String(o.expected_sha256).trim().toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(expected))
        fail(`${where}.expected_sha256 must be 64 hexadecimal characters`);
    }
    return {
      index,
      path: o.path as string,
      old_text: o.old_text as string,
      new_text: o.new_text as string,
      replace_all: o.replace_all === true,
      expected_sha256: expected,
    };
  });
}

export function applyPatchTool(config?: FileToolConfig) {
  return defineFileTool(
    {
      name: 'apply_patch',
      description:
        'Apply several exact-text replacements across one or more existing files, all or nothing. Each hunk replaces old_text (exact, non-empty) with new_text in its file; hunks of one file apply in order. If any hunk does not match, no file is changed.',
      input_schema: {
        type: 'object',
        properties: {
          hunks: {
            type: 'array',
            minItems: 1,
            items: {
              type: 'object',
              properties: {
                path: { type: 'string' },
                old_text: { type: 'string', description: 'Exact existing text (non-empty).' },
                new_text: { type: 'string' },
                replace_all: { type: 'boolean' },
                expected_sha256: {
                  type: 'string',
                  description: 'SHA-256 the file must have before the patch.',
                },
              },
              required: ['path', 'old_text', 'new_text'],
            },
          },
        },
        required: ['hunks'],
      },
      side_effects: true,
      timeout_ms: 10_000,
      async run(args, env) {
        const hunks = parseHunks(args);
        const files = new Map<string, PendingFile>();
        for (const hunk of hunks) {
          let target: WriteTarget;
          try {
            target = await resolveForWrite(env.root, hunk.path, `hunks[${hunk.index}].path`);
          } catch (err) {
            if (err instanceof ToolFailure) fail(`hunks[${hunk.index}]: ${err.message}`);
            throw err;
          }
          const key = lockKey(env.root, [...target.parent, target.leaf]);
          const file = files.get(key) ?? { key, target, hunks: [], replacements: 0 };
          if (hunk.expected_sha256 !== undefined) {
            if (file.expected !== undefined && file.expected !== hunk.expected_sha256) {
              fail(`hunks[${hunk.index}]: conflicting expected_sha256 values for \`${target.display}\``);
            }
            file.expected = hunk.expected_sha256;
          }
          file.hunks.push(hunk);
          files.set(key, file);
        }
        return withPathLocks([...files.keys()], async () => {
          const staged: Staged[] = [];
          const rollbacks = new Map<string, Staged>();
          try {
            for (const file of files.values()) {
              const { target } = file;
              file.dir = await openDir(env.root, target.parent, { create: false, display: target.display });
              const loaded = await loadTextForEdit(env, file.dir, target, file.expected);
              file.original = loaded.text;
              file.mode = loaded.mode;
              let text = loaded.text;
              for (const hunk of file.hunks) {
                const r = replaceExact(text, hunk.old_text, hunk.new_text, hunk.replace_all);
                if (r.matches === 0) {
                  const after =
                    file.hunks[0] === hunk ? '' : ' (after applying the earlier hunks for this file)';
                  fail(
                    `hunks[${hunk.index}]: old_text was not found in \`${target.display}\`${after}. No file was changed.${nearMissHint(text, hunk.old_text)}`,
                  );
                }
                text = r.text;
                file.replacements += r.replaced;
              }
              file.updated = text;
            }
            for (const file of files.values()) {
              const { target, dir } = file;
              staged.push(
                await stageWrite(
                  dir!,
                  target.leaf,
                  Buffer.from(file.updated!, 'utf8'),
                  target.display,
                  file.mode,
                  env.signal,
                ),
              );
              rollbacks.set(
                file.key,
                await stageWrite(
                  dir!,
                  target.leaf,
                  Buffer.from(file.original!, 'utf8'),
                  target.display,
                  file.mode,
                  env.signal,
                ),
              );
            }
            throwIfAborted(env.signal);
            // Point of no return: renames only, each undone from its staged original on failure.
            const done: string[] = [];
            for (const [i, file] of [...files.values()].entries()) {
              try {
                await commitWrite(staged[i]!);
              } catch (err) {
                const broken: string[] = [];
                for (const key of done) {
                  const back = rollbacks.get(key)!;
                  await commitWrite(back).catch(() => broken.push(back.display));
                  rollbacks.delete(key);
                }
                const message = err instanceof Error ? err.message : String(err);
                if (broken.length > 0) {
                  fail(
                    `${message}. Rolling back failed for ${broken.join(', ')}: those files hold the patched text.`,
                  );
                }
                fail(`${message}. The files already replaced were restored; no file was changed.`);
              }
              done.push(file.key);
            }
            return {
              changed_files: [...files.values()].map((f) => {
                const bytes = Buffer.from(f.updated!, 'utf8');
                return {
                  path: f.target.display,
                  hunks: f.hunks.length,
                  replacements: f.replacements,
                  bytes_written: bytes.length,
                  sha256: sha256Hex(bytes),
                };
              }),
              file_count: files.size,
            };
          } finally {
            for (const s of [...staged, ...rollbacks.values()]) await abortWrite(s);
            for (const file of files.values()) await closeDir(file.dir);
          }
        });
      },
    },
    config,
  );
}
