// `learning-skills` (api-collab §4.6, docs/learning-skills.md): promoted procedural skills. Each
// command is one SDK call; `promote` both creates the draft and moves a rollout on (`--status`).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  type LearningSkillStatus,
  LearningSkillsResource,
  type LearningSkillView,
} from '../sdk/learning-skills.ts';
import { UsageError } from './errors.ts';
import { keyValues, oneLine, table, time } from './format.ts';
import { nonEmpty } from './parse.ts';
import type { CliRuntime } from './runtime.ts';

const STATUSES = ['draft', 'verified', 'canary', 'active', 'revoked'];

function renderSkill(s: LearningSkillView): string[] {
  const last = s.lifecycle_events.at(-1);
  return keyValues([
    ['skill', s.skill_name],
    ['source learning', s.source_learning_id],
    ['status', s.status + (s.revoked_reason ? ` (${s.revoked_reason})` : '')],
    ['verification', `${s.verification_status}${s.real_daemon_verified ? ' (real daemon run)' : ''}`],
    ['fingerprint', s.definition_fingerprint],
    ['rollout', `generation ${s.rollout_generation}`],
    ['evidence', `${s.successful_run_count} successful run(s) in ${s.distinct_session_count} session(s)`],
    ['verifier runs', s.verifier_run_ids.join(', ') || undefined],
    ['canary', `${s.canary_success_count} ok, ${s.canary_failure_count} failed`],
    ['rollback snapshots', String(s.active_snapshot_count)],
    ['skill file', s.skill_path],
    ['last change', last ? `${last['action']} → ${last['to_status']} at ${time(last['at_ms'])}` : undefined],
    ['updated', time(s.updated_at_ms)],
  ]);
}

const list = (v: string, prev: string[] = []) => [...prev, v];

export function registerLearningSkills(program: Command, rt: CliRuntime): void {
  const cmd = program
    .command('learning-skills')
    .description('skills promoted from reviewed procedure learnings (rollout, revoke, rollback)');
  const api = () => new LearningSkillsResource(rt.client());

  cmd
    .command('list')
    .description('promoted skills (filters: --source-learning, --status)')
    .option('--source-learning <learning_id>', 'promoted from this learning')
    .option('--status <status>', STATUSES.join('|'))
    .action(async (f: { sourceLearning?: string; status?: string }) => {
      if (f.status && !STATUSES.includes(f.status))
        throw new UsageError(`--status is one of ${STATUSES.join(', ')}`);
      const items = await api().list({
        ...(f.sourceLearning ? { source_learning_id: f.sourceLearning } : {}),
        ...(f.status ? { status: f.status as LearningSkillStatus } : {}),
      });
      rt.emit(items, (l) =>
        l.length
          ? table(
              ['SKILL', 'STATUS', 'LEARNING', 'CANARY', 'DESCRIPTION'],
              l.map((s) => [
                s.skill_name,
                s.status,
                s.source_learning_id,
                `${s.canary_success_count}/${s.canary_failure_count}`,
                oneLine(String(s.definition['description'] ?? ''), 50),
              ]),
            )
          : ['no promoted skills'],
      );
    });

  cmd
    .command('show')
    .alias('get')
    .description('one promoted skill: status, evidence, canary counts, fingerprint, last change')
    .argument('<skill_name>')
    .action(async (name: string) => rt.emit(await api().get(name), renderSkill));

  cmd
    .command('promote')
    .description(
      'promote a procedure learning (a new skill starts draft), or move its rollout on with --status',
    )
    .argument('<learning_id>')
    .argument('<skill_name>')
    .option('--description <text>', 'one line (a generic one when blank)')
    .option('--when-to-use <text>', 'when the model should pick it')
    .option('--version <text>', 'a version label')
    .option('--instructions <text>', "the skill's instructions (default: the learning's content)")
    .option('--instructions-file <path>', 'the instructions from a file')
    .option('--allowed-tool <name>', 'a tool the child may use (repeatable)', list)
    .option('--blocked-tool <name>', 'a tool the child may not use (repeatable)', list)
    .option('--provider <route>', 'route id for the child')
    .option('--model <name>', 'model for the child')
    .option('--fallback-model <name>', 'fallback model for the child')
    .option('--status <status>', 'draft|verified|canary|active (gated by rollout evidence)', nonEmpty)
    .action(
      async (
        learningId: string,
        skillName: string,
        f: {
          description?: string;
          whenToUse?: string;
          version?: string;
          instructions?: string;
          instructionsFile?: string;
          allowedTool?: string[];
          blockedTool?: string[];
          provider?: string;
          model?: string;
          fallbackModel?: string;
          status?: string;
        },
      ) => {
        if (f.instructions && f.instructionsFile)
          throw new UsageError('give --instructions or --instructions-file');
        const instructions = f.instructionsFile ? readFileSync(f.instructionsFile, 'utf8') : f.instructions;
        const view = await api().promote(learningId, {
          skill_name: skillName,
          ...(f.description !== undefined ? { description: f.description } : {}),
          ...(f.whenToUse !== undefined ? { when_to_use: f.whenToUse } : {}),
          ...(f.version !== undefined ? { version: f.version } : {}),
          ...(instructions !== undefined ? { instructions } : {}),
          ...(f.allowedTool ? { allowed_tools: f.allowedTool } : {}),
          ...(f.blockedTool ? { blocked_tools: f.blockedTool } : {}),
          ...(f.provider ? { provider: f.provider } : {}),
          ...(f.model ? { model: f.model } : {}),
          ...(f.fallbackModel ? { fallback_model: f.fallbackModel } : {}),
          ...(f.status ? { status: f.status as 'draft' } : {}),
        });
        rt.emit(view, renderSkill);
      },
    );

  cmd
    .command('rollout-result')
    .description('record a finished run as verification (draft) or canary (canary) evidence')
    .argument('<skill_name>')
    .argument('<kind>', 'verification|canary')
    .argument('<run_id>')
    .requiredOption('--expect <text>', "text the run's latest output must contain", nonEmpty)
    .option('--fingerprint <sha256>', 'refuse unless this is still the definition fingerprint')
    .action(
      async (name: string, kind: string, runId: string, f: { expect: string; fingerprint?: string }) => {
        if (kind !== 'verification' && kind !== 'canary')
          throw new UsageError('<kind> is verification or canary');
        const view = await api().rolloutResult(name, {
          kind,
          run_id: runId,
          expected_output_contains: f.expect,
          ...(f.fingerprint ? { definition_fingerprint: f.fingerprint } : {}),
        });
        rt.emit(view, renderSkill);
      },
    );

  for (const [verb, what] of [
    ['revoke', 'remove it from the catalog (kept for audit)'],
    ['rollback', 'restore its latest active snapshot'],
  ] as const)
    cmd
      .command(verb)
      .description(what)
      .argument('<skill_name>')
      .option('--reason <text>', 'recorded in its lifecycle (secret-looking text is refused)')
      .action(async (name: string, f: { reason?: string }) => {
        const view =
          verb === 'revoke' ? await api().revoke(name, f.reason) : await api().rollback(name, f.reason);
        rt.emit(view, renderSkill);
      });
}
