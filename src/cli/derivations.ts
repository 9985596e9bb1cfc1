// `derivations` (api-core §8.5): create, list, get. Each is one call of /v1/derivations through
// the SDK; the subject is one of --asset, --observation, or --session with --offset.
import { type Command, Option } from 'commander';
import {
  type CreateDerivationRequest,
  type DerivationProfile,
  type DerivationSubject,
  DerivationsResource,
  type DerivationView,
} from '../sdk/derivations.ts';
import { itemsOf } from '../sdk/types.ts';
import { UsageError } from './errors.ts';
import { keyValues, oneLine, table, time } from './format.ts';
import { nonEmpty, positiveInt } from './parse.ts';
import type { CliRuntime } from './runtime.ts';

interface CreateFlags {
  profile: DerivationProfile;
  asset?: string;
  observation?: string;
  session?: string;
  offset?: string;
  prompt?: string;
  language?: string;
  timestamps?: string;
  forceRefresh?: boolean;
  retryFailed?: boolean;
}

const subjectText = (s: DerivationSubject): string =>
  s.type === 'asset'
    ? `asset ${s.asset_id}`
    : s.type === 'observation'
      ? `observation ${s.observation_id}`
      : `session ${s.session_id} input ${s.offset}`;

export function renderDerivation(d: DerivationView): string[] {
  const b = d.backend;
  return keyValues([
    ['derivation', d.derivation_id],
    ['profile', `${d.profile} (version ${d.profile_version})`],
    ['subject', subjectText(d.subject)],
    ['status', d.status],
    ['cache', d.cache_status],
    [
      'result',
      d.result_asset_id
        ? `${d.result_asset_id}${d.reused_subject_asset ? ' (the subject itself)' : ''}`
        : undefined,
    ],
    ['backend', b ? `${b.kind} via route ${b.route_id} (${b.provider}, ${b.model})` : undefined],
    ['timestamps', b?.timestamp_asset_id],
    ['error', d.error],
    ['created', time(d.created_at_ms)],
    ['fingerprint', d.source_fingerprint],
  ]);
}

const renderList = (list: DerivationView[]) =>
  list.length === 0
    ? ['no derivations']
    : table(
        ['DERIVATION', 'PROFILE', 'STATUS', 'RESULT', 'SUBJECT'],
        list.map((d) => [
          d.derivation_id,
          d.profile,
          d.status,
          d.result_asset_id ?? '-',
          oneLine(subjectText(d.subject), 60),
        ]),
      );

function subjectOf(f: CreateFlags): DerivationSubject {
  const given = [f.asset, f.observation, f.session].filter((v) => v !== undefined).length;
  if (given !== 1) throw new UsageError('give exactly one subject: --asset, --observation or --session');
  if (f.asset !== undefined) return { type: 'asset', asset_id: f.asset };
  if (f.observation !== undefined) return { type: 'observation', observation_id: f.observation };
  if (f.offset === undefined)
    throw new UsageError('--session needs --offset (the input item position, from 0)');
  const offset = Number(f.offset);
  if (!Number.isInteger(offset) || offset < 0) throw new UsageError('--offset must be a whole number >= 0');
  return { type: 'session_input', session_id: f.session!, offset };
}

export function registerDerivations(program: Command, rt: CliRuntime): void {
  const derivations = program
    .command('derivations')
    .alias('derivation')
    .description('canonical text and visual previews of assets, observations and session input');
  const api = () => new DerivationsResource(rt.client());

  derivations
    .command('create')
    .description('derive (or fetch the cached derivation of) a subject')
    .addOption(
      new Option('--profile <profile>', 'what to derive')
        .choices(['canonical_text', 'visual_preview'])
        .makeOptionMandatory(),
    )
    .option('--asset <asset_id>', 'subject: an asset', nonEmpty)
    .option('--observation <observation_id>', 'subject: an observation', nonEmpty)
    .option('--session <session_id>', 'subject: an input item of this session (with --offset)', nonEmpty)
    .option('--offset <n>', 'position of the input item in the session, from 0')
    .option('--prompt <text>', 'transcription prompt (audio, at most 2000 characters)')
    .option('--language <code>', 'transcription language hint (audio), e.g. en')
    .option('--timestamps <list>', 'transcription timestamps: word, segment or word,segment (whisper-1)')
    .option('--force-refresh', 'recompute even when a cached derivation exists')
    .option('--retry-failed', 'recompute when the cached derivation failed')
    .action(async (f: CreateFlags) => {
      const body: CreateDerivationRequest = { profile: f.profile, subject: subjectOf(f) };
      if (f.prompt !== undefined || f.language !== undefined || f.timestamps !== undefined) {
        body.transcription = {};
        if (f.prompt !== undefined) body.transcription.prompt = f.prompt;
        if (f.language !== undefined) body.transcription.language = f.language;
        if (f.timestamps !== undefined) {
          const list = f.timestamps.split(',').map((s) => s.trim());
          if (list.some((g) => g !== 'word' && g !== 'segment'))
            throw new UsageError('--timestamps takes word, segment or word,segment');
          body.transcription.timestamp_granularities = list as Array<'word' | 'segment'>;
        }
      }
      const view = await api().create(body, { force_refresh: f.forceRefresh, retry_failed: f.retryFailed });
      rt.emit(view, renderDerivation);
    });

  derivations
    .command('list')
    .description('list derivation records (legacy array; --page or --cursor for the paginated envelope)')
    .option('--query <text>', 'substring of the id, profile, subject, result, fingerprint, status or error')
    .option('--page', 'return the paginated envelope')
    .option('--limit <n>', 'at most n derivations (max 100)', positiveInt)
    .option('--cursor <cursor>', 'continue after this page cursor')
    .action(async (f: { query?: string; page?: boolean; limit?: number; cursor?: string }) => {
      const result = await api().list({ query: f.query, page: f.page, limit: f.limit, cursor: f.cursor });
      rt.emit(result, (r) => renderList(itemsOf(r)));
    });

  derivations
    .command('get')
    .alias('show')
    .description('show one derivation record')
    .argument('<derivation_id>')
    .action(async (id: string) => rt.emit(await api().get(id), renderDerivation));
}
