// glob_search: files whose path matches a ripgrep-style glob. A pattern without `/` matches the
// file name at any depth (`*.ts`); one with `/` matches the path relative to `base` (`src/**/*.ts`).
import { reqString } from './args.ts';
import { defineFileTool, type FileToolConfig } from './define-tool.ts';
import {
  BASE_SCHEMA,
  checkGlob,
  LIMIT_SCHEMA,
  partialNotice,
  resolveBase,
  resultLimit,
  runSearch,
} from './search-common.ts';

export function globSearchTool(config?: FileToolConfig) {
  return defineFileTool(
    {
      name: 'glob_search',
      description:
        'Find files by glob pattern, e.g. `*.rs` (any depth) or `src/**/*.ts` (relative to base). Supports *, **, ?, [abc] and {a,b}. Returns workspace-relative paths.',
      input_schema: {
        type: 'object',
        properties: {
          pattern: { type: 'string', description: 'Glob pattern.' },
          base: BASE_SCHEMA,
          limit: LIMIT_SCHEMA,
          include_ignored: { type: 'boolean', description: 'Also walk .git and node_modules.' },
        },
        required: ['pattern'],
      },
      side_effects: false,
      timeout_ms: 10_000,
      async run(args, env) {
        const pattern = reqString(args, 'pattern');
        const glob = checkGlob(pattern, 'pattern');
        const base = await resolveBase(env, args, false);
        const limit = resultLimit(env, args);
        const outcome = await runSearch(env, base, args, { kind: 'glob', limit, glob });
        return {
          base: base.target.display,
          pattern,
          paths: outcome.paths,
          ...partialNotice(env, outcome, limit, 'paths'),
        };
      },
    },
    config,
  );
}
