// `runtime set-debug-level | set-system-prompt | revisions | rollback` (ops-runtime §2.7, §11): the
// live settings besides model, permission mode and tool limits, and the revision history.
import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import { RuntimeResource } from '../sdk/resources-admin.ts';
import { DEBUG_LEVELS, type DebugLevel, type JsonObject, type SystemPromptSettings } from '../sdk/types.ts';
import { UsageError } from './errors.ts';
import { keyValues, scalar, table, time } from './format.ts';
import { revision } from './parse.ts';
import type { CliRuntime } from './runtime.ts';

const debugLevel = (value: string): DebugLevel => {
  if (!(DEBUG_LEVELS as readonly string[]).includes(value))
    throw new InvalidArgumentError(`expected one of ${DEBUG_LEVELS.join(', ')}`);
  return value as DebugLevel;
};
const PROMPT_MODES = ['default', 'custom', 'append', 'override'] as const;
type PromptMode = (typeof PROMPT_MODES)[number];
/** Which field of the settings a `--mode` writes the text to; `default` clears the texts. */
const TEXT_FIELD = { custom: 'custom_prompt', append: 'append_prompt', override: 'override_prompt' } as const;

const revisionLine = (v: JsonObject) => `revision: ${scalar((v.config as JsonObject | undefined)?.revision)}`;

export function renderSystemPrompt(settings: SystemPromptSettings): string[] {
  const rows = Object.entries(settings).filter(([, v]) => v !== null && v !== undefined && v !== '');
  if (rows.length === 0) return ['system prompt: default (no custom, appended or override text)'];
  return keyValues(rows.map(([k, v]) => [k, String(v)]));
}

interface PromptFlags {
  mode?: PromptMode;
  contentFile?: string;
  stdin?: boolean;
  language?: string;
  outputStyle?: string;
  clearText?: boolean;
  clearLanguage?: boolean;
  clearOutputStyle?: boolean;
  reset?: boolean;
  expectedRevision?: number;
}

export function registerRuntimeSettingCommands(runtime: Command, rt: CliRuntime): void {
  const api = () => new RuntimeResource(rt.client());
  runtime
    .command('set-debug-level')
    .description('debug capture for future model calls')
    .argument('<level>', DEBUG_LEVELS.join(' | '), debugLevel)
    .option('--expected-revision <n>', 'fail with 409 unless the runtime is at this revision', revision)
    .action(async (level: DebugLevel, opts: { expectedRevision?: number }) => {
      const view = await api().setDebugLevel(level, opts.expectedRevision);
      rt.emit(view, (v) => [`debug level: ${scalar(v.debug_level)}`, revisionLine(v)]);
    });

  runtime
    .command('set-system-prompt [content]')
    .description('change the system prompt every future model call starts with')
    .option('--mode <mode>', `${PROMPT_MODES.join(' | ')} (where the text goes; default: custom)`, (v) => {
      if (!(PROMPT_MODES as readonly string[]).includes(v))
        throw new InvalidArgumentError(`expected one of ${PROMPT_MODES.join(', ')}`);
      return v as PromptMode;
    })
    .option('--content-file <path>', 'read the text from a file')
    .option('--stdin', 'read the text from standard input')
    .option('--language <language>', 'the language answers should be in')
    .option('--output-style <style>', 'the output style answers should follow')
    .option('--clear-text', 'remove the custom, appended and override texts')
    .option('--clear-language', 'remove the language')
    .option('--clear-output-style', 'remove the output style')
    .option('--reset', 'back to the default prompt: clear every setting')
    .option('--expected-revision <n>', 'fail with 409 unless the runtime is at this revision', revision)
    .action(async (content: string | undefined, flags: PromptFlags) => {
      const sources = [content !== undefined, flags.contentFile !== undefined, flags.stdin === true];
      if (sources.filter(Boolean).length > 1)
        throw new UsageError('give the text once: as an argument, --content-file or --stdin');
      let text = content;
      if (flags.contentFile !== undefined) {
        try {
          text = readFileSync(flags.contentFile, 'utf8');
        } catch (err) {
          throw new UsageError(`cannot read ${flags.contentFile}: ${(err as NodeJS.ErrnoException).code}`);
        }
      }
      if (flags.stdin) text = await rt.io.readStdin();
      const current = flags.reset ? {} : (await api().systemPrompt()).settings;
      const next = nextPromptSettings(current, text, flags);
      const view = await api().setSystemPrompt(next, flags.expectedRevision);
      rt.emit(view, (v) => [
        ...renderSystemPrompt((v.system_prompt as SystemPromptSettings) ?? {}),
        revisionLine(v),
      ]);
    });

  runtime
    .command('revisions')
    .description('the current runtime revision and the retained history, newest first (admin)')
    .action(async () => {
      rt.emit(await api().revisions(), (r) => [
        `current revision: ${r.current_revision} (${r.revisions.length - 1} of ${r.history_limit} earlier kept)`,
        ...table(
          ['REVISION', 'SETTING', 'SOURCE', 'WHEN', 'VALUE'],
          r.revisions.map((x) => [
            `${x.revision}${x.current ? ' *' : ''}`,
            x.setting + (x.rollback_of_revision !== undefined ? ` of ${x.rollback_of_revision}` : ''),
            x.source,
            time(x.updated_at_ms) ?? '-',
            summary(x.value),
          ]),
        ),
      ]);
    });

  runtime
    .command('rollback')
    .description('re-apply a retained revision as a new `rollback` revision (default: the previous one)')
    .option('--target-revision <n>', 'the revision to restore', revision)
    .option('--expected-revision <n>', 'fail with 409 unless the runtime is at this revision', revision)
    .option('--skip-hooks', 'pass blocking config_change hooks (recorded as runtime_api_force)')
    .action(async (opts: { targetRevision?: number; expectedRevision?: number; skipHooks?: boolean }) => {
      const body: { target_revision?: number; expected_revision?: number; skip_hooks?: boolean } = {};
      if (opts.targetRevision !== undefined) body.target_revision = opts.targetRevision;
      if (opts.expectedRevision !== undefined) body.expected_revision = opts.expectedRevision;
      if (opts.skipHooks) body.skip_hooks = true;
      const view = await api().rollback(body);
      const config = (view.config as JsonObject | undefined) ?? {};
      rt.emit(view, () => [
        `rolled back to revision ${scalar(body.target_revision ?? 'before the previous')}: now at revision ${scalar(config.revision)}`,
      ]);
    });
}

/** The settings after the flags: a whole object, since the API replaces it as a whole. */
export function nextPromptSettings(
  current: SystemPromptSettings,
  text: string | undefined,
  flags: PromptFlags,
): SystemPromptSettings {
  const next: SystemPromptSettings = { ...current };
  if (flags.clearText || flags.mode === 'default') {
    next.custom_prompt = null;
    next.append_prompt = null;
    next.override_prompt = null;
  }
  if (text !== undefined) {
    if (flags.mode === 'default') throw new UsageError('--mode default takes no text: it clears the texts');
    next[TEXT_FIELD[flags.mode ?? 'custom']] = text;
  }
  if (flags.language !== undefined) next.language = flags.language;
  if (flags.outputStyle !== undefined) next.output_style = flags.outputStyle;
  if (flags.clearLanguage) next.language = null;
  if (flags.clearOutputStyle) next.output_style = null;
  return Object.fromEntries(Object.entries(next).filter(([, v]) => v !== null && v !== undefined));
}

function summary(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
