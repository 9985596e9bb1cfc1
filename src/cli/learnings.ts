// `learnings` (api-collab §4, docs/learnings.md): candidates (list, create, show, publish,
// reject), published learnings (list, show, revoke, supersede, revoke-matching) and the
// automation policy (get, set). Each command is one SDK call.
import { type Command, InvalidArgumentError } from 'commander';
import {
  type LearningCandidateView,
  type LearningFilters,
  type LearningKind,
  type LearningScopeKind,
  LearningsResource,
  type LearningView,
} from '../sdk/learnings.ts';
import type { JsonObject } from '../sdk/types.ts';
import { jsonInput } from './approvals.ts';
import { UsageError } from './errors.ts';
import { keyValues, oneLine, table, time } from './format.ts';
import { nonEmpty } from './parse.ts';
import type { CliRuntime } from './runtime.ts';

const SCOPE_KINDS = ['session', 'persona', 'project', 'workspace'];

/** `workspace`, or `<kind>:<id>` (session:abc, persona:p, project:x). */
function scope(value: string): { kind: LearningScopeKind; id?: string } {
  const at = value.indexOf(':');
  const kind = at < 0 ? value : value.slice(0, at);
  const id = at < 0 ? undefined : value.slice(at + 1);
  if (!SCOPE_KINDS.includes(kind))
    throw new InvalidArgumentError(`expected workspace or <${SCOPE_KINDS.slice(0, 3).join('|')}>:<id>`);
  if (kind !== 'workspace' && !id) throw new InvalidArgumentError(`${kind} needs an id: ${kind}:<id>`);
  return { kind: kind as LearningScopeKind, ...(id ? { id } : {}) };
}

function intIn(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

const scopeText = (s: { kind: string; id: string }) =>
  s.kind === 'workspace' ? 'workspace' : `${s.kind}:${s.id}`;

function renderCandidate(c: LearningCandidateView): string[] {
  const review = c.automation_review as JsonObject | null;
  return keyValues([
    ['candidate', c.candidate_id],
    ['state', c.state],
    ['origin', c.origin],
    ['scope', scopeText(c.scope)],
    ['kind', c.kind],
    ['sensitivity', c.sensitivity],
    ['confidence', String(c.confidence)],
    ['content', c.content],
    [
      'review',
      review ? `${review.mode}: ${review.action}${review.reason ? ` (${review.reason})` : ''}` : undefined,
    ],
    ['learning', c.published_learning_id ?? undefined],
    ['rejected because', c.reject_reason ?? undefined],
    ['created', time(c.created_at_ms)],
  ]);
}

function renderLearning(l: LearningView): string[] {
  return keyValues([
    ['learning', l.learning_id],
    ['status', l.status],
    ['tier', l.publish_tier],
    ['verification', l.verification_status],
    [
      'decision',
      `${l.policy_decision} by ${l.policy_actor}${l.matched_rule_name ? ` (rule ${l.matched_rule_name})` : ''}`,
    ],
    ['scope', scopeText(l.scope)],
    ['kind', l.kind],
    ['sensitivity', l.sensitivity],
    ['confidence', String(l.confidence)],
    ['content', l.content],
    ['supersedes', l.supersedes ?? undefined],
    ['superseded by', l.superseded_by ?? undefined],
    ['revoked because', l.revoke_reason ?? undefined],
    ['expires', l.expires_at_ms ? time(l.expires_at_ms) : undefined],
    ['created', time(l.created_at_ms)],
  ]);
}

interface FilterFlags {
  query?: string;
  scope?: { kind: LearningScopeKind; id?: string };
  kind?: LearningKind;
  status?: LearningView['status'];
  decision?: LearningView['policy_decision'];
  actor?: LearningView['policy_actor'];
  rule?: string;
}

function learningFilters(f: FilterFlags): LearningFilters {
  const out: LearningFilters = {};
  if (f.query) out.query = f.query;
  if (f.scope) {
    out.scope_kind = f.scope.kind;
    if (f.scope.id) out.scope_id = f.scope.id;
  }
  if (f.kind) out.kind = f.kind;
  if (f.status) out.status = f.status;
  if (f.decision) out.policy_decision = f.decision;
  if (f.actor) out.policy_actor = f.actor;
  if (f.rule) out.matched_rule_name = f.rule;
  return out;
}

function withFilters(cmd: Command): Command {
  return cmd
    .option('--query <text>', 'every word appears in the content')
    .option('--scope <scope>', 'workspace, or session|persona|project:<id>', scope)
    .option('--kind <kind>', 'run_summary, fact, preference, decision or procedure')
    .option('--status <status>', 'active, provisional, revoked, superseded or expired')
    .option('--decision <decision>', 'policy_decision: manual, automatic or escalated')
    .option('--actor <actor>', 'policy_actor: operator, policy or judge')
    .option('--rule <name>', 'matched_rule_name');
}

const learningRows = (list: LearningView[]) =>
  list.length
    ? table(
        ['LEARNING', 'STATUS', 'KIND', 'SCOPE', 'CONTENT'],
        list.map((l) => [l.learning_id, l.status, l.kind, scopeText(l.scope), oneLine(l.content, 50)]),
      )
    : ['no learnings'];

export function registerLearnings(program: Command, rt: CliRuntime): void {
  const group = program
    .command('learnings')
    .alias('learning')
    .description('learning candidates, learnings and their policy');
  const api = () => new LearningsResource(rt.client());
  const candidates = group.command('candidates').description('proposed learnings awaiting review');

  candidates
    .command('list')
    .option('--query <text>', 'every word appears in the content')
    .option('--scope <scope>', 'workspace, or session|persona|project:<id>', scope)
    .option('--kind <kind>', 'fact, preference, decision, procedure or run_summary')
    .option('--state <state>', 'pending, escalated, published or rejected')
    .action(
      async (f: {
        query?: string;
        scope?: { kind: LearningScopeKind; id?: string };
        kind?: LearningKind;
        state?: LearningCandidateView['state'];
      }) => {
        const items = await api().listCandidates({
          ...(f.query ? { query: f.query } : {}),
          ...(f.scope ? { scope_kind: f.scope.kind, ...(f.scope.id ? { scope_id: f.scope.id } : {}) } : {}),
          ...(f.kind ? { kind: f.kind } : {}),
          ...(f.state ? { state: f.state } : {}),
        });
        rt.emit(items, (list) =>
          list.length
            ? table(
                ['CANDIDATE', 'STATE', 'ORIGIN', 'KIND', 'SCOPE', 'CONTENT'],
                list.map((c) => [
                  c.candidate_id,
                  c.state,
                  c.origin,
                  c.kind,
                  scopeText(c.scope),
                  oneLine(c.content, 40),
                ]),
              )
            : ['no candidates'],
        );
      },
    );

  candidates
    .command('create')
    .requiredOption('--scope <scope>', 'workspace, or session|persona|project:<id>', scope)
    .requiredOption('--kind <kind>', 'fact, preference, decision or procedure')
    .requiredOption('--content <text>', 'the statement (at most 1600 characters)', nonEmpty)
    .option('--sensitivity <s>', 'scoped (default) or sensitive')
    .option('--confidence <n>', '0 to 100 (default 80)', intIn(0, 100))
    .option('--source-session <id>', 'the session it came from')
    .option('--source-run <id>', 'the run it came from')
    .action(
      async (f: {
        scope: { kind: LearningScopeKind; id?: string };
        kind: Exclude<LearningKind, 'run_summary'>;
        content: string;
        sensitivity?: 'scoped' | 'sensitive';
        confidence?: number;
        sourceSession?: string;
        sourceRun?: string;
      }) => {
        const source = {
          ...(f.sourceSession ? { session_id: f.sourceSession } : {}),
          ...(f.sourceRun ? { run_id: f.sourceRun } : {}),
        };
        const view = await api().createCandidate({
          scope: f.scope,
          kind: f.kind,
          content: f.content,
          ...(f.sensitivity ? { sensitivity: f.sensitivity } : {}),
          ...(f.confidence !== undefined ? { confidence: f.confidence } : {}),
          ...(Object.keys(source).length ? { source } : {}),
        });
        rt.emit(view, renderCandidate);
      },
    );

  candidates
    .command('show <candidate_id>')
    .action(async (id: string) => rt.emit(await api().getCandidate(id), renderCandidate));

  candidates
    .command('publish <candidate_id>')
    .description('publish as a learning (policy_decision manual, policy_actor operator)')
    .option('--tier <tier>', 'active (default) or provisional')
    .option('--supersedes <learning_id>', 'the active learning this one replaces (active tier only)')
    .option('--content <text>', 'publish this text instead', nonEmpty)
    .option('--confidence <n>', '0 to 100', intIn(0, 100))
    .action(
      async (
        id: string,
        f: { tier?: 'active' | 'provisional'; supersedes?: string; content?: string; confidence?: number },
      ) => {
        const view = await api().publishCandidate(id, {
          ...(f.tier ? { publish_tier: f.tier } : {}),
          ...(f.supersedes ? { supersedes: f.supersedes } : {}),
          ...(f.content ? { content: f.content } : {}),
          ...(f.confidence !== undefined ? { confidence: f.confidence } : {}),
        });
        rt.emit(view, renderLearning);
      },
    );

  candidates
    .command('reject <candidate_id>')
    .option('--reason <text>', 'why (kept on the candidate)')
    .action(async (id: string, f: { reason?: string }) =>
      rt.emit(await api().rejectCandidate(id, f.reason), renderCandidate),
    );

  withFilters(group.command('list').description('published learnings, newest first')).action(
    async (f: FilterFlags) => rt.emit(await api().list(learningFilters(f)), learningRows),
  );
  group
    .command('show <learning_id>')
    .action(async (id: string) => rt.emit(await api().get(id), renderLearning));
  group
    .command('revoke <learning_id>')
    .option('--reason <text>', 'why (kept on the learning)')
    .action(async (id: string, f: { reason?: string }) =>
      rt.emit(await api().revoke(id, f.reason), renderLearning),
    );
  group
    .command('supersede <learning_id>')
    .description('replace with a new active learning in the same scope')
    .requiredOption('--content <text>', 'the replacement statement', nonEmpty)
    .option('--confidence <n>', '0 to 100', intIn(0, 100))
    .action(async (id: string, f: { content: string; confidence?: number }) =>
      rt.emit(
        await api().supersede(id, {
          content: f.content,
          ...(f.confidence !== undefined ? { confidence: f.confidence } : {}),
        }),
        renderLearning,
      ),
    );
  withFilters(group.command('revoke-matching').description('revoke every live learning the filters match'))
    .option('--reason <text>', 'why (kept on each learning)')
    .option('--all', 'allow an empty filter set (revokes every live learning)')
    .action(async (f: FilterFlags & { reason?: string; all?: boolean }) => {
      const res = await api().revokeMatching({
        ...learningFilters(f),
        ...(f.reason ? { reason: f.reason } : {}),
        ...(f.all ? { all: true } : {}),
      });
      rt.emit(res, (r) => [`revoked ${r.revoked_count}`, ...r.learning_ids]);
    });

  const policy = group.command('policy').description('the automation policy (a runtime setting)');
  policy
    .command('get')
    .action(async () => rt.emit(await api().getPolicy(), (p) => [JSON.stringify(p, null, 2)]));
  policy
    .command('set')
    .description('replace the whole policy (send mode explicitly)')
    .option('--file <path>', 'the policy JSON, or the wrapped {"policy": ..., "expected_revision": N} body')
    .option('--stdin', 'read that JSON from standard input')
    .option(
      '--expected-revision <n>',
      'fail with 409 unless the runtime is at this revision',
      intIn(0, Number.MAX_SAFE_INTEGER),
    )
    .action(async (f: { file?: string; stdin?: boolean; expectedRevision?: number }) => {
      if ((f.file !== undefined) === (f.stdin === true))
        throw new UsageError('give exactly one of --file or --stdin');
      const body = (await jsonInput(rt, undefined, f.stdin ? '-' : f.file, 'policy')) as JsonObject;
      const wrapped = body && typeof body === 'object' && 'policy' in body;
      const value = (wrapped ? body.policy : body) as JsonObject;
      const expected =
        f.expectedRevision ?? (wrapped ? (body.expected_revision as number | undefined) : undefined);
      const view = await api().setPolicy(value, expected);
      rt.emit(view, (v) => [
        `mode: ${(v.learning_policy as JsonObject)?.mode}`,
        `revision: ${(v.config as JsonObject)?.revision}`,
      ]);
    });
}
