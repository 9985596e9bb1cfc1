// Sub-agent spawn quotas (ops-runtime §2.4): `serve` flags, each with env `KHEISH_<UPPER_SNAKE>`,
// plus an optional policy file (TOML or JSON, same snake_case keys, top level or under
// `[subagent_policy]`). Precedence: flag > environment > policy file > default.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { ConfigError } from './serve-options.ts';

export interface SubagentPolicy {
  max_child_depth: number;
  max_live_children_per_parent: number;
  max_live_descendants_per_root: number;
  max_spawns_per_run: number;
  max_live_sidechains_global: number;
  max_live_sidechains_per_session: number;
  spawn_rate_window_ms: number;
  max_spawns_per_session_window: number;
  max_spawns_per_profile_window: number;
  max_spawns_per_project_window: number;
  max_spawns_global_window: number;
  max_spawn_input_tokens_per_request: number;
  max_spawn_output_tokens_per_request: number;
  model_budget_max_total_output_tokens: number;
  model_budget_max_total_cost_usd: number;
  max_spawn_cost_microusd_per_window: number;
  max_spawn_cpu_ms_per_window: number;
  estimated_spawn_cost_microusd: number;
  estimated_spawn_cpu_ms: number;
}

/** The reference daemon's defaults. */
export const DEFAULT_SUBAGENT_POLICY: Readonly<SubagentPolicy> = Object.freeze({
  max_child_depth: 4,
  max_live_children_per_parent: 6,
  max_live_descendants_per_root: 24,
  max_spawns_per_run: 6,
  max_live_sidechains_global: 128,
  max_live_sidechains_per_session: 24,
  spawn_rate_window_ms: 60_000,
  max_spawns_per_session_window: 60,
  max_spawns_per_profile_window: 60,
  max_spawns_per_project_window: 120,
  max_spawns_global_window: 240,
  max_spawn_input_tokens_per_request: 128_000,
  max_spawn_output_tokens_per_request: 64_000,
  model_budget_max_total_output_tokens: 1_000_000,
  model_budget_max_total_cost_usd: 500.0,
  max_spawn_cost_microusd_per_window: 1_000_000,
  max_spawn_cpu_ms_per_window: 240_000,
  estimated_spawn_cost_microusd: 1000,
  estimated_spawn_cpu_ms: 1000,
});

export type SubagentPolicyKey = keyof SubagentPolicy;
export const SUBAGENT_POLICY_KEYS = Object.keys(DEFAULT_SUBAGENT_POLICY) as SubagentPolicyKey[];

/** `max_child_depth` → `--max-child-depth`, `KHEISH_MAX_CHILD_DEPTH`, commander key `maxChildDepth`. */
export const flagOf = (key: string) => `--${key.replaceAll('_', '-')}`;
export const envOf = (key: string) => `KHEISH_${key.toUpperCase()}`;
const camel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

export interface ResolvedSubagentPolicy {
  policy: SubagentPolicy;
  policy_file: string | null;
}

function parseValue(key: SubagentPolicyKey, raw: unknown, where: string): number {
  const value = typeof raw === 'string' ? Number(raw.trim()) : raw;
  const fractional = key === 'model_budget_max_total_cost_usd';
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    value >= 0 &&
    (fractional || Number.isSafeInteger(value)) &&
    !(typeof raw === 'string' && raw.trim() === '');
  if (!ok)
    throw new ConfigError(
      `${where} must be a ${fractional ? 'non-negative number' : 'whole number ≥ 0'} (got ${JSON.stringify(raw)})`,
    );
  return value as number;
}

function readPolicyFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`--subagent-policy-file ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  let doc: Record<string, unknown>;
  try {
    doc = (path.endsWith('.json') ? JSON.parse(text) : parseToml(text)) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`--subagent-policy-file ${path} is not valid: ${(err as Error).message}`);
  }
  const section = doc.subagent_policy;
  const table = section && typeof section === 'object' ? (section as Record<string, unknown>) : doc;
  for (const key of Object.keys(table))
    if (key !== 'subagent_policy' && !(SUBAGENT_POLICY_KEYS as string[]).includes(key))
      throw new ConfigError(
        `--subagent-policy-file ${path}: unknown key \`${key}\` (known: ${SUBAGENT_POLICY_KEYS.join(', ')})`,
      );
  return table;
}

/** Reads the quota flags (commander camelCase keys) and their environment fallbacks. */
export function resolveSubagentPolicy(
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): ResolvedSubagentPolicy {
  const fileFlag = flags.subagentPolicyFile ?? env.KHEISH_SUBAGENT_POLICY_FILE;
  const policyFile = typeof fileFlag === 'string' && fileFlag !== '' ? resolve(fileFlag) : null;
  const file = policyFile ? readPolicyFile(policyFile) : {};
  const policy = { ...DEFAULT_SUBAGENT_POLICY };
  for (const key of SUBAGENT_POLICY_KEYS) {
    const flag = flags[camel(key)];
    const fromEnv = env[envOf(key)];
    if (flag !== undefined && flag !== '') policy[key] = parseValue(key, flag, flagOf(key));
    else if (fromEnv !== undefined && fromEnv !== '') policy[key] = parseValue(key, fromEnv, envOf(key));
    else if (file[key] !== undefined) policy[key] = parseValue(key, file[key], `${policyFile}: ${key}`);
  }
  if (policy.spawn_rate_window_ms < 1) throw new ConfigError('--spawn-rate-window-ms must be at least 1');
  return { policy, policy_file: policyFile };
}

/** `serve` option specs: [flag with value placeholder, help]. */
export function subagentPolicyOptions(): Array<[string, string]> {
  return [
    ...SUBAGENT_POLICY_KEYS.map((key): [string, string] => [
      `${flagOf(key)} <n>`,
      `spawn quota (default ${DEFAULT_SUBAGENT_POLICY[key]}) [env ${envOf(key)}]`,
    ]),
    ['--subagent-policy-file <file>', 'TOML/JSON file with spawn quotas [env KHEISH_SUBAGENT_POLICY_FILE]'],
  ];
}
