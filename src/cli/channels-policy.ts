// The autonomy-policy and roster flags of `channels create|update` (ops mirror of api-collab §1.14):
// --autonomy-policy-json / --autonomy-policy-file, then per-field flags on top of them.
import { type Command, InvalidArgumentError } from 'commander';
import type { AutonomyPolicy, ChannelMemberInput } from '../sdk/channels.ts';
import type { JsonObject } from '../sdk/types.ts';
import { jsonInput } from './approvals.ts';
import { UsageError } from './errors.ts';
import type { CliRuntime } from './runtime.ts';

const nonNegativeInt = (value: string): number => {
  if (!/^\d{1,12}$/.test(value.trim())) throw new InvalidArgumentError('expected a non-negative integer');
  return Number(value);
};

const FIELDS: Array<[keyof AutonomyPolicy, string]> = [
  ['max_parallel_public_speakers', '--max-parallel-public-speakers <n>'],
  ['max_agent_replies_per_human_message', '--max-agent-replies-per-human-message <n>'],
  ['member_cooldown_ms', '--member-cooldown-ms <ms>'],
  ['lease_timeout_ms', '--lease-timeout-ms <ms>'],
  ['max_pending_stimuli', '--max-pending-stimuli <n>'],
  ['max_autonomous_root_posts_per_hour', '--max-autonomous-root-posts-per-hour <n>'],
  ['max_active_autonomous_roots', '--max-active-autonomous-roots <n>'],
  ['quiet_period_ms_after_root_post', '--quiet-period-ms-after-root-post <ms>'],
];

const camel = (snake: string) => snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

export function policyOptions(cmd: Command): Command {
  cmd
    .option('--autonomy-policy-json <json>', 'autonomy policy fields (a JSON object)')
    .option('--autonomy-policy-file <file>', 'autonomy policy from a JSON file (- for standard input)');
  for (const [field, flag] of FIELDS) cmd.option(flag, `autonomy_policy.${field}`, nonNegativeInt);
  return cmd
    .option(
      '--default-participation-mode <mode>',
      'manual_only, selected_only, prefer_selected or always_listen',
    )
    .option('--metadata-json <json>', 'metadata (a JSON object)')
    .option('--metadata-file <file>', 'metadata from a JSON file');
}

/** The policy the flags give (JSON first, per-field flags on top), or undefined when none. */
export async function policyOf(
  rt: CliRuntime,
  f: Record<string, unknown>,
): Promise<Partial<AutonomyPolicy> | undefined> {
  const json = await jsonInput(
    rt,
    f.autonomyPolicyJson as string | undefined,
    f.autonomyPolicyFile as string | undefined,
    'autonomy-policy',
  );
  if (json !== undefined && (typeof json !== 'object' || json === null || Array.isArray(json)))
    throw new UsageError('the autonomy policy must be a JSON object');
  const policy: Record<string, unknown> = { ...(json as object | undefined) };
  for (const [field] of FIELDS) {
    const v = f[camel(field)];
    if (v !== undefined) policy[field] = v;
  }
  return Object.keys(policy).length || json !== undefined ? (policy as Partial<AutonomyPolicy>) : undefined;
}

export async function metadataOf(
  rt: CliRuntime,
  f: Record<string, unknown>,
): Promise<JsonObject | undefined> {
  const v = await jsonInput(
    rt,
    f.metadataJson as string | undefined,
    f.metadataFile as string | undefined,
    'metadata',
  );
  return v as JsonObject | undefined;
}

export async function membersOf(
  rt: CliRuntime,
  f: Record<string, unknown>,
): Promise<ChannelMemberInput[] | undefined> {
  const v = await jsonInput(
    rt,
    f.membersJson as string | undefined,
    f.membersFile as string | undefined,
    'members',
  );
  if (v !== undefined && !Array.isArray(v))
    throw new UsageError('--members-json/--members-file must be a JSON array');
  return v as ChannelMemberInput[] | undefined;
}
