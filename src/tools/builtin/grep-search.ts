// grep_search: lines matching a regular expression in workspace files, searched in Node (no
// external binary). Binary files (a NUL byte near the start) and very large files are skipped;
// long lines are shortened around the match. JavaScript regex syntax, close to ripgrep's.
import { optBool, optString, reqString } from './args.ts';
import { defineFileTool, type FileToolConfig } from './define-tool.ts';
import { fail } from './failure.ts';
import {
  BASE_SCHEMA,
  checkGlob,
  LIMIT_SCHEMA,
  partialNotice,
  resolveBase,
  resultLimit,
  runSearch,
} from './search-common.ts';

/** Compiles (never runs) the pattern here so a syntax error comes back before a worker is used. */
function compile(pattern: string, caseInsensitive: boolean): { source: string; flags: string } {
  let source = pattern;
  let insensitive = caseInsensitive;
  // ripgrep users write `(?i)` for case-insensitive; JavaScript has no such prefix.
  if (source.startsWith('(?i)')) {
    source = source.slice(4);
    insensitive = true;
  }
  if (source === '') fail('`pattern` must not be empty');
  const base = insensitive ? 'i' : '';
  for (const flags of [`${base}u`, base]) {
    try {
      new RegExp(source, flags);
      return { source, flags };
    } catch {}
  }
  try {
    new RegExp(source, base);
  } catch (err) {
    fail(`\`pattern\` is not a valid regular expression: ${(err as Error).message}`);
  }
  return { source, flags: base };
}

export function grepSearchTool(config?: FileToolConfig) {
  return defineFileTool(
    {
      name: 'grep_search',
      description:
        'Search file contents with a regular expression (JavaScript syntax; `(?i)` prefix or case_insensitive for case-insensitive). Returns matches as {path, line, text}. Optional `glob` filters files, e.g. `*.ts`. Skips binary files, .git and node_modules.',
      input_schema: {
        type: 'object',
        properties: {
          pattern: { type: 'string', description: 'Regular expression to find in each line.' },
          base: {
            ...BASE_SCHEMA,
            description: 'Directory or single file to search (default: workspace root).',
          },
          glob: {
            type: 'string',
            description: 'Only search files matching this glob (e.g. `*.ts`, `src/**`).',
          },
          case_insensitive: { type: 'boolean', description: 'Match regardless of case.' },
          limit: { ...LIMIT_SCHEMA, description: 'Maximum number of matching lines (default 200).' },
          include_ignored: { type: 'boolean', description: 'Also search .git and node_modules.' },
        },
        required: ['pattern'],
      },
      side_effects: false,
      timeout_ms: 10_000,
      async run(args, env) {
        const pattern = reqString(args, 'pattern');
        const regex = compile(pattern, optBool(args, 'case_insensitive') ?? false);
        const globRaw = optString(args, 'glob');
        const glob = globRaw === undefined || globRaw === '' ? undefined : checkGlob(globRaw, 'glob');
        const base = await resolveBase(env, args, true);
        const limit = resultLimit(env, args);
        const outcome = await runSearch(env, base, args, { kind: 'grep', limit, regex, glob });
        const skipped = outcome.skipped_binary + outcome.skipped_large;
        return {
          base: base.target.display,
          pattern,
          matches: outcome.matches,
          files_searched: outcome.files_searched,
          ...(skipped > 0
            ? { files_skipped: { binary: outcome.skipped_binary, too_large: outcome.skipped_large } }
            : {}),
          ...partialNotice(env, outcome, limit, 'matches'),
        };
      },
    },
    config,
  );
}
