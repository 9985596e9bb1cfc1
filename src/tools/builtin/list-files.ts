// list_files: the files under a workspace directory, depth-first in name order (a directory's own
// files before its subdirectories). `.git` and `node_modules` are skipped unless asked for.
import { optInt } from './args.ts';
import { defineFileTool, type FileToolConfig } from './define-tool.ts';
import {
  BASE_SCHEMA,
  LIMIT_SCHEMA,
  partialNotice,
  resolveBase,
  resultLimit,
  runSearch,
} from './search-common.ts';

export function listFilesTool(config?: FileToolConfig) {
  return defineFileTool(
    {
      name: 'list_files',
      description:
        'List files under a workspace directory (recursively; paths are relative to the workspace root). Skips .git and node_modules unless include_ignored is true; symbolic links are not followed.',
      input_schema: {
        type: 'object',
        properties: {
          base: BASE_SCHEMA,
          limit: LIMIT_SCHEMA,
          depth: {
            type: 'integer',
            minimum: 1,
            description: 'Directory levels to descend (1 = only base itself).',
          },
          include_ignored: { type: 'boolean', description: 'Also walk .git and node_modules.' },
        },
      },
      side_effects: false,
      timeout_ms: 10_000,
      async run(args, env) {
        const base = await resolveBase(env, args, false);
        const limit = resultLimit(env, args);
        const depth = optInt(args, 'depth', { min: 1 }) ?? null;
        const outcome = await runSearch(env, base, args, { kind: 'list', limit, maxDepth: depth });
        return {
          base: base.target.display,
          paths: outcome.paths,
          ...partialNotice(env, outcome, limit, 'paths'),
        };
      },
    },
    config,
  );
}
